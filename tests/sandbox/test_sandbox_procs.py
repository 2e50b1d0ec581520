"""The /proc helpers: the tree walk through the kernel's ``children`` files agrees with a full
scan of /proc, and the sandbox's shared /etc is built once, safely, from the host's entries."""

import os
import stat
import subprocess
import time

import pytest

from termcorpus.errors import EnvironmentProblem
from termcorpus.sandbox import bwrap
from termcorpus.sandbox.procs import children, descendants, kill_pids, process_table


@pytest.fixture
def tree():
    # bash -> (sleep, sleep, bash -> sleep): 4 live descendants, one of them a grandchild
    p = subprocess.Popen(["bash", "-c", "sleep 30 & sleep 30 & bash -c 'sleep 30; :' & wait"])
    deadline = time.monotonic() + 10
    while len(descendants(p.pid, process_table())) < 4:
        assert time.monotonic() < deadline, "the tree did not start"
        time.sleep(0.01)
    yield p
    kill_pids(descendants(p.pid)[::-1] + [p.pid])
    p.wait()


def test_tree_walk_equals_a_full_proc_scan(tree):
    walked = descendants(tree.pid)
    assert len(walked) == 4
    assert walked == descendants(tree.pid, process_table())
    assert set(children(tree.pid)) < set(walked)  # the grandchild is not a direct child


def test_dead_children_are_left_out(tree):
    victim = children(tree.pid)[0]
    os.kill(victim, 9)
    deadline = time.monotonic() + 10
    while victim in children(tree.pid):  # gone once reaped, and left out while a zombie
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert victim not in descendants(tree.pid)


def test_children_of_a_gone_pid_is_empty():
    p = subprocess.Popen(["true"])
    p.wait()
    assert children(p.pid) == [] and descendants(p.pid) == []


def test_etc_dir_has_our_users_and_host_entries_and_nobody_else_can_write(monkeypatch, tmp_path):
    monkeypatch.setattr(bwrap.tempfile, "gettempdir", lambda: str(tmp_path))
    monkeypatch.setattr(bwrap, "_ETC_DIR", None)
    d = bwrap.etc_dir()
    assert d.parent == tmp_path and d.name.startswith(f"termcorpus-etc-{os.geteuid()}-")
    assert "agent:x:1000:1000" in (d / "passwd").read_text()
    assert not (d / "shadow").exists()
    for name in ("ld.so.cache", "nsswitch.conf"):
        if os.path.exists(f"/etc/{name}"):
            assert (d / name).read_bytes() == open(f"/etc/{name}", "rb").read()
    for path in [d, *d.rglob("*")]:
        if not path.is_symlink():
            assert not path.stat().st_mode & 0o022, path
    assert bwrap.etc_dir() == d  # built once
    assert sorted(p.name for p in tmp_path.iterdir()) == [d.name]  # no build dir left behind


def test_etc_dir_refuses_a_planted_directory(monkeypatch, tmp_path):
    monkeypatch.setattr(bwrap.tempfile, "gettempdir", lambda: str(tmp_path))
    monkeypatch.setattr(bwrap, "_ETC_DIR", None)
    planted = tmp_path / f"termcorpus-etc-{os.geteuid()}-{bwrap._etc_fingerprint()}"
    planted.mkdir()
    (planted / "passwd").write_text("agent:x:0:0::/:/bin/bash\n")
    os.chmod(planted, 0o777)  # anyone could have put a passwd of their own in it
    with pytest.raises(EnvironmentProblem, match="not a directory of ours that only we can write"):
        bwrap.etc_dir()
    assert stat.S_IMODE(planted.stat().st_mode) == 0o777  # not ours to change
