"""DVC stage `generate`: seed-based mutation (+ skill composition) into training and held-out tasks.

    python stages/generate.py --seeds data/seeds.jsonl --taxonomy data/taxonomy.json \
        --out data/tasks --metrics metrics/generate.json

Writes ``OUT/tasks.jsonl`` (training pool) and ``OUT/heldout.jsonl`` (held-out variants).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from termcorpus.generate.pipeline import generate_tasks
from termcorpus.params import load_section
from termcorpus.records import write_json, write_jsonl
from termcorpus.runtime import stage_main
from termcorpus.tasks.catalog import read_seeds, read_taxonomy


@stage_main
def main() -> None:
    ap = argparse.ArgumentParser(description="Generate task variants from the normalized seeds.")
    ap.add_argument("--seeds", required=True, help="Normalized seeds (JSONL) from the seed stage.")
    ap.add_argument("--taxonomy", required=True, help="Skill taxonomy (JSON) from the seed stage.")
    ap.add_argument("--out", required=True, help="Directory for tasks.jsonl and heldout.jsonl.")
    ap.add_argument("--metrics", required=True, help="Metrics JSON to write.")
    args = ap.parse_args()
    p = load_section("generate", "params.yaml")

    taxonomy = read_taxonomy(args.taxonomy)
    seeds = read_seeds(args.seeds, taxonomy)
    start = time.perf_counter()
    result = generate_tasks(
        seeds, taxonomy, seed=p.seed, n_variants=p.n_variants, n_heldout_variants=p.n_heldout_variants,
        skill_tasks=p.skill_tasks, min_skills=p.min_skills, max_skills=p.max_skills,
        domains=p.domains, max_seeds=p.max_seeds,
    )
    elapsed = time.perf_counter() - start
    out = Path(args.out)
    write_jsonl(out / "tasks.jsonl", result.tasks)
    write_jsonl(out / "heldout.jsonl", result.heldout)
    write_json(args.metrics, result.metrics())
    # the rate goes to the console only: metrics files hold no wall-clock numbers
    n = len(result.tasks) + len(result.heldout)
    print(f"generate: {len(result.tasks)} tasks + {len(result.heldout)} held-out from {result.n_seeds} seeds "
          f"({n / max(elapsed, 1e-9):.0f} tasks/s)", file=sys.stderr)


if __name__ == "__main__":
    main()
