"""Lend each sandbox its own unused host uid (when we run as root).

RLIMIT_NPROC counts processes per real uid, and is not enforced for root. Giving every live
sandbox a host uid that nothing else uses makes the limit hold per sandbox, and lets parallel
workers never count each other's processes. Slots are claimed with ``flock`` on a lock file,
so they are freed even if a worker dies (the kernel drops a dead process's locks); what such a
worker's sandbox left running under the uid is killed by the sweep (sandbox/sweep.py), and
until then ``lease_uid`` skips the uid.
"""

from __future__ import annotations

import fcntl
import os
import pwd
import tempfile
from pathlib import Path

from termcorpus.errors import EnvironmentProblem
from termcorpus.sandbox.procs import pids_of_uid

UID_BASE = 1_620_000  # far above login, system and the usual subuid ranges (100000-165535)
UID_SLOTS = 4096


class UidLease:
    """An exclusive host uid for one sandbox; ``release()`` gives it back."""

    def __init__(self, uid: int, fd: int):
        self.uid = uid
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None


def _lock_dir() -> Path:
    d = Path(tempfile.gettempdir()) / "termcorpus-sandbox-uids"
    d.mkdir(mode=0o700, exist_ok=True)
    return d


def lease_uid(start: int = 0) -> UidLease:
    """Claim a free uid slot (trying from ``start``, e.g. a worker index)."""
    lock_dir = _lock_dir()
    for i in range(UID_SLOTS):
        uid = UID_BASE + (start + i) % UID_SLOTS
        fd = os.open(lock_dir / f"{uid}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        try:
            pwd.getpwuid(uid)
            taken = True  # a real account: never borrow it
        except KeyError:
            taken = bool(pids_of_uid(uid))  # left over from a killed run: skip, do not touch
        if taken:
            os.close(fd)
            continue
        return UidLease(uid, fd)
    raise EnvironmentProblem(f"no free sandbox uid in {UID_BASE}..{UID_BASE + UID_SLOTS - 1}")


def is_leased(uid: int) -> bool:
    """True while some live process holds the lease of ``uid`` (a probe: takes nothing)."""
    path = _lock_dir() / f"{uid}.lock"
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # also drops the probe's own lock
    return False
