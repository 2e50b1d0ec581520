"""Entry-point helpers shared by stage scripts and the CLI: error handling, git rev, DVC md5."""

from __future__ import annotations

import functools
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Callable

from termcorpus.errors import TermcorpusError


def stage_main(fn: Callable[..., object]) -> Callable[..., None]:
    """Run ``fn``; a TermcorpusError becomes one line on stderr and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: object, **kwargs: object) -> None:
        try:
            fn(*args, **kwargs)
        except TermcorpusError as e:
            print(f"error: {e}", file=sys.stderr)
            sys.exit(e.exit_code)
        except KeyboardInterrupt:
            print("error: interrupted", file=sys.stderr)
            sys.exit(130)

    return wrapper


def git_rev(cwd: str | Path = ".") -> str:
    """The current commit (with '-dirty' when the tree has changes), or '' outside git."""
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        if not rev:
            return ""
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd, capture_output=True, text=True, timeout=10,
        ).stdout.strip()
        return rev + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return ""


def _file_md5(path: Path) -> str:
    h = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def dvc_md5(path: str | Path) -> str:
    """The md5 DVC 3 records for ``path`` in dvc.lock (a directory's ends in '.dir').

    Computed the way dvc-data does it, so a stage can name its input's version before DVC
    has written the lock entry; a test checks the two agree.
    """
    path = Path(path)
    if path.is_file():
        return _file_md5(path)
    entries = []
    for f in sorted(path.rglob("*")):
        if f.is_file():
            entries.append({"md5": _file_md5(f), "relpath": f.relative_to(path).as_posix()})
    entries.sort(key=lambda e: e["relpath"])
    blob = json.dumps(entries, sort_keys=True).encode("utf-8")
    return hashlib.md5(blob, usedforsecurity=False).hexdigest() + ".dir"
