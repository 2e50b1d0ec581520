"""Benchmark of the generate stage: offline generation.

    python -m bench.bench_generate [--variants 40] [--write]

* generation: seed-based mutation on the real seeds (``data/seeds``) + skill composition, in
  tasks/s; baseline: ``json.dumps`` of the same tasks (what merely writing them costs).

The validity gate runs in the execute stage now: ``bench/bench_gate.py``.

``--write`` replaces the "generate" section of bench/RESULTS.md (command, machine, date, numbers).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
from pathlib import Path
from bench._results import machine as describe_machine, write_section

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "RESULTS.md"




def bench_generation(variants: int, skill_tasks: int) -> dict[str, float]:
    from termcorpus.generate.pipeline import generate_tasks
    from termcorpus.generate.catalog import build_catalog

    catalog = build_catalog(seeds_dir=REPO / "data/seeds", skills_dir=REPO / "data/skills")
    t0 = time.perf_counter()
    result = generate_tasks(catalog.seeds, catalog.taxonomy, seed=1234, n_variants=variants,
                            n_heldout_variants=2, skill_tasks=skill_tasks)
    gen_sec = time.perf_counter() - t0
    tasks = result.tasks + result.heldout
    dumped = [t.model_dump() for t in tasks]
    t0 = time.perf_counter()
    n_bytes = sum(len(json.dumps(d)) for d in dumped)
    dump_sec = time.perf_counter() - t0
    return {"n_tasks": len(tasks), "n_skill_tasks": sum(t.source == "skill" for t in tasks),
            "gen_per_sec": len(tasks) / gen_sec, "dump_per_sec": len(tasks) / dump_sec,
            "mb": n_bytes / 1e6}


def _section(command: str, machine: str, g: dict) -> str:
    today = datetime.date.today().isoformat()
    return f"""## generate

Command: `{command}` (date {today}; machine: {machine}).

| measure | tasks/s | baseline (same run) | baseline tasks/s | ratio |
|---|---:|---|---:|---:|
| offline generation, real seeds ({g['n_tasks']} tasks, {g['n_skill_tasks']} skill-composed) | {g['gen_per_sec']:,.0f} | `json.dumps` of the same tasks | {g['dump_per_sec']:,.0f} | {g['gen_per_sec'] / g['dump_per_sec']:.3f}x |

Generation goal: >= 2,000 tasks/s. The validity gate moved to the execute stage
(`bench/bench_gate.py`, section "gate").
"""




def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--variants", type=int, default=40, help="Training variants per seed to generate.")
    ap.add_argument("--skill-tasks", type=int, default=500, help="Skill-composed tasks to generate.")
    ap.add_argument("--write", action="store_true", help="Write the results into bench/RESULTS.md.")
    args = ap.parse_args()
    machine = describe_machine()
    print(f"machine: {machine}")
    g = bench_generation(args.variants, args.skill_tasks)
    print(f"generation: {g['n_tasks']} tasks at {g['gen_per_sec']:,.0f} tasks/s; json.dumps baseline "
          f"{g['dump_per_sec']:,.0f} tasks/s; ratio {g['gen_per_sec'] / g['dump_per_sec']:.3f}x")
    if args.write:
        cmd = "python -m bench.bench_generate " + " ".join(sys.argv[1:])
        write_section('generate', _section(cmd.strip(), machine, g))
        print(f"wrote {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
