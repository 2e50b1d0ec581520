"""Properties of the bwrap sandbox, checked against a real bwrap."""

import os
import shutil
import time

import pytest

from termcorpus.errors import EnvironmentProblem
from termcorpus.sandbox import open_session
from termcorpus.sandbox.procs import pids_of_uid

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("bwrap") is None, reason="bwrap not installed"),
]


@pytest.fixture
def session(task, config):
    with open_session(task, config) as s:
        yield s


def test_cwd_is_app_with_task_files(session):
    r = session.run("pwd; cat hello.txt; bin/run.sh")
    assert r.output == "/app\nhello\nran\n"
    assert r.exit_code == 0


def test_uid_is_not_root(session):
    assert session.run("id -u").output.strip() == "1000"
    if os.geteuid() == 0:
        assert session.host_uid != 0


def test_no_network(session):
    r = session.run(
        "python3 -c 'import socket; socket.create_connection((\"1.1.1.1\", 80), timeout=2)'")
    assert r.exit_code != 0
    assert "unreachable" in r.output.lower()
    assert session.run("ls /sys/class/net 2>/dev/null; cat /proc/net/dev | tail -n +3 | cut -d: -f1").output.split() == ["lo"]


def test_cannot_see_root_home_or_repo(session):
    r = session.run("ls /root; ls /work; cat /etc/shadow")
    assert r.exit_code != 0
    assert r.output.count("No such file or directory") == 3


def test_cd_and_variables_persist_between_commands(session):
    session.run("mkdir -p sub && cd sub")
    session.run("export FOO=bar; BAZ=qux; f() { echo fn; }")
    r = session.run("pwd; echo $FOO $BAZ; f")
    assert r.output == "/app/sub\nbar qux\nfn\n"
    assert session.cwd == "/app/sub"


def test_stderr_is_merged_and_exit_code_kept(session):
    r = session.run("echo out; echo err >&2; exit_status() { return 7; }; exit_status")
    assert r.output == "out\nerr\n"
    assert r.exit_code == 7


def test_stdin_is_empty_so_reading_commands_do_not_hang(session):
    r = session.run("cat; read x; echo after", timeout_sec=2)
    assert not r.timed_out
    assert r.output == "after\n"


def test_timeout_kills_background_children(session):
    r = session.run("(sleep 0.8; touch /app/late) & sleep 60", timeout_sec=0.3)
    assert r.timed_out and r.exit_code is None
    time.sleep(1.0)
    after = session.run("ls /app; ps -e -o comm=")
    assert "late" not in after.output
    assert "sleep" not in after.output


def test_session_keeps_state_after_timeout(session):
    session.run("cd bin; X=1")
    assert session.run("sleep 30", timeout_sec=0.3).timed_out
    assert session.run("pwd; echo $X").output == "/app/bin\n1\n"


def test_stuck_builtin_loop_restarts_shell_in_same_directory(session):
    session.run("cd bin")
    r = session.run("while :; do :; done", timeout_sec=0.3)
    assert r.timed_out
    assert session.restarts == 1
    assert session.run("pwd").output == "/app/bin\n"


def test_exit_restarts_the_shell(session):
    r = session.run("exit 3")
    assert r.exit_code == 3
    assert session.run("echo back").output == "back\n"


def test_output_is_capped_with_marker(session):
    r = session.run("seq 1 100000")
    assert r.truncated
    assert len(r.output.encode()) < 1024 + 100
    assert r.output.startswith("1\n2\n")
    assert r.output.rstrip().endswith("100000")
    assert "output truncated" in r.output


def test_memory_limit_stops_a_big_allocation(session):
    r = session.run("python3 -c 'b = bytearray(2 * 1024**3); print(\"allocated\")'")
    assert "MemoryError" in r.output
    assert "allocated" not in r.output


def test_process_limit_holds(task, config):
    import dataclasses

    forker = (
        "import os, time\n"
        "n = 0\n"
        "try:\n"
        "    while n < 200:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(5); os._exit(0)\n"
        "        n += 1\n"
        "except OSError:\n"
        "    pass\n"
        "print(n)\n"
    )
    with open_session(task, dataclasses.replace(config, max_procs=16)) as s:
        s.put_file("fork.py", forker)
        r = s.run("python3 fork.py")
    assert r.exit_code == 0
    assert int(r.output.split()[-1]) < 16


def test_file_system_outside_app_and_tmp_is_read_only(session):
    r = session.run("touch /usr/x; touch /etc/x; touch /x; touch /tmp/ok ~/ok && echo writable")
    assert r.output.count("Read-only file system") == 3
    assert "writable" in r.output


def test_caller_environment_is_not_visible(task, config, monkeypatch):
    monkeypatch.setenv("TERMCORPUS_TEST_SECRET", "s3cr3t-value")
    with open_session(task, config) as s:
        r = s.run("env; cat /proc/1/environ /proc/2/environ | tr '\\0' '\\n'; "
                  "cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n'")
    assert "s3cr3t" not in r.output
    assert "TERMCORPUS_TEST_SECRET" not in r.output
    assert "PATH=" in r.output


def test_close_leaves_nothing_behind(task, config):
    s = open_session(task, config)
    s.run("sleep 100 & mkdir -p deep/er && echo x > deep/er/f")
    root, uid = s.root, s.host_uid
    s.close()
    assert not root.exists()
    if os.geteuid() == 0:
        assert pids_of_uid(uid, live_only=True) == []


def test_host_paths_are_private_to_the_session(task, config):
    with open_session(task, config) as a, open_session(task, config) as b:
        a.run("echo a > mine.txt")
        assert b.run("cat mine.txt").exit_code != 0
        if os.geteuid() == 0:
            assert a.host_uid != b.host_uid


def test_put_and_get_file(session):
    session.put_file("in/data.txt", "42\n")
    assert session.run("cat in/data.txt").output == "42\n"
    session.run("ln -s /etc/passwd link; echo made > out.txt")
    assert session.get_file("out.txt") == b"made\n"
    with pytest.raises(Exception):
        session.get_file("link")


def test_cgroup_is_reported(session):
    # The session names the mechanism that caps the task, and the cgroup it created (if any).
    from termcorpus.sandbox import cgroup

    assert session.limits == cgroup.mechanism()
    if session.limits == "rlimit-only":
        assert session.cgroup == "no cgroup"
    elif session.limits == "cgroup-v2":
        assert session.cgroup.startswith(str(cgroup.delegated_parent()))
    else:
        assert session.cgroup.startswith(str(cgroup.v1_parents()[0]))


def test_verifier_layout_tests_read_only_logs_writable(task, config, episode_dir):
    from termcorpus.sandbox import prepare_workdir

    wd = prepare_workdir(task, episode_dir)
    with open_session(task, config, workdir=wd, tests_dir=True) as s:
        r = s.run("ls /tests; touch /tests/x; echo 0.5 > /logs/verifier/reward.txt && echo ok; cat hello.txt")
        assert "test.sh" in r.output
        assert "Read-only file system" in r.output
        assert "ok\nhello" in r.output
        assert (s.logs_path / "reward.txt").read_text() == "0.5\n"
    assert (wd / "hello.txt").exists()  # a caller's workdir is kept on close


@pytest.mark.skipif(os.geteuid() != 0, reason="only root drops to another uid")
def test_untraversable_workdir_is_a_data_error(task, config, tmp_path):
    from termcorpus.errors import DataError

    os.chmod(tmp_path.parent, 0o700)
    wd = tmp_path / "app"
    wd.mkdir()
    with pytest.raises(DataError, match="o\\+x"):
        open_session(task, config, workdir=wd)


def test_missing_bwrap_is_one_line_environment_problem(task, config, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(EnvironmentProblem, match="bubblewrap"):
        open_session(task, config)
