"""DVC stage `train`: train the terminal agent on the curated corpus and register it.

Also runs under `accelerate launch --config_file configs/accelerate/<setup>.yaml stages/train.py ...`;
only the main process writes the outs. Library: termcorpus.stages.train.
"""

from termcorpus.runtime import run_stage
from termcorpus.stages.train import PATHS, run

if __name__ == "__main__":
    run_stage(run, __doc__, **PATHS)
