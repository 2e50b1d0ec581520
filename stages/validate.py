"""DVC stage `validate`: run the Great Expectations suite over the trajectories.

A failing suite exits 2 (after writing the metrics and the HTML report), so `dvc repro` stops
before the corpus is built. Library: termcorpus.stages.validate.
"""

from termcorpus.runtime import run_stage
from termcorpus.stages.validate import run

if __name__ == "__main__":
    run_stage(
        run, __doc__,
        trajectories="Trajectory JSONL to validate.",
        taxonomy="taxonomy.json from the seed stage.",
        suite="Great Expectations suite (JSON).",
        out="Metrics JSON to write.",
        detail="Write the full metrics (per-domain/skill detail) to this JSON; --metrics gets the headline.",
        docs="Directory for the HTML report.",
    )
