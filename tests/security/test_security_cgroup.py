"""Red team, task totals: several processes that each stay under the per-process limits must
not add up past the task's cap. Only a per-task cgroup can stop that (sandbox/cgroup.py), so
these run where one holds (cgroup-v2 or cgroup-v1) and skip, saying so, where only rlimits do.

Bounded on purpose: a 256 MB task limit, 4 processes x 100 MB (400 MB at most if uncapped),
16 processes for the fork bomb, a few seconds each.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest

from termcorpus.sandbox import cgroup, open_session

pytestmark = pytest.mark.integration

MECHANISM = cgroup.mechanism()
needs_cgroup = pytest.mark.skipif(MECHANISM == "rlimit-only",
                                  reason="no usable cgroup here: total memory is not capped (rlimit-only)")


def attempt(category: str, what: str):
    """Tag a test as one red-team attempt (conftest writes the SECURITY.md table from it)."""

    def deco(fn):
        fn.redteam = (category, what)
        return fn

    return deco


def _read(path: Path | None, name: str) -> str:
    try:
        return (path / name).read_text() if path is not None else ""
    except OSError:
        return ""


@needs_cgroup
@attempt("exhaust resources", "memory bomb split over 4 processes x 100 MB, each under RLIMIT_AS (task cap 256 MB)")
def test_multi_process_memory_bomb_is_capped(task, config):
    cfg = dataclasses.replace(config, memory_mb=256, max_procs=32, timeout_sec=20.0)
    bomb = ("for i in 1 2 3 4; do python3 -c 'import time; b = b\"x\" * (100 << 20); "
            "time.sleep(3); print(\"held\")' & done; wait")
    with open_session(task, cfg) as s:
        assert s.limits == MECHANISM
        mem = s._cg.paths[0]
        start = time.monotonic()
        r = s.run(bomb)
        took = time.monotonic() - start
        alive = s.run("echo still-here")
        if MECHANISM == "cgroup-v1":
            peak = int(_read(mem, "memory.max_usage_in_bytes"))
            oom_kills = int(dict(line.split() for line in _read(mem, "memory.oom_control").splitlines())
                            .get("oom_kill", "0"))
        else:
            peak = int(_read(mem, "memory.peak") or 0)
            oom_kills = int(dict(line.split() for line in _read(mem, "memory.events").splitlines())
                            .get("oom_kill", "0"))
    # Each process alone fits (100 MB < 256 MB RLIMIT_AS), so without the cgroup all 4 would
    # hold their 100 MB; under it the kernel's OOM killer takes some inside the sandbox.
    assert r.output.splitlines().count("held") < 4, r.output  # ("Killed" job lines quote the code)
    assert oom_kills >= 1
    assert peak <= (cfg.memory_mb << 20)
    assert alive.output == "still-here\n"  # the session itself survives
    assert took < cfg.timeout_sec


@needs_cgroup
@attempt("exhaust resources", "fork bomb against the task cgroup's pids.max")
def test_fork_bomb_is_capped_by_pids(task, config):
    cfg = dataclasses.replace(config, max_procs=16, timeout_sec=3.0)
    with open_session(task, cfg) as s:
        paths = s._cg.paths
        pids = paths[-1] if MECHANISM == "cgroup-v2" or len(paths) > 1 else None
        if pids is None:
            pytest.skip("the v1 pids hierarchy is not writable here: only RLIMIT_NPROC caps processes")
        assert int(_read(pids, "pids.max")) == cfg.max_procs
        s.run(":(){ :|:& };:")
        peak = 0
        for _ in range(20):
            peak = max(peak, int(_read(pids, "pids.current") or 0))
            time.sleep(0.05)
        peak = max(peak, int(_read(pids, "pids.peak") or 0))
        alive = s.run("echo still-here")
        assert "still-here\n" in alive.output
    assert 0 < peak <= cfg.max_procs
    assert not pids.exists()  # removed with the session
