"""DVC stage `validate`: run the Great Expectations suite over the trajectories.

A failing suite exits 2 (after writing the metrics and the HTML report), so `dvc repro` stops
before the corpus is built. Library: termcorpus.stages.validate.
"""

from termcorpus.runtime import run_stage
from termcorpus.stages.validate import PATHS, run

if __name__ == "__main__":
    run_stage(run, __doc__, **PATHS)
