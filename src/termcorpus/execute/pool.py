"""Run the teacher on every task with a process pool; write trajectories in task order.

Each worker runs whole episodes (agent sandbox + verifier sandbox). Finished trajectories are
appended to a journal next to the output as they arrive, so an interrupted run started again
by hand skips what is done (the journal is dropped if the params, seeds or code changed). The
final file is written in task order, so the bytes do not depend on worker timing.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Sequence

from termcorpus.agents.factory import make_agent
from termcorpus.errors import DataError
from termcorpus.execute.episode import run_episode
from termcorpus.pool import imap_unordered, map_ordered, progress
from termcorpus.records import Lineage, Task, Trajectory, sha256_text
from termcorpus.sandbox import SandboxConfig, check_backend, limits_mechanism
from termcorpus.sandbox.session import task_blobs

_JOURNAL_SUFFIX = ".journal"

__all__ = ["execute_tasks", "make_agent", "map_ordered"]  # map_ordered: the gate's pool (termcorpus.pool)


@dataclasses.dataclass(frozen=True)
class _Job:
    index: int
    task: Task
    teacher: str
    sandbox: SandboxConfig
    max_turns: int
    prompt_style: str
    lineage: Lineage
    agent_params: object = None


def _run_job(job: _Job) -> tuple[int, str]:
    traj = run_episode(job.task, make_agent(job.teacher, job.agent_params), job.sandbox, max_turns=job.max_turns,
                       prompt_style=job.prompt_style, lineage=job.lineage)
    return job.index, traj.model_dump_json()


def _fingerprint(params: object, seeds_digest: str, git_rev: str) -> str:
    fields = dataclasses.asdict(params) if dataclasses.is_dataclass(params) else vars(params)
    # Workers and the executor only change speed, never the bytes: a resumed run may use others.
    fields = {k: v for k, v in fields.items() if k not in ("workers", "executor", "ray_address")}
    return sha256_text(json.dumps({"params": fields, "seeds": seeds_digest, "git": git_rev}, sort_keys=True))


def _load_journal(path: Path, fingerprint: str, digests: dict[str, str]) -> dict[str, str]:
    """Finished trajectories (task id -> JSON line) from an earlier run with the same inputs."""
    if not path.exists():
        return {}
    done: dict[str, str] = {}
    with path.open(encoding="utf-8") as fh:
        header = fh.readline().strip()
        if header != json.dumps({"fingerprint": fingerprint}):
            return {}
        for line in fh:
            try:
                traj = Trajectory.model_validate_json(line)
            except ValueError:
                break  # a line cut by the crash: everything before it is good
            if digests.get(traj.task_id) == traj.lineage.task_digest:
                done[traj.task_id] = traj.model_dump_json()
    return done


def execute_tasks(tasks: Sequence[Task], *, params: object, seeds_digest: str, git_rev: str,
                  out_path: Path, journal_path: Path | None = None) -> dict:
    """Run the teacher on ``tasks``; write ``out_path`` (JSONL, task order); return metrics.

    ``journal_path`` (default: beside ``out_path``) records finished trajectories as they
    arrive. Under ``dvc repro`` it must lie outside the stage's outs: DVC deletes those
    before it reruns a stage, and the journal with them.

    ``params`` is an ``ExecuteParams``: teacher, sandbox, workers, max_turns, prompt_style and
    the sandbox limits. ``git_rev`` only keys the resume journal (a code change must not resume
    an older run's trajectories); it is never written into a trajectory.
    """
    out_path = Path(out_path)
    sandbox = SandboxConfig.from_params(params)
    teacher = getattr(params, "teacher")
    make_agent(teacher, params)  # fail before starting workers
    check_backend(sandbox)
    seen: set[str] = set()
    for t in tasks:
        if t.id in seen:
            raise DataError(f"duplicate task id {t.id!r}: trajectory ids would collide")
        seen.add(t.id)
        task_blobs(t)  # bad base64 / oversized files: fail before the journal is touched

    digests = {t.id: t.digest() for t in tasks}
    fingerprint = _fingerprint(params, seeds_digest, git_rev)
    journal_path = Path(journal_path) if journal_path else out_path.with_name(out_path.name + _JOURNAL_SUFFIX)
    journal_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    lines: list[str | None] = [None] * len(tasks)
    resumed = _load_journal(journal_path, fingerprint, digests)
    jobs = []
    for i, t in enumerate(tasks):
        if t.id in resumed:
            lines[i] = resumed[t.id]
        else:
            jobs.append(_Job(i, t, teacher, sandbox, getattr(params, "max_turns"),
                             getattr(params, "prompt_style"),
                             Lineage(task_digest=digests[t.id], seeds_digest=seeds_digest),
                             params))

    workers = max(1, min(int(getattr(params, "workers")), len(jobs) or 1))
    start = time.perf_counter()
    n_pass = sum(1 for line in lines if line is not None and json.loads(line)["passed"])
    with journal_path.open("w", encoding="utf-8") as journal, progress(
        len(tasks), initial=len(tasks) - len(jobs), desc="execute",
    ) as bar:
        journal.write(json.dumps({"fingerprint": fingerprint}) + "\n")
        for line in lines:
            if line is not None:
                journal.write(line + "\n")
        journal.flush()

        def collect(index: int, line: str) -> None:
            nonlocal n_pass
            lines[index] = line
            journal.write(line + "\n")
            journal.flush()
            n_pass += bool(json.loads(line)["passed"])
            bar.update(1)
            bar.set_postfix(pass_rate=f"{n_pass / max(bar.n, 1):.2f}", refresh=False)

        if getattr(params, "executor", "local") == "ray" and jobs:
            # Same per-task function on a Ray cluster (execute/ray_executor.py); results come
            # back in completion order and are put in task order here, as with the pool.
            from termcorpus.execute.ray_executor import ray_imap_unordered

            results = ray_imap_unordered(_run_job, jobs, address=getattr(params, "ray_address", ""),
                                         num_cpus=workers)
        else:
            results = imap_unordered(_run_job, jobs, workers)
        for result in results:
            collect(*result)
    wall = time.perf_counter() - start

    tmp = out_path.with_name(out_path.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="\n") as fh:
        for line in lines:
            fh.write(f"{line}\n")
    tmp.replace(out_path)
    journal_path.unlink()

    trajs = [Trajectory.model_validate_json(line) for line in lines if line is not None]
    return _metrics(trajs, teacher=teacher, sandbox=sandbox, workers=workers, wall_sec=wall,
                    n_run=len(jobs), n_resumed=len(tasks) - len(jobs))


def _metrics(trajs: list[Trajectory], *, teacher: str, sandbox: SandboxConfig, workers: int,
             wall_sec: float, n_run: int, n_resumed: int) -> dict:
    n = len(trajs)
    by_domain: dict[str, dict[str, float]] = {}
    for t in trajs:
        d = by_domain.setdefault(t.domain, {"n_tasks": 0, "n_passed": 0})
        d["n_tasks"] += 1
        d["n_passed"] += int(t.passed)
    for d in by_domain.values():
        d["pass_rate"] = round(d["n_passed"] / d["n_tasks"], 4)
    results = [r for t in trajs for turn in t.turns for r in turn.results]
    return {
        "teacher": teacher,
        "sandbox": sandbox.backend,
        "sandbox_limits": limits_mechanism(sandbox),
        "workers": workers,
        "n_tasks": n,
        "n_passed": sum(t.passed for t in trajs),
        "pass_rate": round(sum(t.passed for t in trajs) / n, 4) if n else 0.0,
        "mean_reward": round(sum(t.reward for t in trajs) / n, 4) if n else 0.0,
        "mean_turns": round(sum(t.n_turns for t in trajs) / n, 3) if n else 0.0,
        "n_commands": len(results),
        "n_command_timeouts": sum(r.timed_out for r in results),
        "n_truncated_outputs": sum(r.truncated for r in results),
        "n_parse_errors": sum(turn.parse_error is not None for t in trajs for turn in t.turns),
        "n_resumed": n_resumed,
        "by_domain": dict(sorted(by_domain.items())),
        "wall_time_sec": round(wall_sec, 3),
        "tasks_per_sec": round(n_run / wall_sec, 3) if wall_sec > 0 and n_run else 0.0,
    }
