"""Stage `validate`: the Great Expectations suite over the trajectories.

Writes the metrics and an HTML report; a failing suite raises (after writing both), so the
stage exits 2 and `dvc repro` stops before the corpus is built.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from termcorpus.params import ValidateParams
from termcorpus.validate import validate_trajectories


# The path options of stages/validate.py (runtime.run_stage): parameter of run -> help text.
PATHS: dict[str, str] = {
    "trajectories": "Trajectory JSONL to validate.",
    "taxonomy": "taxonomy.json from the seed stage.",
    "suite": "Great Expectations suite (JSON).",
    "out": "Metrics JSON to write.",
    "detail": "Write the full metrics (per-domain/skill detail) to this JSON; --metrics gets the headline.",
    "docs": "Directory for the HTML report.",
}


def run(*, trajectories: Path, taxonomy: Path, suite: Path, out: Path, docs: Path, detail: Path | None = None,
        params: ValidateParams) -> dict[str, Any]:
    """Validate, write the metrics (``out``), the detail and the data docs; return the metrics."""
    metrics = validate_trajectories(trajectories=trajectories, taxonomy=taxonomy, suite=suite, params=params,
                                    docs_dir=docs, out=out, detail=detail)
    c = metrics["counts"]
    print(f"validate: {c['records']} trajectories passed {c['expectations']} expectations")
    return metrics
