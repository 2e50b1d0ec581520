"""DVC stage `seed`: check the human-written seeds and skills, write them normalized.

Also runs the dataset adapters of ``seed.adapters`` (library: termcorpus.stages.seed).
"""

from termcorpus.runtime import run_stage
from termcorpus.stages.seed import PATHS, run

if __name__ == "__main__":
    run_stage(run, __doc__, **PATHS)
