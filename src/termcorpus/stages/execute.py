"""Stage `execute`: the teacher agent solves every task in the sandbox; record + verify; then the
validity gate on every training and held-out task.

Writes ``out/trajectories.jsonl`` (one Trajectory per task that passed the validity gate, in task
order), ``out/gate.jsonl`` (the gate's verdict on every task) and the metrics.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from termcorpus.errors import DataError
from termcorpus.execute.gate import gate_execute_output
from termcorpus.execute.pool import execute_tasks
from termcorpus.params import ExecuteParams
from termcorpus.records import Task, read_jsonl
from termcorpus.runtime import dvc_md5, git_rev
from termcorpus.sandbox import SandboxConfig
from termcorpus.tracking.metrics import write_stage_metrics


# The path options of stages/execute.py (runtime.run_stage): parameter of run -> help text.
PATHS: dict[str, str] = {
    "tasks": "Read tasks from this JSONL file.",
    "heldout": "Gate these held-out tasks too (JSONL); evaluate skips the ones that fail.",
    "seeds": "Name the seeds version from this file.",
    "out": "Write trajectories.jsonl and gate.jsonl into this directory.",
    "metrics": "Write metrics JSON here.",
    "detail": "Write the full metrics (per-domain/skill detail) to this JSON; --metrics gets the headline.",
    "journal": "Keep the resume journal in this file (outside the outs: DVC deletes outs before a rerun).",
}


def run(*, tasks: Path, seeds: Path, out: Path, metrics: Path, heldout: Path | None = None,
        detail: Path | None = None, journal: Path | None = None, params: ExecuteParams) -> dict[str, Any]:
    """Execute, gate, write the outs and the metrics; return the metrics."""
    task_list = read_jsonl(tasks, Task)
    if not seeds.exists():
        raise DataError("file not found (needed for the lineage digest)", where=str(seeds))
    result = execute_tasks(
        task_list,
        params=params,
        seeds_digest=dvc_md5(seeds),
        git_rev=git_rev(),  # keys the resume journal only; never written into a trajectory
        out_path=out / "trajectories.jsonl",
        journal_path=journal,
    )
    # Wall-clock numbers, the resume count and the workers actually started (fewer when a resumed
    # run has little left) go to the console only: the metrics file must be the same bytes for
    # the same inputs, whether the run was interrupted and resumed or not.
    console = {k: result.pop(k, None) for k in ("wall_time_sec", "tasks_per_sec", "n_resumed", "workers")}
    print(f"execute: {result['n_passed']}/{result['n_tasks']} passed, {console['n_resumed']} resumed "
          f"from the journal, {console['workers']} workers, {console['tasks_per_sec']} tasks/s", file=sys.stderr)
    result["gate"] = {"enabled": False}
    if params.gate:
        # The validity gate on every task (execute/gate.py): oracle passes (execute's own oracle
        # trajectories are reused), null and shortcut agents fail; failures leave the trajectories.
        held = read_jsonl(heldout, Task) if heldout else []
        start = time.perf_counter()
        result["gate"] = gate_execute_output(
            tasks=task_list, heldout=held, trajectories_path=out / "trajectories.jsonl",
            gate_path=out / "gate.jsonl", sandbox=SandboxConfig.from_params(params),
            teacher=params.teacher, workers=params.workers, prompt_style=params.prompt_style,
        )
        wall = time.perf_counter() - start
        n = len(task_list) + len(held)
        print(f"gate: {n} tasks in {wall:.1f} s ({n / max(wall, 1e-9):.2f} tasks/s; execute "
              f"{console['wall_time_sec']} s), dropped {result['gate']['train']['n_dropped']} training and "
              f"{result['gate']['heldout']['n_dropped']} held-out tasks", file=sys.stderr)
    write_stage_metrics("execute", result, metrics, detail)
    return result
