"""DVC stage `generate`: seed-based mutation (+ skill composition) into training and held-out tasks.

Library: termcorpus.stages.generate (writes OUT/tasks.jsonl and OUT/heldout.jsonl).
"""

from termcorpus.runtime import run_stage
from termcorpus.stages.generate import run

if __name__ == "__main__":
    run_stage(
        run, __doc__,
        seeds="Normalized seeds (JSONL) from the seed stage.",
        taxonomy="Skill taxonomy (JSON) from the seed stage.",
        adapter_tasks="Dataset-adapter tasks (JSONL) from the seed stage, added to the training pool.",
        out="Directory for tasks.jsonl and heldout.jsonl.",
        metrics="Metrics JSON to write.",
        detail="Per-skill detail JSON to write (reports/generate_detail.json).",
    )
