"""Per-task cgroup v2, used only where the machine delegates one to us.

Per-process rlimits cannot cap a task's *total* memory (several processes each under
RLIMIT_AS add up); a cgroup's ``memory.max`` / ``pids.max`` can. We create a child cgroup
only under a cgroup v2 directory that is writable and already enables the ``memory`` and
``pids`` controllers for its children (that is what delegation, e.g. ``systemd-run --scope
-p Delegate=yes``, gives). We never change ``subtree_control`` or anything else in a cgroup
we did not create; without such a parent the session reports "no cgroup".
"""

from __future__ import annotations

import functools
import os
import secrets
import time
from pathlib import Path


def _cgroup2_mounts() -> list[Path]:
    mounts = []
    try:
        with open("/proc/self/mountinfo", encoding="utf-8") as fh:
            for line in fh:
                left, _, right = line.partition(" - ")
                if right.split(" ", 1)[0] == "cgroup2":
                    mounts.append(Path(left.split()[4]))
    except OSError:
        pass
    return mounts


def _own_cgroup2_path() -> str | None:
    try:
        with open("/proc/self/cgroup", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("0::"):
                    return line[3:].strip()
    except OSError:
        pass
    return None


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
    own = _own_cgroup2_path()
    if own is None:
        return None
    for mount in _cgroup2_mounts():
        candidate = mount / own.lstrip("/")
        if usable_parent(candidate):
            return candidate
    return None


class TaskCgroup:
    """A child cgroup we create, fill with one sandbox, kill and remove."""

    def __init__(self, parent: Path, memory_mb: int, max_procs: int):
        self.path = parent / f"termcorpus-{os.getpid()}-{secrets.token_hex(4)}"
        self.path.mkdir()
        (self.path / "memory.max").write_text(str(memory_mb << 20))
        if (self.path / "memory.swap.max").exists():
            (self.path / "memory.swap.max").write_text("0")
        (self.path / "pids.max").write_text(str(max_procs))

    def wrap(self, argv: list[str]) -> list[str]:
        """Prefix ``argv`` so that it joins this cgroup before it execs (children follow)."""
        return ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', str(self.path), *argv]

    def remove(self) -> None:
        kill = self.path / "cgroup.kill"
        try:
            if kill.exists():
                kill.write_text("1")
            for _ in range(200):
                if not (self.path / "cgroup.procs").read_text().strip():
                    break
                time.sleep(0.01)
            self.path.rmdir()
        except OSError:
            pass
