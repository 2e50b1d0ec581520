"""The verifier: run the task's tests over the agent's /app in a fresh shell, score 0..1.

As in Harbor, tests arrive only after the agent is done (every agent process stopped; the
shell is new, in the agent's own sandbox or in a new one over the same /app): /tests (read-only) holds
``task.tests``, ``bash /tests/test.sh`` runs in /app, and the reward is the number the tests
wrote to /logs/verifier/reward.txt (or ``reward.json``), else 1.0 for exit code 0 and 0.0
otherwise, clamped to [0, 1].
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from termcorpus.records import CommandResult, Task
from termcorpus.sandbox import SandboxConfig, Session, open_session

_MAX_REWARD_FILE_BYTES = 4096


@dataclass(frozen=True)
class VerifierResult:
    reward: float
    passed: bool
    exit_code: int | None
    timed_out: bool
    output: str


def _read_small(path: Path) -> str | None:
    """Read a file the tests wrote; refuse symlinks (they could point at host files) and
    anything but a regular file (a FIFO would block this read forever, a directory would raise)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    with os.fdopen(fd, "rb") as fh:
        return fh.read(_MAX_REWARD_FILE_BYTES).decode("utf-8", errors="replace")


def _reward_from_files(logs: Path) -> tuple[float | None, str]:
    """(reward, note): reward None when the tests wrote no reward file."""
    text = _read_small(logs / "reward.txt")
    if text is not None:
        try:
            return float(text.strip()), ""
        except ValueError:
            return 0.0, f"[verifier: reward.txt is not a number: {text.strip()[:40]!r}]"
    text = _read_small(logs / "reward.json")
    if text is not None:
        try:
            data = json.loads(text)
            values = [float(v) for v in data.values()] if isinstance(data, dict) else [float(data)]
            if isinstance(data, dict) and "reward" in data:
                return float(data["reward"]), ""
            if values:
                return sum(values) / len(values), ""
        except (ValueError, TypeError, AttributeError):
            pass
        return 0.0, f"[verifier: reward.json is not a number or a {{name: number}} object: {text.strip()[:40]!r}]"
    return None, ""


def run_verifier(task: Task, config: SandboxConfig, workdir: Path,
                 agent_session: Session | None = None) -> VerifierResult:
    """Run ``task``'s tests in a sandbox over ``workdir`` (the agent's /app).

    With ``agent_session`` (opened with ``verifier_slot``), the tests run in the agent's own
    sandbox after every process of the agent is stopped, as Harbor runs them in the agent's
    container; the session is closed here either way. Otherwise, or when that sandbox cannot
    take them, a new sandbox is opened over the same /app.
    """
    # The tests get the task's own time budget, not the per-command cap of the agent.
    vconfig = dataclasses.replace(config, timeout_sec=float(task.environment.timeout_sec))
    session = None
    if agent_session is not None:
        try:
            if config.verify_in_place and agent_session.verify_in_place(vconfig.timeout_sec):
                session = agent_session
        finally:
            if session is None:
                agent_session.close()
    if session is None:
        session = open_session(task, vconfig, workdir=workdir, tests_dir=True)
    with session:
        result = session.run("bash /tests/test.sh", vconfig.timeout_sec)
        assert session.logs_path is not None
        return score(result, session.logs_path, vconfig.timeout_sec)


def score(result: CommandResult, logs: Path, timeout_sec: float) -> VerifierResult:
    """The verdict of one ``bash /tests/test.sh`` run: the reward file it wrote under ``logs``
    (the host side of /logs/verifier), else its exit code (the gate shares this rule)."""
    reward, note = _reward_from_files(logs)
    if reward is None:
        reward = 1.0 if (result.exit_code == 0 and not result.timed_out) else 0.0
    if math.isnan(reward):
        reward = 0.0
    reward = min(1.0, max(0.0, reward))
    output = result.output + (("\n" + note) if note else "")
    if result.timed_out:
        output += f"\n[verifier: timed out after {timeout_sec:g}s]"
    return VerifierResult(
        reward=reward, passed=reward >= 1.0, exit_code=result.exit_code,
        timed_out=result.timed_out, output=output,
    )
