"""Per-task cgroups: what caps a task's *total* memory and process count.

Per-process rlimits cannot cap a task's total memory (several processes each under
RLIMIT_AS add up); a cgroup can. Three mechanisms, tried in this order:

* ``cgroup-v2``: a cgroup v2 directory delegated to this process (writable, and already
  enabling the ``memory`` and ``pids`` controllers for its children, as ``systemd-run --scope
  -p Delegate=yes`` gives). A child gets ``memory.max`` (+ ``memory.swap.max`` 0) and
  ``pids.max``.
* ``cgroup-v1``: a hybrid/legacy host whose v1 ``memory`` hierarchy lets this process create
  children of its *own* memory cgroup (``/sys/fs/cgroup/memory/<own path>/NAME``): a child
  gets ``memory.limit_in_bytes`` (+ ``memory.memsw.limit_in_bytes`` at the same value, so
  swap cannot extend it) and, where the v1 ``pids`` hierarchy is writable too, ``pids.max``.
* ``rlimit-only``: neither; only the per-process rlimits hold (reported, never hidden).

We only ever create children named ``termcorpus-<pid>-<hex>`` below our own cgroup and remove
exactly those; no ``subtree_control``, limit or membership of a cgroup we did not create is
changed. A sandbox joins its cgroups from the first process of its start-up chain (``sh``
writes its own pid to ``cgroup.procs`` and ``exec``s the rest), so every descendant is in.
"""

from __future__ import annotations

import functools
import os
import secrets
import signal
import time
from pathlib import Path

V1_ROOT = Path("/sys/fs/cgroup")
MECHANISMS = ("cgroup-v2", "cgroup-v1", "rlimit-only")


def _mounts(fstype: str) -> list[tuple[Path, set[str]]]:
    """(mount point, super options) of every mount of ``fstype`` in this mount namespace."""
    mounts = []
    try:
        with open("/proc/self/mountinfo", encoding="utf-8") as fh:
            for line in fh:
                left, _, right = line.partition(" - ")
                fields = right.split()
                if fields and fields[0] == fstype:
                    opts = set(fields[2].split(",")) if len(fields) > 2 else set()
                    mounts.append((Path(left.split()[4]), opts))
    except OSError:
        pass
    return mounts


def _own_paths() -> dict[str, str]:
    """Controller (or "" for v2) -> this process's cgroup path, from /proc/self/cgroup."""
    out: dict[str, str] = {}
    try:
        with open("/proc/self/cgroup", encoding="utf-8") as fh:
            for line in fh:
                _, controllers, path = line.rstrip("\n").split(":", 2)
                for c in controllers.split(",") if controllers else [""]:
                    out[c] = path
    except (OSError, ValueError):
        pass
    return out


def usable_parent(path: Path) -> bool:
    """True when ``path`` is a cgroup v2 dir we may create children in with memory+pids."""
    try:
        enabled = (path / "cgroup.subtree_control").read_text().split()
    except OSError:
        return False
    return "memory" in enabled and "pids" in enabled and os.access(path, os.W_OK | os.X_OK)


@functools.lru_cache(maxsize=1)
def delegated_parent() -> Path | None:
    """The cgroup v2 directory delegated to this process, or None (detected once)."""
    own = _own_paths().get("")
    if own is None:
        return None
    for mount, _ in _mounts("cgroup2"):
        candidate = mount / own.lstrip("/")
        if usable_parent(candidate):
            return candidate
    return None


def _v1_parent(controller: str, probe_file: str) -> Path | None:
    """Our own cgroup in the v1 ``controller`` hierarchy, when we can make children there.

    Writable is not enough (a read-only bind, an LSM): a throwaway child is created, its
    ``probe_file`` written with the value it already has, and removed again.
    """
    own = _own_paths().get(controller)
    if own is None:
        return None
    for mount, opts in _mounts("cgroup"):
        if controller not in opts:
            continue
        parent = mount / own.lstrip("/")
        if not os.access(parent, os.W_OK | os.X_OK):
            continue
        probe = parent / f"termcorpus-probe-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            probe.mkdir()
        except OSError:
            continue
        try:
            (probe / probe_file).write_text((probe / probe_file).read_text().strip())
            return parent
        except OSError:
            continue
        finally:
            try:
                probe.rmdir()
            except OSError:
                pass
    return None


@functools.lru_cache(maxsize=1)
def v1_parents() -> tuple[Path | None, Path | None]:
    """(memory parent, pids parent) in the cgroup v1 hierarchies, each None when unusable."""
    return _v1_parent("memory", "memory.limit_in_bytes"), _v1_parent("pids", "pids.max")


def mechanism(as_root: bool | None = None) -> str:
    """The mechanism a bwrap sandbox started by this process gets (see the module docstring).

    Only root starts sandboxes in cgroups: the start-up chain writes ``cgroup.procs`` before
    it drops to the sandbox's uid."""
    if as_root is None:
        as_root = os.geteuid() == 0
    if not as_root:
        return "rlimit-only"
    if delegated_parent() is not None:
        return "cgroup-v2"
    if v1_parents()[0] is not None:
        return "cgroup-v1"
    return "rlimit-only"


def _new_name() -> str:
    return f"termcorpus-{os.getpid()}-{secrets.token_hex(4)}"


class TaskCgroup:
    """The cgroup(s) we create for one sandbox: fill with it, kill what is left, remove."""

    mechanism = "rlimit-only"

    def __init__(self, paths: list[Path]):
        self.paths = paths  # every directory we created (v1: one per hierarchy)

    @property
    def path(self) -> Path:
        return self.paths[0]

    def wrap(self, argv: list[str]) -> list[str]:
        """Prefix ``argv`` so that it joins every cgroup of ours before it execs (children follow)."""
        joins = " && ".join(f'echo $$ > "${i}/cgroup.procs"' for i in range(1, len(self.paths) + 1))
        return ["sh", "-c", f'{joins} && shift {len(self.paths)} && exec "$@"',
                "sh", *map(str, self.paths), *argv]

    def remove(self) -> None:
        remove_paths(self.paths)


class TaskCgroupV2(TaskCgroup):
    mechanism = "cgroup-v2"

    def __init__(self, parent: Path, memory_mb: int, max_procs: int, note=None):
        path = parent / _new_name()
        if note is not None:
            note([path])
        path.mkdir()
        super().__init__([path])
        try:
            (path / "memory.max").write_text(str(memory_mb << 20))
            if (path / "memory.swap.max").exists():
                (path / "memory.swap.max").write_text("0")
            (path / "pids.max").write_text(str(max_procs))
        except OSError:
            self.remove()
            raise


class TaskCgroupV1(TaskCgroup):
    mechanism = "cgroup-v1"

    def __init__(self, memory_parent: Path, pids_parent: Path | None, memory_mb: int, max_procs: int,
                 note=None):
        name = _new_name()
        if note is not None:
            note([p / name for p in (memory_parent, pids_parent) if p is not None])
        super().__init__([])
        try:
            mem = memory_parent / name
            mem.mkdir()
            self.paths.append(mem)
            # memsw (memory + swap) must never be below the memory limit: memory first.
            (mem / "memory.limit_in_bytes").write_text(str(memory_mb << 20))
            if (mem / "memory.memsw.limit_in_bytes").exists():
                (mem / "memory.memsw.limit_in_bytes").write_text(str(memory_mb << 20))
            if pids_parent is not None:
                pids = pids_parent / name
                pids.mkdir()
                self.paths.append(pids)
                (pids / "pids.max").write_text(str(max_procs))
        except OSError:
            self.remove()
            raise

    @property
    def memory_path(self) -> Path:
        return self.paths[0]

    @property
    def pids_path(self) -> Path | None:
        return self.paths[1] if len(self.paths) > 1 else None


def create(memory_mb: int, max_procs: int, note=None) -> TaskCgroup | None:
    """A new task cgroup by the best mechanism this process has, or None (rlimit-only).

    ``note(paths)`` is called with the directories about to be made, before any is made (the
    sweep registry records them first, so a SIGKILL in between leaves nothing unknown)."""
    if os.geteuid() != 0:
        return None
    parent = delegated_parent()
    memory_parent, pids_parent = v1_parents()
    try:
        if parent is not None:
            return TaskCgroupV2(parent, memory_mb, max_procs, note)
        if memory_parent is not None:
            return TaskCgroupV1(memory_parent, pids_parent, memory_mb, max_procs, note)
    except OSError as e:
        from termcorpus.errors import EnvironmentProblem

        raise EnvironmentProblem(f"cannot create the task cgroup under {parent or memory_parent}: {e}")
    return None


def _procs(path: Path) -> list[int]:
    try:
        return [int(p) for p in (path / "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return []


def remove_paths(paths: list[Path], wait_sec: float = 2.0) -> list[Path]:
    """Kill whatever still runs in these cgroups (ours) and remove them; return those left.

    Only directories named ``termcorpus-*`` are touched: the sweep passes paths read from a
    state file, and a corrupted file must not make us empty someone else's cgroup."""
    left = []
    for path in paths:
        if not path.name.startswith("termcorpus-") or not path.is_dir():
            continue
        kill = path / "cgroup.kill"  # v2 only; v1: signal the members ourselves
        end = time.monotonic() + wait_sec
        while True:
            pids = _procs(path)
            if not pids:
                break
            if kill.exists():
                try:
                    kill.write_text("1")
                except OSError:
                    pass
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            if time.monotonic() > end:
                break
            time.sleep(0.01)
        try:
            path.rmdir()
        except OSError:
            # A member may still be exiting (a zombie not yet reaped is still a member).
            for _ in range(100):
                time.sleep(0.01)
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    continue
        if path.exists():
            left.append(path)
    return left
