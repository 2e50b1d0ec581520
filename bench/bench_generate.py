"""Benchmark of the generate stage: offline generation and the validity gate.

    python -m bench.bench_generate [--variants 40] [--gate-tasks 24] [--workers 2] [--write]

* generation: seed-based mutation on the real seeds (``data/seeds``) + skill composition, in
  tasks/s; baseline: ``json.dumps`` of the same tasks (what merely writing them costs);
* validity gate: ``run_gate`` (oracle, null and 3 shortcut agents, each an episode in bwrap +
  a verifier sandbox) over one task per family, in tasks/s; baseline: the oracle solution +
  test run by plain ``bash`` subprocesses in a temp dir (``tasks.check.run_local``), no sandbox.

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
    from termcorpus.tasks.catalog import build_catalog

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


def bench_gate(n_tasks: int, workers: int) -> dict[str, float]:
    from termcorpus.generate.gate import run_gate, sample_per_family
    from termcorpus.generate.pipeline import generate_tasks
    from termcorpus.sandbox import SandboxConfig
    from termcorpus.tasks.catalog import build_catalog
    from termcorpus.tasks.check import run_local

    catalog = build_catalog(seeds_dir=REPO / "data/seeds", skills_dir=REPO / "data/skills")
    pool = generate_tasks(catalog.seeds, catalog.taxonomy, seed=1234, n_variants=2, n_heldout_variants=0).tasks
    tasks = [pool[i] for i in sample_per_family(pool, 1, seed=0)][:n_tasks]

    t0 = time.perf_counter()
    ok = sum(run_local(t, oracle=True).passed for t in tasks)
    base_sec = time.perf_counter() - t0

    cfg = SandboxConfig(backend="bwrap", timeout_sec=20.0, memory_mb=1024)
    t0 = time.perf_counter()
    report = run_gate(tasks, cfg, workers, desc="bench gate")
    gate_sec = time.perf_counter() - t0
    episodes = sum(len(v.outcomes) for v in report.verdicts.values())
    return {"n_tasks": len(tasks), "workers": workers, "gate_per_sec": len(tasks) / gate_sec,
            "episodes_per_sec": episodes / gate_sec, "base_per_sec": len(tasks) / base_sec,
            "base_passed": ok, "kept": len(report.kept)}


def _section(command: str, machine: str, g: dict, v: dict) -> str:
    today = datetime.date.today().isoformat()
    return f"""## generate

Command: `{command}` (date {today}; machine: {machine}).

| measure | tasks/s | baseline (same run) | baseline tasks/s | ratio |
|---|---:|---|---:|---:|
| offline generation, real seeds ({g['n_tasks']} tasks, {g['n_skill_tasks']} skill-composed) | {g['gen_per_sec']:,.0f} | `json.dumps` of the same tasks | {g['dump_per_sec']:,.0f} | {g['gen_per_sec'] / g['dump_per_sec']:.3f}x |
| validity gate, bwrap, {v['workers']} workers ({v['n_tasks']} tasks, {v['episodes_per_sec']:.1f} episodes/s, {v['kept']} kept) | {v['gate_per_sec']:.2f} | oracle solution + test by plain `bash` subprocess, 1 process, no sandbox | {v['base_per_sec']:.2f} | {v['gate_per_sec'] / v['base_per_sec']:.3f}x |

Generation goal: >= 2,000 tasks/s. The gate runs 5 episodes per kept task (oracle, null,
empty_files, copy_values, exit_early), each with an agent sandbox and a verifier sandbox; the
baseline runs one unsandboxed oracle pass. Default run: 672 training + 112 held-out tasks;
gating them all would take minutes, so the stage gates 2 variants per family
(`generate.gate_sample_per_family`) plus every held-out task.
"""




def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--variants", type=int, default=40, help="Training variants per seed to generate.")
    ap.add_argument("--skill-tasks", type=int, default=500, help="Skill-composed tasks to generate.")
    ap.add_argument("--gate-tasks", type=int, default=24, help="Tasks to gate (one per family).")
    ap.add_argument("--workers", type=int, default=2, help="Gate worker processes.")
    ap.add_argument("--write", action="store_true", help="Write the results into bench/RESULTS.md.")
    args = ap.parse_args()
    machine = describe_machine()
    print(f"machine: {machine}")
    g = bench_generation(args.variants, args.skill_tasks)
    print(f"generation: {g['n_tasks']} tasks at {g['gen_per_sec']:,.0f} tasks/s; json.dumps baseline "
          f"{g['dump_per_sec']:,.0f} tasks/s; ratio {g['gen_per_sec'] / g['dump_per_sec']:.3f}x")
    v = bench_gate(args.gate_tasks, args.workers)
    print(f"gate: {v['n_tasks']} tasks at {v['gate_per_sec']:.2f} tasks/s ({v['episodes_per_sec']:.1f} episodes/s, "
          f"{v['workers']} workers); plain-subprocess oracle baseline {v['base_per_sec']:.2f} tasks/s; "
          f"ratio {v['gate_per_sec'] / v['base_per_sec']:.3f}x")
    if args.write:
        cmd = "python -m bench.bench_generate " + " ".join(sys.argv[1:])
        write_section('generate', _section(cmd.strip(), machine, g, v))
        print(f"wrote {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
