"""Small /proc helpers: find a process tree and kill it (no psutil needed)."""

from __future__ import annotations

import os
import signal


def process_table(include_zombies: bool = False) -> dict[int, int]:
    """Map pid -> ppid for every process visible in /proc (zombies left out by default)."""
    table: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue  # exited while we looked
        # The command name may contain spaces or ')': the fields after the last ')' are fixed.
        rest = stat[stat.rfind(b")") + 2 :].split()
        if len(rest) >= 2 and (include_zombies or rest[0] not in (b"Z", b"X")):
            table[int(name)] = int(rest[1])
    return table


def descendants(root: int, table: dict[int, int] | None = None) -> list[int]:
    """All processes below ``root`` (not ``root`` itself), parents before children."""
    table = process_table() if table is None else table
    children: dict[int, list[int]] = {}
    for pid, ppid in table.items():
        children.setdefault(ppid, []).append(pid)
    out: list[int] = []
    stack = sorted(children.get(root, []))
    while stack:
        pid = stack.pop(0)
        out.append(pid)
        stack.extend(sorted(children.get(pid, [])))
    return out


def session_members(sid: int) -> list[int]:
    """Live processes whose session id is ``sid`` (catches daemons re-parented away from us)."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        rest = stat[stat.rfind(b")") + 2 :].split()
        if len(rest) >= 4 and rest[0] not in (b"Z", b"X") and int(rest[3]) == sid:
            out.append(int(name))
    return out


def pids_of_uid(uid: int, live_only: bool = False) -> list[int]:
    """Processes whose /proc entry belongs to ``uid`` (zombies too unless ``live_only``)."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            if os.stat(f"/proc/{name}").st_uid != uid:
                continue
            if live_only:
                with open(f"/proc/{name}/stat", "rb") as fh:
                    stat = fh.read()
                if stat[stat.rfind(b")") + 2 :].split()[0] in (b"Z", b"X"):
                    continue
        except (OSError, IndexError):
            continue
        out.append(int(name))
    return out


def kill_pids(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
