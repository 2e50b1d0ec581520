"""Local self-check of a task: does the reference solution pass its test, and doing nothing fail?

This runs the task with plain ``bash`` in a temporary directory that stands in for ``/app``; the
test script honours ``APP_DIR`` and ``LOGS_DIR`` for exactly this purpose. There is NO isolation
(no namespaces, no limits beyond a timeout): use it only for trusted tasks such as our own seeds
and their variants; anything else goes through the sandbox. The environment is reduced to a
fixed PATH (/usr/bin:/bin) and no locale, like the sandbox's cleared environment.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from termcorpus.records import Task

_PATH = "/usr/bin:/bin"


@dataclass(frozen=True)
class CheckResult:
    passed: bool
    exit_code: int | None
    reward: str
    output: str


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str], stdin: str | None, timeout_sec: float) -> tuple[int | None, str]:
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(stdin, timeout=timeout_sec)
        return proc.returncode, out
    except subprocess.TimeoutExpired:
        # the whole process group: background children of the commands die too
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        return None, out + "\n[timed out]"


def materialize(task: Task, app: Path) -> None:
    """Write the task's input files under ``app``."""
    import base64

    for rel, text in task.files.items():
        p = app / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    for rel, b64 in task.binary_files.items():
        p = app / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(base64.b64decode(b64))


def run_local(task: Task, *, oracle: bool, timeout_sec: float = 30.0) -> CheckResult:
    """Run the solution (``oracle=True``) or nothing, then the task's test; report the verdict."""
    with tempfile.TemporaryDirectory(prefix="termcorpus-check-") as tmp:
        root = Path(tmp)
        app, tests, logs, home = root / "app", root / "tests", root / "logs", root / "home"
        for d in (app, tests, logs, home):
            d.mkdir()
        materialize(task, app)
        for rel, text in task.tests.items():
            p = tests / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text, encoding="utf-8")
        env = {"PATH": _PATH, "HOME": str(home), "APP_DIR": str(app), "LOGS_DIR": str(logs)}
        out = ""
        if oracle:
            # one shell for all commands, like the agent's persistent terminal (cd carries over)
            script = "".join(c + "\n" for c in task.solution)
            _, out = _run(["bash", "--noprofile", "--norc"], cwd=app, env=env, stdin=script, timeout_sec=timeout_sec)
        code, test_out = _run(["bash", str(tests / "test.sh")], cwd=root, env=env, stdin=None, timeout_sec=timeout_sec)
        reward_file = logs / "reward.txt"
        reward = reward_file.read_text().strip() if reward_file.exists() else ""
        return CheckResult(passed=code == 0, exit_code=code, reward=reward, output=(out + test_out)[-4000:])
