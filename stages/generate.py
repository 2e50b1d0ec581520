"""DVC stage `generate`: seed-based mutation (+ skill composition) into training and held-out tasks.

Library: termcorpus.stages.generate (writes OUT/tasks.jsonl and OUT/heldout.jsonl).
"""

from termcorpus.runtime import run_stage
from termcorpus.stages.generate import PATHS, run

if __name__ == "__main__":
    run_stage(run, __doc__, **PATHS)
