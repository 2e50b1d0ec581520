"""DVC stage `validate`: run the Great Expectations suite over the trajectories.

Writes metrics/validation.json and an HTML report; a failing suite exits 2 (after writing both),
so `dvc repro` stops before the corpus is built.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from termcorpus.params import load_section
from termcorpus.runtime import stage_main
from termcorpus.validate import validate_trajectories


@stage_main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trajectories", type=Path, required=True, help="Trajectory JSONL to validate.")
    ap.add_argument("--taxonomy", type=Path, required=True, help="taxonomy.json from the seed stage.")
    ap.add_argument("--suite", type=Path, required=True, help="Great Expectations suite (JSON).")
    ap.add_argument("--out", type=Path, required=True, help="Metrics JSON to write.")
    ap.add_argument("--detail", type=Path, default=None,
                    help="Write the full metrics (per-domain/skill detail) to this JSON; --metrics gets the headline.")
    ap.add_argument("--docs", type=Path, required=True, help="Directory for the HTML report.")
    args = ap.parse_args()
    params = load_section("validate", "params.yaml")
    metrics = validate_trajectories(
        trajectories=args.trajectories,
        taxonomy=args.taxonomy,
        suite=args.suite,
        params=params,
        docs_dir=args.docs,
        out=args.out,
        detail=args.detail,
    )
    c = metrics["counts"]
    print(f"validate: {c['records']} trajectories passed {c['expectations']} expectations")


if __name__ == "__main__":
    main()
