"""DVC stage `balance`: filter, balance and split the validated trajectories into the corpus.

Refuses to run when the validation report says the gate failed. Library: termcorpus.stages.balance.
"""

from termcorpus.runtime import run_stage
from termcorpus.stages.balance import PATHS, run

if __name__ == "__main__":
    run_stage(run, __doc__, **PATHS)
