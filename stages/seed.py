"""DVC stage `seed`: check the human-written seeds and skills, write them normalized.

    python stages/seed.py --seeds data/seeds --skills data/skills --out data/seeds.jsonl \
        --taxonomy-out data/taxonomy.json --metrics metrics/seed.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from termcorpus.params import load_section
from termcorpus.runtime import stage_main
from termcorpus.tasks.catalog import build_catalog, write_catalog
from termcorpus.tracking.metrics import write_stage_metrics


@stage_main
def main() -> None:
    ap = argparse.ArgumentParser(description="Check seeds and skills; write seeds.jsonl and taxonomy.json.")
    ap.add_argument("--seeds", required=True, help="Directory of seed YAML files.")
    ap.add_argument("--skills", required=True, help="Directory of skill YAML files.")
    ap.add_argument("--out", required=True, help="Normalized seeds (JSONL) to write.")
    ap.add_argument("--taxonomy-out", required=True, help="Normalized skill taxonomy (JSON) to write.")
    ap.add_argument("--metrics", required=True, help="Metrics JSON to write.")
    ap.add_argument("--detail", type=Path, default=None,
                    help="Write the full metrics (per-domain/skill detail) to this JSON; --metrics gets the headline.")
    args = ap.parse_args()
    params = load_section("seed", "params.yaml")

    catalog = build_catalog(seeds_dir=args.seeds, skills_dir=args.skills, strict=params.strict)
    for problem in catalog.skipped:
        print(f"warning: skipped {problem}", file=sys.stderr)
    write_catalog(catalog, seeds_out=args.out, taxonomy_out=args.taxonomy_out)
    write_stage_metrics("seed", catalog.metrics(), args.metrics, args.detail)
    print(f"seed: {len(catalog.seeds)} seeds, {len(catalog.taxonomy.skills)} skills", file=sys.stderr)


if __name__ == "__main__":
    main()
