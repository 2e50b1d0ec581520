"""DVC stage `train`: train the terminal agent on the curated corpus and register it.

Also runs under `accelerate launch --config_file configs/accelerate/<setup>.yaml stages/train.py ...`;
only the main process writes the outs. Library: termcorpus.stages.train.
"""

from termcorpus.runtime import run_stage
from termcorpus.stages.train import run

if __name__ == "__main__":
    run_stage(
        run, __doc__,
        corpus="Read the curated dataset from this directory.",
        out="Write the checkpoint into this directory.",
        metrics="Write the training metrics JSON here.",
        detail="Write the detail JSON (drops, loss curve, sizes) here.",
        plots="Write the loss curve CSV (step,loss) here.",
        live="Log loss and metrics with dvclive into this directory.",
    )
