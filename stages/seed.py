"""DVC stage `seed`: check the human-written seeds and skills, write them normalized.

    python stages/seed.py --seeds data/seeds --skills data/skills --out data/seeds.jsonl \
        --taxonomy-out data/taxonomy.json --adapter-out data/adapter_tasks.jsonl --metrics metrics/seed.json

The dataset adapters of ``seed.adapters`` (tasks/adapters.py) run here: each record becomes a
task, built by running its gold command or reference program once in the bwrap sandbox.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from termcorpus.params import load_section
from termcorpus.records import write_jsonl
from termcorpus.runtime import stage_main
from termcorpus.sandbox import SandboxConfig
from termcorpus.tasks.adapters import build_tasks
from termcorpus.tasks.catalog import build_catalog, write_catalog
from termcorpus.tracking.metrics import write_stage_metrics


@stage_main
def main() -> None:
    ap = argparse.ArgumentParser(description="Check seeds and skills; write seeds.jsonl and taxonomy.json.")
    ap.add_argument("--seeds", required=True, help="Directory of seed YAML files.")
    ap.add_argument("--skills", required=True, help="Directory of skill YAML files.")
    ap.add_argument("--out", required=True, help="Normalized seeds (JSONL) to write.")
    ap.add_argument("--taxonomy-out", required=True, help="Normalized skill taxonomy (JSON) to write.")
    ap.add_argument("--adapter-out", default="", help="Tasks of the dataset adapters (JSONL) to write "
                    "(without it the adapters of seed.adapters are not run).")
    ap.add_argument("--metrics", required=True, help="Metrics JSON to write.")
    ap.add_argument("--detail", type=Path, default=None,
                    help="Write the full metrics (per-domain/skill detail) to this JSON; --metrics gets the headline.")
    args = ap.parse_args()
    params = load_section("seed", "params.yaml")

    catalog = build_catalog(seeds_dir=args.seeds, skills_dir=args.skills, strict=params.strict)
    for problem in catalog.skipped:
        print(f"warning: skipped {problem}", file=sys.stderr)
    sources = params.adapters if args.adapter_out else []
    if params.adapters and not sources:
        print("note: seed.adapters not run (no --adapter-out given)", file=sys.stderr)
    # Adapters first: a bad source stops the stage before any out is written.
    adapted = build_tasks(sources, SandboxConfig(backend="bwrap"), strict=params.strict,
                          known_skills={s.id for s in catalog.taxonomy.skills})
    write_catalog(catalog, seeds_out=args.out, taxonomy_out=args.taxonomy_out)
    if args.adapter_out:
        write_jsonl(args.adapter_out, adapted.tasks)
    write_stage_metrics("seed", {**catalog.metrics(), **adapted.metrics()}, args.metrics, args.detail)
    print(f"seed: {len(catalog.seeds)} seeds, {len(catalog.taxonomy.skills)} skills, "
          f"{len(adapted.tasks)} adapter tasks", file=sys.stderr)


if __name__ == "__main__":
    main()
