"""The validity gate: keep a task only if the oracle solves it and no cheap trick does.

Every checked task runs in the real sandbox (the same ``Episode`` + verifier as the execute
stage) with five agents, in this order, stopping at the first failed check:

1. ``oracle`` (replays the reference solution) must pass, else ``oracle_failed``;
2. ``null`` (does nothing) must fail, else ``null_passed``;
3. each shortcut agent of :mod:`termcorpus.agents.shortcut` (``empty_files``,
   ``copy_values``, ``exit_early``) must fail, else ``shortcut_passed:<name>``.

A task whose files the sandbox refuses (too large, bad base64) is dropped as ``invalid_task``.

Cost and sampling: a task costs ~5 episodes (~10 sandbox starts, ~0.5-1 s of CPU), so gating
every training variant of a large run would dominate the generate stage. With
``sample_per_family = k > 0`` only ``k`` variants per family are checked (chosen by a stable
hash of the seed and the task id); variants of a family share one template, so their verdicts
almost always agree. When a sampled variant fails, the whole family is then checked in full,
so a bad template never slips through on the unchecked variants; the unchecked variants of
passing families are kept and counted as ``n_unchecked``. Held-out (evaluation) tasks should
always be gated in full (``sample_per_family = 0``).

Workers are spawned processes (like the execute pool); results come back in task order, so the
kept tasks and the counts do not depend on worker timing.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from tqdm import tqdm

from termcorpus.agents import NullAgent, OracleAgent
from termcorpus.agents.shortcut import SHORTCUT_AGENTS
from termcorpus.errors import DataError
from termcorpus.execute.episode import run_episode
from termcorpus.generate.mutate import stable_seed
from termcorpus.records import Lineage, Task
from termcorpus.sandbox import SandboxConfig, check_backend

if TYPE_CHECKING:
    from termcorpus.generate.pipeline import GenerateResult

# Run order: the oracle first (a task it cannot solve needs no further checks), then the
# cheapest episodes.
GATE_AGENTS: tuple[str, ...] = ("oracle", "null") + tuple(a.name for a in SHORTCUT_AGENTS)
REASONS: tuple[str, ...] = ("oracle_failed", "null_passed") + tuple(
    f"shortcut_passed:{a.name}" for a in SHORTCUT_AGENTS) + ("invalid_task",)


@dataclass(frozen=True)
class AgentOutcome:
    agent: str
    passed: bool
    reward: float


@dataclass(frozen=True)
class GateVerdict:
    """What the gate found for one task; ``reason`` is None when the task is kept."""

    task_id: str
    outcomes: tuple[AgentOutcome, ...]
    reason: str | None
    detail: str = ""

    @property
    def kept(self) -> bool:
        return self.reason is None

    def outcome(self, agent: str) -> AgentOutcome | None:
        return next((o for o in self.outcomes if o.agent == agent), None)


def _make_agent(name: str):  # type: ignore[no-untyped-def]
    if name == "oracle":
        return OracleAgent()
    if name == "null":
        return NullAgent()
    for cls in SHORTCUT_AGENTS:
        if cls.name == name:
            return cls()
    raise ValueError(f"unknown gate agent {name!r}")


def _reason_for(agent: str, passed: bool) -> str | None:
    if agent == "oracle":
        return None if passed else "oracle_failed"
    if not passed:
        return None
    return "null_passed" if agent == "null" else f"shortcut_passed:{agent}"


def check_task(task: Task, sandbox: SandboxConfig, *, full: bool = False) -> GateVerdict:
    """Run the gate's agents on one task; with ``full`` every agent runs even after a failure."""
    outcomes: list[AgentOutcome] = []
    reason: str | None = None
    lineage = Lineage(task_digest=task.digest())
    for name in GATE_AGENTS:
        # The oracle needs one turn per command plus the final one; the others stop by turn 2.
        max_turns = len(task.solution) + 1 if name == "oracle" else 2
        try:
            traj = run_episode(task, _make_agent(name), sandbox, max_turns=max_turns,
                               prompt_style="compact", lineage=lineage)
        except DataError as e:
            return GateVerdict(task.id, tuple(outcomes), "invalid_task", str(e))
        outcomes.append(AgentOutcome(name, traj.passed, traj.reward))
        found = _reason_for(name, traj.passed)
        if found and reason is None:
            reason = found
        if reason and not full:
            break
    return GateVerdict(task.id, tuple(outcomes), reason)


def _check_job(job: tuple[int, Task, SandboxConfig, bool]) -> tuple[int, GateVerdict]:
    index, task, sandbox, full = job
    return index, check_task(task, sandbox, full=full)


def check_tasks(tasks: Sequence[Task], sandbox: SandboxConfig, workers: int, *, full: bool = False,
                desc: str = "gate") -> list[GateVerdict]:
    """Verdicts for ``tasks`` (in their order), ``workers`` processes, a tqdm bar on stderr."""
    check_backend(sandbox)
    verdicts: list[GateVerdict | None] = [None] * len(tasks)
    jobs = [(i, t, sandbox, full) for i, t in enumerate(tasks)]
    workers = max(1, min(workers, len(jobs) or 1))
    with tqdm(total=len(jobs), desc=desc, unit="task", disable=None, file=sys.stderr,
              dynamic_ncols=True) as bar:
        if workers == 1:
            for job in jobs:
                i, v = _check_job(job)
                verdicts[i] = v
                bar.update(1)
        elif jobs:
            # spawn, not fork: the caller may hold threads (tqdm, MLflow); an executor turns a
            # worker killed by the OOM killer into an exception instead of a hang.
            ctx = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
                futures = [pool.submit(_check_job, job) for job in jobs]
                try:
                    for fut in as_completed(futures):
                        i, v = fut.result()
                        verdicts[i] = v
                        bar.update(1)
                        bar.set_postfix(dropped=sum(1 for x in verdicts if x is not None and not x.kept),
                                        refresh=False)
                except BaseException:
                    for fut in futures:
                        fut.cancel()
                    raise
    return [v for v in verdicts if v is not None]


def sample_per_family(tasks: Sequence[Task], k: int, seed: int) -> list[int]:
    """Indexes of ``k`` tasks per family (all when ``k`` is 0), by a stable hash of seed and id."""
    if k <= 0:
        return list(range(len(tasks)))
    by_family: dict[str, list[int]] = {}
    for i, t in enumerate(tasks):
        by_family.setdefault(t.family, []).append(i)
    chosen: list[int] = []
    for idxs in by_family.values():
        ranked = sorted(idxs, key=lambda i: (stable_seed("gate", seed, tasks[i].id), tasks[i].id))
        chosen.extend(ranked[:k])
    return sorted(chosen)


def _count(tasks: Sequence[Task], key) -> dict[str, int]:  # type: ignore[no-untyped-def]
    c: Counter = Counter()
    for t in tasks:
        for k in key(t):
            c[k] += 1
    return dict(sorted(c.items()))


@dataclass
class GateReport:
    """The gate over one task list: kept tasks (input order) and every counted drop."""

    tasks: list[Task]
    verdicts: dict[int, GateVerdict]  # task index -> verdict; unchecked indexes are absent
    sample_per_family: int

    @property
    def kept(self) -> list[Task]:
        return [t for i, t in enumerate(self.tasks) if i not in self.verdicts or self.verdicts[i].kept]

    @property
    def dropped(self) -> list[Task]:
        return [t for i, t in enumerate(self.tasks) if i in self.verdicts and not self.verdicts[i].kept]

    @property
    def n_unchecked(self) -> int:
        return len(self.tasks) - len(self.verdicts)

    @property
    def drops_by_reason(self) -> Counter:
        return Counter(v.reason for v in self.verdicts.values() if v.reason is not None)

    def metrics(self) -> dict[str, object]:
        """Counts for metrics/generate.json (no timings: the bytes stay deterministic)."""
        reasons = self.drops_by_reason
        dropped = self.dropped
        return {
            "n_in": len(self.tasks),
            "n_checked": len(self.verdicts),
            "n_unchecked": self.n_unchecked,
            "n_kept": len(self.tasks) - len(dropped),
            "n_dropped": len(dropped),
            "sample_per_family": self.sample_per_family,
            "drops_by_reason": {r: reasons.get(r, 0) for r in REASONS},
            "checked_by_domain": _count([self.tasks[i] for i in self.verdicts], lambda t: [t.domain]),
            "dropped_by_domain": _count(dropped, lambda t: [t.domain]),
            "dropped_by_skill": _count(dropped, lambda t: t.skills),
            "dropped_by_family": _count(dropped, lambda t: [t.family]),
        }


def run_gate(tasks: Sequence[Task], sandbox: SandboxConfig, workers: int, *, sample: int = 0, seed: int = 0,
             full: bool = False, desc: str = "gate") -> GateReport:
    """Gate ``tasks`` (a sample of ``sample`` per family, widened to whole failing families).

    ``full`` runs every agent on every checked task (for a report table) instead of stopping at
    the first failed check.
    """
    tasks = list(tasks)
    chosen = sample_per_family(tasks, sample, seed)
    verdicts: dict[int, GateVerdict] = dict(
        zip(chosen, check_tasks([tasks[i] for i in chosen], sandbox, workers, full=full, desc=desc)))
    if sample > 0:
        # A failing sample puts its whole family under suspicion: check the rest of it too.
        failing = {tasks[i].family for i in chosen if not verdicts[i].kept}
        rest = [i for i, t in enumerate(tasks) if t.family in failing and i not in verdicts]
        if rest:
            verdicts.update(zip(rest, check_tasks([tasks[i] for i in rest], sandbox, workers, full=full,
                                                  desc=f"{desc} (failing families)")))
    return GateReport(tasks=tasks, verdicts=dict(sorted(verdicts.items())), sample_per_family=sample)


def gate_tasks(tasks: Sequence[Task], sandbox_cfg: SandboxConfig, workers: int, *, sample: int = 0,
               seed: int = 0) -> tuple[list[Task], Counter]:
    """The kept tasks (input order) and the drop counts by reason."""
    report = run_gate(tasks, sandbox_cfg, workers, sample=sample, seed=seed)
    return report.kept, report.drops_by_reason


def gate_generated(result: "GenerateResult", sandbox: SandboxConfig, *, workers: int, sample_per_family: int,
                   seed: int) -> dict[str, object]:
    """Gate the generate stage's output in place; return the ``gate`` block of its metrics.

    Training tasks are gated by ``sample_per_family`` (see the module docstring); held-out
    tasks, which evaluation scores models on, always in full.
    """
    train = run_gate(result.tasks, sandbox, workers, sample=sample_per_family, seed=seed, desc="gate train")
    held = run_gate(result.heldout, sandbox, workers, sample=0, seed=seed, desc="gate held-out")
    result.tasks, result.heldout = train.kept, held.kept
    dropped = train.dropped + held.dropped
    reasons = train.drops_by_reason + held.drops_by_reason
    return {
        "enabled": True,
        "n_checked": len(train.verdicts) + len(held.verdicts),
        "n_dropped": len(dropped),
        "drops_by_reason": {r: reasons.get(r, 0) for r in REASONS},
        "dropped_by_domain": _count(dropped, lambda t: [t.domain]),
        "dropped_by_skill": _count(dropped, lambda t: t.skills),
        "train": train.metrics(),
        "heldout": held.metrics(),
    }
