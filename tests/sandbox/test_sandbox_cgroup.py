"""Per-task cgroups: the mechanism is detected and reported, limits are set, and only our own
children are created and removed (real cgroupfs; skipped where this process has none)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from termcorpus.sandbox import cgroup, open_session

pytestmark = pytest.mark.integration

V1 = cgroup.mechanism() == "cgroup-v1"


def test_mechanism_is_one_of_the_named_ones():
    assert cgroup.mechanism() in cgroup.MECHANISMS
    assert cgroup.mechanism(as_root=False) == "rlimit-only"


def test_wrap_joins_every_cgroup_before_exec(tmp_path):
    cg = cgroup.TaskCgroup([tmp_path / "a", tmp_path / "b"])
    argv = cg.wrap(["echo", "hi"])
    assert argv[:2] == ["sh", "-c"] and argv[-2:] == ["echo", "hi"]
    assert '"$1/cgroup.procs"' in argv[2] and '"$2/cgroup.procs"' in argv[2] and "shift 2" in argv[2]


def test_remove_paths_never_touches_a_foreign_cgroup(tmp_path):
    foreign = tmp_path / "someone-elses"
    foreign.mkdir()
    assert cgroup.remove_paths([foreign]) == []
    assert foreign.is_dir()


@pytest.mark.skipif(not V1, reason="no writable cgroup v1 memory hierarchy here")
def test_v1_cgroup_has_the_limits_and_is_removed(task, config):
    with open_session(task, config) as s:
        assert s.limits == "cgroup-v1"
        mem = Path(s.cgroup)
        assert mem.name.startswith("termcorpus-") and mem.parent == cgroup.v1_parents()[0]
        assert int((mem / "memory.limit_in_bytes").read_text()) == config.memory_mb << 20
        if (mem / "memory.memsw.limit_in_bytes").exists():
            assert int((mem / "memory.memsw.limit_in_bytes").read_text()) == config.memory_mb << 20
        # the whole tree is inside: bwrap's processes and the shell's
        members = {int(p) for p in (mem / "cgroup.procs").read_text().split()}
        assert s._outer in members and s._shell in members
        pids_dir = s._cg.paths[1] if len(s._cg.paths) > 1 else None
        if pids_dir is not None:
            assert int((pids_dir / "pids.max").read_text()) == config.max_procs
        # a cgroup namespace: inside, the task's cgroup is the root and no host path shows
        r = s.run("cat /proc/self/cgroup | grep memory")
        assert r.output.strip().endswith(":memory:/") and "termcorpus-" not in r.output
    assert not mem.exists()
    if pids_dir is not None:
        assert not pids_dir.exists()
    # our parent's own limit is untouched
    assert (cgroup.v1_parents()[0] / "memory.limit_in_bytes").read_text().strip() != str(config.memory_mb << 20)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root starts sandboxes in cgroups")
def test_no_probe_or_task_cgroups_left_after_sessions(task, config):
    parents = [p for p in (cgroup.delegated_parent(), *cgroup.v1_parents()) if p is not None]
    # Only this process's cgroups (the names carry the creating pid): other processes on the
    # machine may be running sandboxes of their own while this test runs.
    pid = os.getpid()

    def ours() -> set:
        return {c for p in parents for pat in (f"termcorpus-{pid}-*", f"termcorpus-probe-{pid}-*") for c in p.glob(pat)}

    before = ours()
    during = set()
    for _ in range(2):
        with open_session(task, config) as s:
            s.run("true")
            during |= ours()
    assert during - before, "no cgroup of this process seen during a session: the name filter misses them"
    assert ours() <= before
