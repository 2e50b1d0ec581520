"""DVC stage `execute`: the teacher agent solves every task in the sandbox; record + verify.

    python stages/execute.py --tasks data/tasks/tasks.jsonl --heldout data/tasks/heldout.jsonl \
        --seeds data/seeds.jsonl --out data/trajectories --metrics metrics/execute.json \
        --journal data/.journal/execute.jsonl

Writes OUT/trajectories.jsonl (one Trajectory per task that passed the validity gate, in task
order), OUT/gate.jsonl (the gate's verdict on every training and held-out task) and the metrics.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from termcorpus.errors import DataError
from termcorpus.execute.pool import execute_tasks
from termcorpus.params import load_section
from termcorpus.records import Task, read_jsonl
from termcorpus.runtime import dvc_md5, git_rev, stage_main
from termcorpus.tracking.metrics import write_stage_metrics


@stage_main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", required=True, type=Path, help="Read tasks from this JSONL file.")
    ap.add_argument("--heldout", type=Path, default=None,
                    help="Gate these held-out tasks too (JSONL); evaluate skips the ones that fail.")
    ap.add_argument("--seeds", required=True, type=Path, help="Name the seeds version from this file.")
    ap.add_argument("--out", required=True, type=Path, help="Write trajectories.jsonl into this directory.")
    ap.add_argument("--metrics", required=True, type=Path, help="Write metrics JSON here.")
    ap.add_argument("--detail", type=Path, default=None,
                    help="Write the full metrics (per-domain/skill detail) to this JSON; --metrics gets the headline.")
    ap.add_argument("--journal", type=Path, default=None,
                    help="Keep the resume journal in this file (outside the outs: DVC deletes outs before a rerun).")
    args = ap.parse_args()

    params = load_section("execute", "params.yaml")
    tasks = read_jsonl(args.tasks, Task)
    if not args.seeds.exists():
        raise DataError("file not found (needed for the lineage digest)", where=str(args.seeds))
    metrics = execute_tasks(
        tasks,
        params=params,
        seeds_digest=dvc_md5(args.seeds),
        git_rev=git_rev(),  # keys the resume journal only; never written into a trajectory
        out_path=args.out / "trajectories.jsonl",
        journal_path=args.journal,
    )
    # Wall-clock numbers, the resume count and the workers actually started (fewer when a resumed
    # run has little left) go to the console only: the metrics file must be the same bytes for
    # the same inputs, whether the run was interrupted and resumed or not.
    run = {k: metrics.pop(k, None) for k in ("wall_time_sec", "tasks_per_sec", "n_resumed", "workers")}
    print(f"execute: {metrics['n_passed']}/{metrics['n_tasks']} passed, {run['n_resumed']} resumed "
          f"from the journal, {run['workers']} workers, {run['tasks_per_sec']} tasks/s", file=sys.stderr)
    metrics["gate"] = {"enabled": False}
    if params.gate:
        # The validity gate on every task (execute/gate.py): oracle passes (execute's own oracle
        # trajectories are reused), null and shortcut agents fail; failures leave the trajectories.
        from termcorpus.execute.gate import gate_execute_output
        from termcorpus.sandbox import SandboxConfig

        heldout = read_jsonl(args.heldout, Task) if args.heldout else []
        start = time.perf_counter()
        metrics["gate"] = gate_execute_output(
            tasks=tasks, heldout=heldout, trajectories_path=args.out / "trajectories.jsonl",
            gate_path=args.out / "gate.jsonl", sandbox=SandboxConfig.from_params(params),
            teacher=params.teacher, workers=params.workers, prompt_style=params.prompt_style,
        )
        wall = time.perf_counter() - start
        n = len(tasks) + len(heldout)
        print(f"gate: {n} tasks in {wall:.1f} s ({n / max(wall, 1e-9):.2f} tasks/s; execute "
              f"{run['wall_time_sec']} s), dropped {metrics['gate']['train']['n_dropped']} training and "
              f"{metrics['gate']['heldout']['n_dropped']} held-out tasks", file=sys.stderr)
    write_stage_metrics("execute", metrics, args.metrics, args.detail)


if __name__ == "__main__":
    main()
