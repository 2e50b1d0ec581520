"""DVC stage `execute`: the teacher agent solves every task in the sandbox; record, verify, gate.

Library: termcorpus.stages.execute (writes OUT/trajectories.jsonl and OUT/gate.jsonl).
"""

from termcorpus.runtime import run_stage
from termcorpus.stages.execute import PATHS, run

if __name__ == "__main__":
    run_stage(run, __doc__, **PATHS)
