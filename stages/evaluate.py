"""DVC stage `evaluate`: the fine-tuned agent vs its base and a retrieval baseline on held-out tasks, in the sandbox.

Library: termcorpus.stages.evaluate (reads params sections evaluate, execute and mlflow).
"""

from termcorpus.runtime import run_stage
from termcorpus.stages.evaluate import PATHS, run

if __name__ == "__main__":
    run_stage(run, __doc__, **PATHS)
