"""Real-task folders as evaluation sets: one set per ``evaluate.extra_tasks`` folder, checked first.

Each folder (Harbor or Terminal-Bench 1 task directories, or one task directory) becomes the set
``extra_<folder name>``; ``extra`` is the union of them. Before a model runs, every task gets
the oracle (its reference solution) and the null agent (does nothing) in the configured sandbox:
a task whose oracle fails or whose null agent passes is *broken*. Broken tasks and refused
directories are recorded in the set's info (``broken``, ``refused``) and left out of the set, so
a broken benchmark task is never scored as a model failure.

``termcorpus tasks check DIR`` prints the same verdicts (:func:`check_folder`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from termcorpus.errors import ConfigError, DataError, EnvironmentProblem
from termcorpus.records import Lineage, Task
from termcorpus.sandbox import SandboxConfig
from termcorpus.tasks.interop import ImportReport, import_folder


@dataclass(frozen=True)
class TaskVerdict:
    """Oracle and null outcome of one task; ``status`` is ``ok`` only for a usable task."""

    task_id: str
    oracle: bool | None  # None: not run (the environment did not build)
    null: bool | None
    status: str  # ok | oracle_failed | null_passed | broken_environment
    detail: str = ""

    @property
    def usable(self) -> bool:
        return self.status == "ok"


def check_task(task: Task, sandbox: SandboxConfig) -> TaskVerdict:
    """Run the oracle, then the null agent, on ``task`` in ``sandbox``."""
    from termcorpus.agents import NullAgent, OracleAgent
    from termcorpus.execute.episode import run_episode

    lineage = Lineage(task_digest=task.digest())
    outcome: dict[str, bool] = {}
    for agent, turns in ((OracleAgent(), len(task.solution) + 1), (NullAgent(), 2)):
        try:
            traj = run_episode(task, agent, sandbox, max_turns=turns, prompt_style="compact", lineage=lineage)
        except (DataError, EnvironmentProblem) as e:
            return TaskVerdict(task.id, outcome.get("oracle"), None, "broken_environment", str(e))
        outcome[agent.name] = traj.passed
        if agent.name == "oracle" and not traj.passed:
            tail = traj.verifier_output.strip().splitlines()[-1:] if traj.verifier_output else []
            return TaskVerdict(task.id, False, None, "oracle_failed", tail[0][:200] if tail else "")
    if outcome["null"]:
        return TaskVerdict(task.id, True, True, "null_passed")
    return TaskVerdict(task.id, True, False, "ok")


def check_tasks(tasks: Sequence[Task], sandbox: SandboxConfig) -> list[TaskVerdict]:
    from termcorpus.sandbox import check_backend

    check_backend(sandbox)
    return [check_task(t, sandbox) for t in tasks]


def check_folder(root: str | Path, sandbox: SandboxConfig) -> tuple[ImportReport, list[TaskVerdict]]:
    """Import a folder (per-task report) and check every imported task."""
    report = import_folder(root)
    return report, check_tasks(report.tasks, sandbox)


def verdict_lines(report: ImportReport, verdicts: Sequence[TaskVerdict]) -> list[str]:
    """One line per task, then a summary line (what ``tasks check`` prints)."""
    mark = {True: "pass", False: "fail", None: "-"}
    lines = [f"{'task':<40} {'oracle':<7} {'null':<7} verdict"]
    for v in verdicts:
        lines.append(f"{v.task_id:<40} {mark[v.oracle]:<7} {mark[v.null]:<7} {v.status}"
                     + (f"  ({v.detail})" if v.detail else ""))
    for o in report.outcomes:
        if o.status == "refused":
            lines.append(f"{Path(o.dir).name:<40} {'-':<7} {'-':<7} refused  ({o.reason})")
    ok = sum(v.usable for v in verdicts)
    lines.append(f"{ok} usable, {len(verdicts) - ok} broken, {report.n_refused} refused, of "
                 f"{len(report.outcomes)} task directories")
    return lines


def set_name(folder: str) -> str:
    """``extra_<folder name>`` with anything but letters, digits, '-' and '_' as '_'."""
    name = Path(folder.rstrip("/")).name or "root"
    return "extra_" + re.sub(r"[^A-Za-z0-9_-]", "_", name)


def extra_sets(paths: Sequence[str], sandbox: SandboxConfig, *, sample) -> tuple[dict[str, list[Task]],
                                                                              dict[str, dict[str, Any]]]:
    """One checked set per folder, plus ``extra`` (their union); ``sample(pool, name)`` draws
    the evaluated tasks from a set's usable ones. Returns (sets, info)."""
    sets: dict[str, list[Task]] = {}
    info: dict[str, dict[str, Any]] = {}
    union: list[Task] = []
    seen: dict[str, str] = {}
    for i, p in enumerate(paths):
        if not isinstance(p, str) or not p.strip():
            raise ConfigError(f"'evaluate.extra_tasks[{i}]' must be a directory path, got {p!r}")
        name = set_name(p)
        if name in sets:
            raise ConfigError(f"'evaluate.extra_tasks[{i}]': two folders named {Path(p).name!r} would "
                              "give the same set name")
        report, verdicts = check_folder(Path(p), sandbox)
        for t in report.tasks:
            if t.id in seen:
                raise DataError(f"task id {t.id!r} is also imported from {seen[t.id]}: extra task ids "
                                "must be unique", where=p)
            seen[t.id] = p
        usable = [t for t, v in zip(report.tasks, verdicts) if v.usable]
        sets[name] = sample(usable, name)
        union += sets[name]
        info[name] = {
            "available_tasks": len(usable), "n_tasks": len(sets[name]),
            "available_families": len({t.family for t in usable}), "n_families": len({t.family for t in sets[name]}),
            "broken": sum(not v.usable for v in verdicts), "refused": report.n_refused,
            "import_notes": sum(len(o.notes) for o in report.outcomes),
        }
    sets["extra"] = union
    info["extra"] = {
        "available_tasks": len(union), "n_tasks": len(union),
        "available_families": len({t.family for t in union}), "n_families": len({t.family for t in union}),
        "broken": sum(v["broken"] for v in info.values()), "refused": sum(v["refused"] for v in info.values()),
        "import_notes": sum(v["import_notes"] for v in info.values()),
    }
    return sets, info
