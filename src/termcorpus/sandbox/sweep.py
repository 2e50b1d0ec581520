"""Leave nothing behind, even when the runner is SIGKILLed: a registry of live sandboxes.

``close()`` cleans a session up, but a SIGKILLed runner never calls it. So every bwrap
session registers itself, before it creates anything, in a state directory
(``<tmp>/termcorpus-sandboxes-<euid>/``, 0700): one JSON file holding the owner's pid and
start time, the sandbox's temp dirs, its leased host uid, its cgroups and, once started, its
bwrap pid and start time. The owner keeps an exclusive ``flock`` on that file for the
session's life; the kernel drops the lock when the owner dies, however it dies.

:func:`sweep` (run once per process before its first sandbox starts, and by
``termcorpus sandbox sweep``) takes every entry whose lock it can get and whose owner is
gone, and undoes it: kills the sandbox's process tree (bwrap's pid if it is still the same
process, anything in its cgroups, anything running under its leased uid, which no one else
uses), lazily unmounts whatever is mounted below its dirs, removes the dirs and the cgroups,
and deletes the entry. A lock, not the pid alone, decides liveness: pids are reused, and two
sweepers racing on one entry cannot both get it.

What it does not sweep: Docker containers (``docker`` backend) and dirs a caller created
itself and passed in as ``workdir`` unless the caller registered them (:func:`register`).
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from termcorpus.sandbox.cgroup import remove_paths
from termcorpus.sandbox.procs import descendants, kill_pids, pids_of_uid
from termcorpus.sandbox.uids import UID_BASE, UID_SLOTS

_STALE_TMP_SEC = 60.0  # a half-written entry (owner died between create and rename) after this


def state_dir() -> Path:
    """The registry directory of this effective uid (created 0700; must be ours)."""
    d = Path(tempfile.gettempdir()) / f"termcorpus-sandboxes-{os.geteuid()}"
    d.mkdir(mode=0o700, exist_ok=True)
    st = os.lstat(d)
    if not (st.st_uid == os.geteuid() and not st.st_mode & 0o077 and os.path.isdir(d)):
        from termcorpus.errors import EnvironmentProblem

        raise EnvironmentProblem(f"sandbox state dir {d} is not a private directory of ours")
    return d


def start_time(pid: int) -> int | None:
    """The process's start time (clock ticks since boot, /proc/<pid>/stat field 22), or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return None
    rest = stat[stat.rfind(b")") + 2:].split()
    try:
        return int(rest[19]) if rest[0] not in (b"Z", b"X") else None
    except (IndexError, ValueError):
        return None


def same_process(pid: int | None, started: int | None) -> bool:
    """True when ``pid`` is alive and is the process that started at ``started``."""
    return pid is not None and started is not None and start_time(pid) == started


@dataclass
class Entry:
    """What one sandbox holds, as the sweep needs to undo it."""

    owner_pid: int
    owner_start: int | None
    dirs: list[str] = field(default_factory=list)  # removed (after unmounting below them)
    uid: int | None = None  # leased host uid: nothing else runs under it
    cgroups: list[str] = field(default_factory=list)  # cgroup dirs we created
    pid: int | None = None  # the sandbox's outermost process (bwrap)
    pid_start: int | None = None


class Registration:
    """A live entry: the owner holds its lock; ``update()`` rewrites it, ``drop()`` ends it."""

    def __init__(self, entry: Entry, directory: Path | None = None):
        self.entry = entry
        d = directory or state_dir()
        name = f"{entry.owner_pid}-{secrets.token_hex(6)}"
        tmp = d / f".tmp-{name}"
        # Locked before it becomes visible under its final name, so a sweeper never sees an
        # unlocked live entry.
        self._fd: int | None = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        self._write()
        self.path = d / f"{name}.json"
        os.rename(tmp, self.path)

    def _write(self) -> None:
        assert self._fd is not None
        data = json.dumps(asdict(self.entry), sort_keys=True).encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)

    def update(self, **changes: object) -> None:
        """Record what the sandbox holds now (call before creating it, not after)."""
        for key, value in changes.items():
            setattr(self.entry, key, value)
        if self._fd is not None:
            self._write()

    def drop(self) -> None:
        """The owner cleaned up itself: forget the entry."""
        if self._fd is None:
            return
        try:
            self.path.unlink()
        except OSError:
            pass
        os.close(self._fd)  # closing drops the lock
        self._fd = None


def register(dirs: list[Path] | None = None, directory: Path | None = None) -> Registration:
    """Register a new sandbox (or any dirs a caller wants swept if it dies) owned by us."""
    pid = os.getpid()
    return Registration(Entry(owner_pid=pid, owner_start=start_time(pid),
                              dirs=[str(d) for d in dirs or []]), directory)


@dataclass
class SweepReport:
    """What one sweep undid (counts), for the CLI and the tests."""

    entries: int = 0
    processes: int = 0
    unmounts: int = 0
    dirs: int = 0
    cgroups: int = 0
    uids: int = 0
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        text = (f"swept {self.entries} orphaned sandbox(es): {self.processes} processes killed, "
                f"{self.unmounts} mounts, {self.dirs} dirs, {self.cgroups} cgroups, {self.uids} uids freed")
        return text + (f"; left: {'; '.join(self.problems)}" if self.problems else "")


def _mounts_below(dirs: list[Path]) -> list[str]:
    """Mount points (this namespace) at or below any of ``dirs``, deepest first."""
    found = []
    try:
        with open("/proc/self/mountinfo", encoding="utf-8") as fh:
            for line in fh:
                point = line.split()[4].replace("\\040", " ")
                for d in dirs:
                    if point == str(d) or point.startswith(str(d).rstrip("/") + "/"):
                        found.append(point)
    except OSError:
        pass
    return sorted(set(found), key=lambda p: -p.count("/"))


def _ours(d: Path) -> bool:
    """A dir the sweep may delete: a ``termcorpus-*`` dir directly in the temp dir (the state
    dir is private, but a sweep must never rmtree anything else, whatever a file says)."""
    return d.name.startswith("termcorpus-") and d.parent == Path(tempfile.gettempdir())


def _undo(entry: Entry, report: SweepReport) -> None:
    killed: set[int] = set()
    if same_process(entry.pid, entry.pid_start):
        assert entry.pid is not None
        tree = descendants(entry.pid)
        kill_pids(tree[::-1] + [entry.pid])
        killed.update(tree + [entry.pid])
    if entry.uid is not None and UID_BASE <= entry.uid < UID_BASE + UID_SLOTS:
        # The uid was leased to this sandbox alone (sandbox/uids.py): whatever still runs under
        # it (a process that left bwrap's tree) is the sandbox's.
        for _ in range(200):
            left = pids_of_uid(entry.uid, live_only=True)
            if not left:
                break
            kill_pids(left)
            killed.update(left)
            time.sleep(0.01)
        if not pids_of_uid(entry.uid, live_only=True):
            report.uids += 1
        else:
            report.problems.append(f"uid {entry.uid} still has processes")
    cgroups = [Path(c) for c in entry.cgroups if Path(c).name.startswith("termcorpus-")]
    for c in cgroups:
        try:
            killed.update(int(p) for p in (c / "cgroup.procs").read_text().split())
        except (OSError, ValueError):
            pass
    left = remove_paths(cgroups)
    report.cgroups += sum(1 for c in cgroups if c not in left)
    report.problems += [f"cgroup {c} busy" for c in left]
    report.processes += len(killed)
    dirs = [Path(d) for d in entry.dirs if _ours(Path(d))]
    for point in _mounts_below(dirs):
        try:
            from ctypes import CDLL, get_errno

            libc = CDLL(None, use_errno=True)
            if libc.umount2(point.encode(), 2) == 0:  # MNT_DETACH: a busy mount goes too
                report.unmounts += 1
            else:
                report.problems.append(f"umount {point}: errno {get_errno()}")
        except OSError as e:
            report.problems.append(f"umount {point}: {e}")
    still = _mounts_below(dirs)
    for d in dirs:
        if any(p == str(d) or p.startswith(str(d) + "/") for p in still):
            # rmtree through a mount would delete what it shows (e.g. an overlay's lower layer)
            report.problems.append(f"{d} still has a mount below it; not removed")
            continue
        if d.is_dir() and not d.is_symlink():
            shutil.rmtree(d, ignore_errors=True)
            report.dirs += 1 if not d.exists() else 0
            if d.exists():
                report.problems.append(f"{d} could not be removed")


def sweep(directory: Path | None = None) -> SweepReport:
    """Undo every registered sandbox whose owner is gone; live ones are left alone."""
    report = SweepReport()
    d = directory or state_dir()
    for path in sorted(d.iterdir()):
        stale_tmp = path.name.startswith(".tmp-")
        if not (path.suffix == ".json" or stale_tmp):
            continue
        try:
            fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
        except OSError:
            continue  # dropped meanwhile
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # its owner (or another sweeper) holds it
            if stale_tmp and time.time() - os.fstat(fd).st_mtime < _STALE_TMP_SEC:
                continue
            try:
                raw = json.loads(os.pread(fd, 1 << 20, 0) or b"{}")
                entry = Entry(**raw) if raw else None
            except (ValueError, TypeError):
                entry = None
            if entry is not None and same_process(entry.owner_pid, entry.owner_start):
                continue  # owner alive but lock free (it closed the fd by hand): not ours to undo
            if entry is not None:
                _undo(entry, report)
                report.entries += 1
            try:
                path.unlink()
            except OSError:
                pass
        finally:
            os.close(fd)
    return report


_SWEPT_IN: int | None = None


def sweep_once() -> SweepReport | None:
    """Sweep before this process's first sandbox (again after a fork); later calls are free."""
    global _SWEPT_IN
    if _SWEPT_IN == os.getpid():
        return None
    _SWEPT_IN = os.getpid()
    report = sweep()
    if report.entries:
        import sys

        print(f"termcorpus sandbox: {report.line()}", file=sys.stderr)
    return report
