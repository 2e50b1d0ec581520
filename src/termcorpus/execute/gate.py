"""The validity gate: keep a task only if the oracle solves it and no cheap trick does.

Every task the execute stage sees is gated, the training pool and the held-out sets alike:

1. ``oracle`` (replays the reference solution) must pass, else ``oracle_failed``. With the
   default oracle teacher the execute stage's own trajectory of the task *is* this check and is
   reused (``oracle_passed``); otherwise (another teacher, held-out tasks) the oracle runs in
   its own episode, exactly as execute would run it;
2. ``null`` (does nothing) must fail, else ``null_passed``;
3. each shortcut agent of :mod:`termcorpus.agents.shortcut` must fail, else
   ``shortcut_passed:<name>``.

A task whose files the sandbox refuses (too large, bad base64) is dropped as ``invalid_task``.

Why the probes (2-3) are cheap: they run in ONE sandbox session per task, on the configured
backend. Before each probe /app is restored to the task's files and /logs/verifier emptied
(from the host for bwrap, whose /app is a host directory; with docker from a copy made inside
the container once), the probe's turns run in the persistent shell, and ``bash /tests/test.sh``
is scored by the verifier's own rule (:func:`termcorpus.execute.verifier.score`). A real
episode would start a sandbox per probe and another for its verifier. And the tests read only
/app: a probe that leaves /app as an earlier probe did (``exit_early`` as ``null``; ``copy_values``
as ``empty_files`` when the instruction has no value) takes that probe's verdict without a
second test run (bwrap: a digest of the host directory). Differences from a real episode, none of which a probe can use: the
tests are mounted at /tests from the start (the probes are our own code and never read them),
each probe command runs in a subshell (so ``exit 0`` does not end the session: the probes carry
no state between commands), and the tests run under ``env -i`` in /app like a fresh shell.
``tests/execute/test_gate.py`` checks that the probe session gives the same verdicts as one
episode per agent.

Workers are spawned processes; verdicts come back in task order, so the kept tasks and the
counts do not depend on worker timing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import stat
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from termcorpus.agents import NullAgent, OracleAgent, first_user_message, observation_message, parse_action
from termcorpus.agents.shortcut import SHORTCUT_AGENTS
from termcorpus.errors import DataError
from termcorpus.execute.episode import run_episode
from termcorpus.execute.verifier import score
from termcorpus.records import Lineage, Message, Task
from termcorpus.sandbox import SandboxConfig, check_backend, open_session, write_task_files

PROBES: tuple[str, ...] = ("null",) + tuple(a.name for a in SHORTCUT_AGENTS)
# Run order: the oracle first (a task it cannot solve needs no further checks), then the probes.
GATE_AGENTS: tuple[str, ...] = ("oracle",) + PROBES
REASONS: tuple[str, ...] = ("oracle_failed", "null_passed") + tuple(
    f"shortcut_passed:{a.name}" for a in SHORTCUT_AGENTS) + ("invalid_task",)

# Where the probe session keeps the pristine copy of /app (the sandbox's private /tmp).
_ORIG = "/tmp/.termcorpus-gate-orig"
_PROBE_TURNS = 2  # every probe is done by its second turn
# the environment bwrap gives the real verifier's fresh shell (sandbox/bwrap.py)
_TEST_ENV = ("env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/home/agent USER=agent "
             "LANG=C.UTF-8 TERM=dumb")


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
    eval_set: str = ""

    @property
    def kept(self) -> bool:
        return self.reason is None

    def outcome(self, agent: str) -> AgentOutcome | None:
        return next((o for o in self.outcomes if o.agent == agent), None)

    def to_json(self) -> str:
        """One line of ``gate.jsonl`` (keys sorted: same verdicts, same bytes)."""
        return json.dumps({
            "task_id": self.task_id, "eval_set": self.eval_set, "kept": self.kept, "reason": self.reason,
            "detail": self.detail, "outcomes": {o.agent: o.passed for o in self.outcomes},
        }, sort_keys=True)


def _probe_agent(name: str):  # type: ignore[no-untyped-def]
    if name == "null":
        return NullAgent()
    for cls in SHORTCUT_AGENTS:
        if cls.name == name:
            return cls()
    raise ValueError(f"unknown gate probe {name!r}")


def _reason_for(agent: str, passed: bool) -> str | None:
    if agent == "oracle":
        return None if passed else "oracle_failed"
    if not passed:
        return None
    return "null_passed" if agent == "null" else f"shortcut_passed:{agent}"


def _app_path(session) -> str:  # type: ignore[no-untyped-def]
    # bwrap and docker mount the task at /app; the (debug-only) local backend runs in a temp dir.
    return str(session.app_dir) if session.backend == "local" else "/app"


def _clear(top: Path) -> None:
    """Remove everything under ``top`` (never following a link the probe left)."""
    for child in top.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def _state(top: Path, *, mtimes: bool = False) -> str:
    """A digest of the tree under ``top``: paths, kinds, modes, link targets and file bytes.

    The tests read /app, so two probes that leave the same /app get the same verdict: the
    second one's test run is skipped (``exit_early`` leaves /app as ``null`` does). With
    ``mtimes`` the modification times count too: a tree with the digest it had right after a
    reset was not touched at all (a reset writes new times, so this digest never matches
    another probe's tree).
    """
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            stamp = f"{st.st_mtime_ns}\0" if mtimes else ""
            h.update(f"{os.path.relpath(path, top)}\0{st.st_mode}\0{stamp}".encode("utf-8", "surrogateescape"))
            if stat.S_ISLNK(st.st_mode):
                h.update(os.readlink(path).encode("utf-8", "surrogateescape"))
            elif stat.S_ISREG(st.st_mode):
                with open(path, "rb") as fh:
                    h.update(hashlib.sha256(fh.read()).digest())
    return h.hexdigest()


def _host_side(session) -> bool:  # type: ignore[no-untyped-def]
    """bwrap and local mount a host directory as /app: reset and digest it from the host (no
    process in the sandbox); docker keeps /app in the container: reset it with commands there."""
    return session.backend in ("bwrap", "local")


def _reset(session, task: Task, app: str, timeout: float) -> None:  # type: ignore[no-untyped-def]
    """A fresh /app (the task's files, nothing of the previous probe) and no reward file."""
    if _host_side(session):
        assert session.logs_path is not None
        _clear(session.app_dir)
        _clear(session.logs_path)
        write_task_files(task, session.app_dir)
        chown = getattr(session, "_chown_tree", None)  # bwrap as root: files belong to the sandbox uid
        if chown is not None and getattr(session, "_lease", None) is not None:
            chown(session.app_dir, session.host_uid)
        # no `cd`: probe commands run in subshells, so the shell never left /app
    else:
        session.run(f"cd {app} && find . -mindepth 1 -delete; cp -a {_ORIG}/. {app}/; "
                    f"rm -rf /logs/verifier/* /logs/verifier/.[!.]* 2>/dev/null; cd {app}", timeout)


def run_probes(task: Task, sandbox: SandboxConfig, *, full: bool = False,
               prompt_style: str = "compact") -> list[AgentOutcome]:
    """The null and shortcut agents on ``task``, in one sandbox session (see the module doc).

    Stops after the first probe that passes unless ``full``.
    """
    # Commands keep the configured cap; the tests get the task's own budget, as in the verifier.
    test_timeout = float(task.environment.timeout_sec)
    config = dataclasses.replace(sandbox, timeout_sec=max(sandbox.timeout_sec, test_timeout))
    outcomes: list[AgentOutcome] = []
    verdicts: dict[str, tuple[bool, float]] = {}  # /app state -> (passed, reward), host side only
    with open_session(task, config, tests_dir=True) as session:
        app = _app_path(session)
        if not _host_side(session):
            setup = session.run(f"mkdir -p {_ORIG} && cp -a {app}/. {_ORIG}/", sandbox.timeout_sec)
            if setup.exit_code != 0:
                raise DataError(f"gate: cannot copy the task files aside: {setup.output.strip()[:200]}",
                                where=f"task {task.id}")
        # bwrap/local: /app as written, to the nanosecond. A probe (and its test run) that leaves
        # it so needs no reset before the next probe, only an empty /logs/verifier: a reset is
        # a quarter of the gate's time, and null and exit_early touch nothing.
        pristine = _state(session.app_dir, mtimes=True) if _host_side(session) else None
        untouched = True
        for i, name in enumerate(PROBES):
            if i and untouched:
                assert session.logs_path is not None
                _clear(session.logs_path)
            elif i:
                _reset(session, task, app, sandbox.timeout_sec)
                pristine = _state(session.app_dir, mtimes=True) if _host_side(session) else None
            agent = _probe_agent(name)
            messages = [Message(role="user", content=first_user_message(task.instruction, prompt_style))]
            for _ in range(_PROBE_TURNS):
                raw = agent.act(task, messages)
                action, _err = parse_action(raw)
                results = [session.run(f"( {c.keystrokes.rstrip()}\n)", sandbox.timeout_sec)
                           for c in (action.commands if action else [])]
                messages += [Message(role="assistant", content=raw),
                             Message(role="user", content=observation_message(results))]
                if action is not None and action.task_complete:
                    break
            state = _state(session.app_dir) if _host_side(session) else None
            if state is not None and state in verdicts:
                passed, reward = verdicts[state]
            else:
                result = session.run(f"cd {app} && {_TEST_ENV} bash /tests/test.sh", test_timeout)
                assert session.logs_path is not None
                verdict = score(result, session.logs_path, test_timeout)
                passed, reward = verdict.passed, verdict.reward
                if state is not None:
                    verdicts[state] = (passed, reward)
            untouched = pristine is not None and _state(session.app_dir, mtimes=True) == pristine
            outcomes.append(AgentOutcome(name, passed, reward))
            if passed and not full:
                break
    return outcomes


def check_task(task: Task, sandbox: SandboxConfig, *, oracle_passed: bool | None = None, full: bool = False,
               prompt_style: str = "compact") -> GateVerdict:
    """Gate one task. ``oracle_passed``: the verdict of an oracle episode already run (execute's
    own, with the oracle teacher); None runs the oracle here. With ``full`` every agent runs
    even after a failed check (for a report table)."""
    outcomes: list[AgentOutcome] = []
    try:
        if oracle_passed is None:
            traj = run_episode(task, OracleAgent(), sandbox, max_turns=len(task.solution) + 1,
                               prompt_style=prompt_style, lineage=Lineage(task_digest=task.digest()))
            outcomes.append(AgentOutcome("oracle", traj.passed, traj.reward))
        else:
            outcomes.append(AgentOutcome("oracle", oracle_passed, 1.0 if oracle_passed else 0.0))
        if outcomes[0].passed or full:
            outcomes += run_probes(task, sandbox, full=full, prompt_style=prompt_style)
    except DataError as e:
        return GateVerdict(task.id, tuple(outcomes), "invalid_task", str(e), eval_set=task.eval_set)
    reason = next((r for o in outcomes if (r := _reason_for(o.agent, o.passed))), None)
    return GateVerdict(task.id, tuple(outcomes), reason, eval_set=task.eval_set)


def _check_job(job: tuple[Task, SandboxConfig, bool | None, bool, str]) -> GateVerdict:
    task, sandbox, oracle_passed, full, prompt_style = job
    return check_task(task, sandbox, oracle_passed=oracle_passed, full=full, prompt_style=prompt_style)


def check_tasks(tasks: Sequence[Task], sandbox: SandboxConfig, workers: int, *,
                oracle_passed: Mapping[str, bool] | None = None, full: bool = False,
                prompt_style: str = "compact", desc: str = "gate") -> list[GateVerdict]:
    """Verdicts for ``tasks`` (in their order), ``workers`` processes, a tqdm bar on stderr.

    ``oracle_passed`` maps task ids to an oracle verdict already known (those tasks skip the
    oracle episode)."""
    from termcorpus.execute.pool import map_ordered

    check_backend(sandbox)
    known = oracle_passed or {}
    jobs = [(t, sandbox, known.get(t.id), full, prompt_style) for t in tasks]
    return map_ordered(_check_job, jobs, workers, desc=desc)


def _count(tasks: Sequence[Task], key) -> dict[str, int]:  # type: ignore[no-untyped-def]
    c: Counter = Counter()
    for t in tasks:
        for k in key(t):
            c[k] += 1
    return dict(sorted(c.items()))


@dataclass
class GateReport:
    """The gate over one task list: every task's verdict, the kept tasks (input order), the drops."""

    tasks: list[Task]
    verdicts: dict[int, GateVerdict]  # task index -> verdict

    @property
    def kept(self) -> list[Task]:
        return [t for i, t in enumerate(self.tasks) if self.verdicts[i].kept]

    @property
    def dropped(self) -> list[Task]:
        return [t for i, t in enumerate(self.tasks) if not self.verdicts[i].kept]

    @property
    def drops_by_reason(self) -> Counter:
        return Counter(v.reason for v in self.verdicts.values() if v.reason is not None)

    def metrics(self) -> dict[str, object]:
        """Counts (no timings: the bytes stay deterministic)."""
        reasons = self.drops_by_reason
        dropped = self.dropped
        return {
            "n_checked": len(self.verdicts),
            "n_kept": len(self.tasks) - len(dropped),
            "n_dropped": len(dropped),
            "drops_by_reason": {r: reasons.get(r, 0) for r in REASONS},
            "dropped_by_domain": _count(dropped, lambda t: [t.domain]),
        }


def run_gate(tasks: Sequence[Task], sandbox: SandboxConfig, workers: int, *,
             oracle_passed: Mapping[str, bool] | None = None, full: bool = False,
             prompt_style: str = "compact", desc: str = "gate") -> GateReport:
    """Gate every one of ``tasks``; ``full`` runs every agent on every task (a report table)."""
    tasks = list(tasks)
    verdicts = check_tasks(tasks, sandbox, workers, oracle_passed=oracle_passed, full=full,
                           prompt_style=prompt_style, desc=desc)
    return GateReport(tasks=tasks, verdicts=dict(enumerate(verdicts)))


def write_verdicts(path: Path, reports: Sequence[GateReport]) -> None:
    """``gate.jsonl``: one verdict per task, training tasks first, then the held-out ones."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="\n") as fh:
        for report in reports:
            for i in range(len(report.tasks)):
                fh.write(report.verdicts[i].to_json() + "\n")
    tmp.replace(path)


def read_failed(path: Path) -> dict[str, str]:
    """Task id -> drop reason of every task ``gate.jsonl`` did not keep (evaluate skips them)."""
    failed: dict[str, str] = {}
    path = Path(path)
    if not path.exists():
        raise DataError("gate verdicts not found (the execute stage writes them)", where=str(path))
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            try:
                rec = json.loads(line)
                if not rec["kept"]:
                    failed[str(rec["task_id"])] = str(rec["reason"])
            except (ValueError, KeyError, TypeError):
                raise DataError(f"line {n} is not a gate verdict (task_id, kept, reason)", where=str(path))
    return failed


def gate_execute_output(*, tasks: Sequence[Task], heldout: Sequence[Task], trajectories_path: Path,
                        gate_path: Path, sandbox: SandboxConfig, teacher: str, workers: int,
                        prompt_style: str) -> dict[str, object]:
    """The execute stage's gate: every training task (its trajectory at ``trajectories_path`` is
    dropped when the task fails) and every held-out task (recorded; evaluate skips failures).

    With the oracle teacher, the trajectories already are the oracle's verdicts and are reused;
    with another teacher the oracle runs here. Writes ``gate_path`` (one verdict per task, see
    ``GateVerdict.to_json``) and rewrites ``trajectories_path`` without the dropped tasks.
    Returns the ``gate`` block of ``metrics/execute.json``.
    """
    from termcorpus.records import Trajectory

    trajectories_path = Path(trajectories_path)
    lines = trajectories_path.read_text(encoding="utf-8").splitlines()
    trajs = [Trajectory.model_validate_json(line) for line in lines]
    reused = {t.task_id: t.passed for t in trajs} if teacher == "oracle" else None
    train = run_gate(tasks, sandbox, workers, oracle_passed=reused, prompt_style=prompt_style, desc="gate")
    held = run_gate(heldout, sandbox, workers, prompt_style=prompt_style, desc="gate held-out")
    write_verdicts(gate_path, [train, held])
    keep = {t.id for t in train.kept}
    tmp = trajectories_path.with_name(trajectories_path.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="\n") as fh:
        for line, traj in zip(lines, trajs):
            if traj.task_id in keep:
                fh.write(line + "\n")
    tmp.replace(trajectories_path)
    held_failed = [t for t in held.dropped]
    by_set: Counter = Counter(t.eval_set or "heldout" for t in held_failed)
    return {
        "enabled": True,
        "oracle_reused": reused is not None,
        "train": train.metrics(),
        "heldout": {**held.metrics(), "failed_by_set": dict(sorted(by_set.items()))},
    }
