"""DVC stage `execute`: the teacher agent solves every task in the sandbox; record, verify, gate.

Library: termcorpus.stages.execute (writes OUT/trajectories.jsonl and OUT/gate.jsonl).
"""

from termcorpus.runtime import run_stage
from termcorpus.stages.execute import run

if __name__ == "__main__":
    run_stage(
        run, __doc__,
        tasks="Read tasks from this JSONL file.",
        heldout="Gate these held-out tasks too (JSONL); evaluate skips the ones that fail.",
        seeds="Name the seeds version from this file.",
        out="Write trajectories.jsonl and gate.jsonl into this directory.",
        metrics="Write metrics JSON here.",
        detail="Write the full metrics (per-domain/skill detail) to this JSON; --metrics gets the headline.",
        journal="Keep the resume journal in this file (outside the outs: DVC deletes outs before a rerun).",
    )
