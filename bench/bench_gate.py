"""Benchmark of the validity gate against the execute stage it runs in, in the same run.

    python -m bench.bench_gate [--tasks 300] [--workers 2] [--repeat 1] [--write]

The tasks are the default pipeline's: ``generate_tasks`` with params.yaml's ``generate`` section
(seed-based variants, skill compositions and the held-out sets, as the generate stage makes them).
``--tasks`` training tasks are drawn at random (seed 0), and held-out tasks in the stage's own
proportion (held-out / training), bwrap sandbox, ``--workers`` processes each:

* execute: ``execute_tasks`` with the oracle teacher on the training tasks (agent sandbox,
  commands, verifier in place), the stage's own work;
* gate: ``run_gate`` as the execute stage runs it: on the training tasks the oracle verdicts are
  reused from those trajectories, then the null and shortcut probes run in one sandbox session
  per task; on the held-out tasks the oracle runs first (execute does not run them).

Goal (issue 16): gate wall time <= execute wall time (ratio <= 1.0). Runs alternate
(execute, gate, execute, gate, ...) so that a change in machine load hits both. ``--write``
replaces the "gate" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import random
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from bench._results import machine as describe_machine, write_section

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "RESULTS.md"
GOAL_RATIO = 1.0


def _tasks(n: int):  # type: ignore[no-untyped-def]
    """``n`` training tasks and the stage's share of held-out tasks, from params.yaml's generation."""
    from termcorpus.generate.catalog import build_catalog
    from termcorpus.params import load_section
    from termcorpus.stages.generate import generate_from_params

    p = load_section("generate", REPO / "params.yaml")
    catalog = build_catalog(seeds_dir=REPO / "data/seeds", skills_dir=REPO / "data/skills")
    result = generate_from_params(catalog.seeds, catalog.taxonomy, p)
    rng = random.Random(0)
    train, held = list(result.tasks), list(result.heldout)
    n_held = round(n * len(held) / max(len(train), 1))
    return rng.sample(train, min(n, len(train))), rng.sample(held, min(n_held, len(held)))


def _params(workers: int) -> SimpleNamespace:
    from termcorpus.params import ExecuteParams

    return SimpleNamespace(**{**vars(ExecuteParams()), "workers": workers, "teacher": "oracle", "sandbox": "bwrap"})


def run_once(tasks, heldout, workers: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    from termcorpus.execute.gate import run_gate
    from termcorpus.execute.pool import execute_tasks
    from termcorpus.records import Trajectory
    from termcorpus.sandbox import SandboxConfig

    params = _params(workers)
    with tempfile.TemporaryDirectory(prefix="bench-gate-") as tmp:
        out = Path(tmp) / "trajectories.jsonl"
        t0 = time.perf_counter()
        execute_tasks(tasks, params=params, seeds_digest="bench", git_rev="bench", out_path=out)
        exec_sec = time.perf_counter() - t0
        passed = {t.task_id: t.passed for t in
                  (Trajectory.model_validate_json(line) for line in out.read_text().splitlines())}
    sandbox = SandboxConfig.from_params(params)
    t0 = time.perf_counter()
    train = run_gate(tasks, sandbox, workers, oracle_passed=passed, desc="bench gate")
    held = run_gate(heldout, sandbox, workers, desc="bench gate held-out")
    gate_sec = time.perf_counter() - t0
    return {"exec_sec": exec_sec, "gate_sec": gate_sec, "kept": len(train.kept) + len(held.kept),
            "dropped": dict(train.drops_by_reason + held.drops_by_reason)}


def _section(command: str, machine: str, n: int, n_held: int, workers: int, runs: list[dict]) -> str:
    today = datetime.date.today().isoformat()
    rows = "\n".join(
        f"| {i + 1} | {n / r['exec_sec']:.1f} | {n / r['gate_sec']:.1f} | {r['gate_sec'] / r['exec_sec']:.2f} |"
        for i, r in enumerate(runs))
    last = runs[-1]
    return f"""## gate

Command: `{command}` (date {today}; machine: {machine}).

{n} training tasks and {n_held} held-out tasks of the default generation (params.yaml: seed-based
variants, skill compositions and the held-out sets in the stage's proportions), bwrap, {workers}
workers each. Execute: the oracle teacher's episodes on the training tasks (`execute_tasks`).
Gate: `run_gate` as the execute stage runs it (oracle verdicts reused from those trajectories,
the oracle run first on the held-out tasks; null, empty_files, make_dirs, copy_values and
exit_early in one sandbox session per task, a probe that leaves /app as an earlier one did
reuses its verdict). Throughputs are per training task, as the ratio is of wall times.

| run | execute tasks/s | gate tasks/s | ratio gate / execute wall time |
|---:|---:|---:|---:|
{rows}

Goal: ratio <= {GOAL_RATIO:.1f}. Gate verdicts: {last['kept']} kept, dropped {last['dropped'] or 'none'}.
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", type=int, default=300, help="Training tasks to execute and gate (plus their share of held-out ones).")
    ap.add_argument("--workers", type=int, default=2, help="Worker processes of each.")
    ap.add_argument("--repeat", type=int, default=1, help="Execute + gate runs, alternating.")
    ap.add_argument("--write", action="store_true", help="Write the results into bench/RESULTS.md.")
    args = ap.parse_args()
    machine = describe_machine()
    print(f"machine: {machine}")
    tasks, heldout = _tasks(args.tasks)
    print(f"tasks: {len(tasks)} training, {len(heldout)} held-out")
    runs = []
    for i in range(args.repeat):
        r = run_once(tasks, heldout, args.workers)
        runs.append(r)
        print(f"run {i + 1}: execute {len(tasks) / r['exec_sec']:.1f} tasks/s ({r['exec_sec']:.1f} s), gate "
              f"{len(tasks) / r['gate_sec']:.1f} tasks/s ({r['gate_sec']:.1f} s), ratio gate/execute "
              f"{r['gate_sec'] / r['exec_sec']:.2f}; kept {r['kept']}, dropped {r['dropped']}", flush=True)
    if args.write:
        cmd = "python -m bench.bench_gate " + " ".join(sys.argv[1:])
        write_section("gate", _section(cmd.strip(), machine, len(tasks), len(heldout), args.workers, runs))
        print(f"wrote {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
