"""DVC stage `seed`: check the human-written seeds and skills, write them normalized.

Also runs the dataset adapters of ``seed.adapters`` (library: termcorpus.stages.seed).
"""

from termcorpus.runtime import run_stage
from termcorpus.stages.seed import run

if __name__ == "__main__":
    run_stage(
        run, __doc__,
        seeds="Directory of seed YAML files.",
        skills="Directory of skill YAML files.",
        out="Normalized seeds (JSONL) to write.",
        taxonomy_out="Normalized skill taxonomy (JSON) to write.",
        adapter_out="Tasks of the dataset adapters (JSONL) to write (without it the adapters of seed.adapters are not run).",
        metrics="Metrics JSON to write.",
        detail="Write the full metrics (per-domain/skill detail) to this JSON; --metrics gets the headline.",
    )
