"""Nothing left behind under SIGKILL: a runner killed mid-sandbox is undone by the next sweep
(real bwrap, real cgroups where this host has them, real processes and uid leases)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

import termcorpus
from termcorpus.sandbox import open_session
from termcorpus.sandbox.procs import pids_of_uid
from termcorpus.sandbox.sweep import register, start_time, state_dir, sweep
from termcorpus.sandbox.uids import is_leased

pytestmark = pytest.mark.integration

SRC = str(Path(termcorpus.__file__).resolve().parents[1])

# A runner that opens a sandbox, leaves a sleeping child in it, says what it holds, then waits
# to be killed.
RUNNER = textwrap.dedent("""
    import json, sys, time
    from termcorpus.records import Task
    from termcorpus.sandbox import SandboxConfig, open_session
    task = Task(id="sweep-0", family="sweep", source="seed", domain="file_operations",
                instruction="x", files={"a.txt": "a\\n"}, solution=["true"],
                tests={"test.sh": "#!/bin/bash\\nexit 0\\n"})
    s = open_session(task, SandboxConfig(backend="bwrap", memory_mb=256, max_procs=32))
    s.run("sleep 300 > /dev/null 2>&1 &")
    print(json.dumps({"root": str(s.root), "uid": s.host_uid, "pid": s._outer,
                      "cgroups": [str(p) for p in (s._cg.paths if s._cg else [])],
                      "entry": str(s._reg.path)}), flush=True)
    time.sleep(300)
""")


NEXT_RUN = textwrap.dedent("""
    from termcorpus.records import Task
    from termcorpus.sandbox import SandboxConfig, open_session
    task = Task(id="next-0", family="next", source="seed", domain="file_operations", instruction="x",
                solution=["true"], tests={"test.sh": "#!/bin/bash\\nexit 0\\n"})
    with open_session(task, SandboxConfig(backend="bwrap")) as s:
        print(s.run("echo ran").output, end="")
""")


def _start_runner(code: str) -> tuple[subprocess.Popen, dict]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": SRC}
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, env=env, text=True)
    line = proc.stdout.readline()
    assert line, f"runner exited early ({proc.wait()})"
    return proc, json.loads(line)


def test_sigkilled_runner_is_swept_by_the_next_run():
    proc, held = _start_runner(RUNNER)
    root, entry = Path(held["root"]), Path(held["entry"])
    cgroups = [Path(c) for c in held["cgroups"]]
    assert root.is_dir() and entry.exists() and all(c.is_dir() for c in cgroups)
    if os.geteuid() == 0:
        assert is_leased(held["uid"]) and pids_of_uid(held["uid"], live_only=True)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # Before the sweep: what close() would have removed is still there.
    assert root.is_dir() and entry.exists() and all(c.is_dir() for c in cgroups)
    # The next run: a new runner's first sandbox start sweeps before it registers its own.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": SRC}
    nxt = subprocess.run([sys.executable, "-c", NEXT_RUN], env=env, capture_output=True, text=True, timeout=60)
    assert nxt.returncode == 0, nxt.stderr
    assert "termcorpus sandbox: swept " in nxt.stderr and "ran\n" == nxt.stdout
    assert not root.exists() and not entry.exists()
    assert not any(c.exists() for c in cgroups)
    assert start_time(held["pid"]) is None  # bwrap is gone
    if os.geteuid() == 0:
        assert pids_of_uid(held["uid"], live_only=True) == []
        assert not is_leased(held["uid"])


def test_sweep_kills_a_tree_that_outlived_its_runner(tmp_path):
    left = Path(tempfile.mkdtemp(prefix="termcorpus-test-left-"))
    foreign = tmp_path / "not-ours"  # registered too, but not a termcorpus-* temp dir: kept
    # A process that left the runner's tree (its own session, not bwrap's child): only the
    # registry knows it. The runner registers it, then dies.
    code = textwrap.dedent(f"""
        import json, subprocess, time
        from termcorpus.sandbox.sweep import register, start_time
        child = subprocess.Popen(["sleep", "300"], start_new_session=True)
        time.sleep(0.2)
        reg = register([{str(left)!r}, {str(foreign)!r}])
        reg.update(pid=child.pid, pid_start=start_time(child.pid))
        print(json.dumps({{"pid": child.pid, "entry": str(reg.path)}}), flush=True)
        time.sleep(300)
    """)
    (left / "sub").mkdir()
    foreign.mkdir()
    proc, held = _start_runner(code)
    orphan = held["pid"]
    proc.kill()
    proc.wait()
    assert start_time(orphan) is not None  # it outlived the runner
    report = sweep()
    assert report.processes >= 1
    for _ in range(100):
        if start_time(orphan) is None:
            break
        time.sleep(0.01)
    assert start_time(orphan) is None
    assert not left.exists() and not Path(held["entry"]).exists()
    assert foreign.is_dir()


def test_live_sandboxes_are_not_swept(task, config):
    with open_session(task, config) as s:
        sweep()
        assert s.root.is_dir() and s._reg.path.exists()
        assert s.run("echo alive").output == "alive\n"
    assert not s.root.exists()


def test_a_registration_from_a_live_owner_survives_a_sweep(tmp_path):
    reg = register([tmp_path / "mine"], directory=tmp_path)
    (tmp_path / "mine").mkdir()
    report = sweep(tmp_path)
    assert report.entries == 0 and (tmp_path / "mine").is_dir() and reg.path.exists()
    reg.drop()
    assert not reg.path.exists()


def test_sweep_cli_prints_one_line_and_the_mechanism():
    from click.testing import CliRunner

    from termcorpus.cli import main

    res = CliRunner().invoke(main, ["sandbox", "sweep"])
    assert res.exit_code == 0, res.output
    assert res.output.startswith("swept ") and "task limits here: " in res.output


def test_state_dir_is_private():
    d = state_dir()
    assert os.stat(d).st_mode & 0o077 == 0
