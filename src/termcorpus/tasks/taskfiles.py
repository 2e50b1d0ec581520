"""Shared pieces of the task-directory importers: safe file reading and field mapping.

Every read checks that a symlink stays inside the task and that a file is at most
:data:`MAX_FILE_BYTES`; anything unsafe or unreadable is a one-line :class:`DataError`.
"""

from __future__ import annotations

import math
import os
import shlex
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from termcorpus.errors import DataError
from termcorpus.records import DOMAINS, Task, check_relative_path, format_validation_error

INTEROP_VERSION = "1.1"
MAX_FILE_BYTES = 10 << 20
MAX_FILES = 10000
HEREDOC_END = "TERMCORPUS_SOLVE_EOF"
DEFAULT_DOMAIN = "software_engineering"

# Foreign categories (Terminal-Bench / Harbor use kebab-case words) -> our domains.
CATEGORY_DOMAINS = {
    "data-processing": "data_processing", "text-processing": "data_processing",
    "data-querying": "data_querying", "database": "data_querying", "databases": "data_querying",
    "sql": "data_querying",
    "data-science": "data_science", "machine-learning": "data_science", "model-training": "data_science",
    "statistics": "data_science",
    "debugging": "debugging",
    "dependency-management": "dependency_management", "package-management": "dependency_management",
    "build-and-dependency-management": "dependency_management",
    "file-operations": "file_operations", "file-system": "file_operations",
    "system-administration": "file_operations",
    "scientific-computing": "scientific_computing", "mathematics": "scientific_computing",
    "math": "scientific_computing",
    "security": "security", "cryptography": "security",
    "software-engineering": "software_engineering", "programming": "software_engineering",
    "coding": "software_engineering",
}


def is_inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def read_file(path: Path, root: Path, shown: str) -> bytes:
    """Bytes of ``path``; a symlink must resolve inside ``root``; at most MAX_FILE_BYTES."""
    real = path.resolve()
    if path.is_symlink() and not is_inside(real, root):
        raise DataError(f"symlink {shown!r} points outside the task ({os.readlink(path)})")
    if not real.is_file():
        raise DataError(f"{shown!r} is not a regular file")
    size = real.stat().st_size
    if size > MAX_FILE_BYTES:
        raise DataError(f"{shown!r} is {size} bytes, more than the {MAX_FILE_BYTES >> 20} MB allowed")
    return real.read_bytes()


def read_tree(top: Path, root: Path, shown_prefix: str) -> dict[str, bytes]:
    """Every file under ``top`` (relative POSIX path -> bytes), symlinks checked against ``root``."""
    out: dict[str, bytes] = {}
    real_top = top.resolve()
    if top.is_symlink() and not is_inside(real_top, root):
        raise DataError(f"symlink {shown_prefix!r} points outside the task ({os.readlink(top)})")
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        dirnames.sort()
        d = Path(dirpath)
        for name in list(dirnames):
            p = d / name
            if p.is_symlink():
                # A linked directory: follow it only when it stays inside the task.
                if not is_inside(p.resolve(), root):
                    raise DataError(f"symlink {shown_prefix}/{p.relative_to(top).as_posix()!r} "
                                    f"points outside the task ({os.readlink(p)})")
                sub = read_tree(p.resolve(), root, f"{shown_prefix}/{p.relative_to(top).as_posix()}")
                for rel, data in sub.items():
                    out[f"{p.relative_to(top).as_posix()}/{rel}"] = data
        for name in sorted(filenames):
            p = d / name
            rel = p.relative_to(top).as_posix()
            out[rel] = read_file(p, root, f"{shown_prefix}/{rel}")
            if len(out) > MAX_FILES:
                raise DataError(f"more than {MAX_FILES} files under {shown_prefix!r}")
    return dict(sorted(out.items()))


def text(data: bytes, shown: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise DataError(f"{shown!r} is not UTF-8 text")


def read_text(path: Path, root: Path, shown: str) -> str:
    return text(read_file(path, root, shown), shown)


def safe_dir_name(task_id: str) -> str:
    """The directory name of a task: its id, which must be one plain path component."""
    if not task_id or "/" in task_id or "\\" in task_id or task_id in (".", "..") or "\x00" in task_id:
        raise DataError(f"task id {task_id!r} cannot be a directory name")
    return task_id


def detect_format(path: Path) -> str | None:
    """'harbor', 'terminal-bench' or None for a directory that is neither."""
    if (path / "task.toml").is_file():
        return "harbor"
    if (path / "task.yaml").is_file() or (path / "task.yml").is_file():
        return "terminal-bench"
    return None


def find_task_dirs(root: str | Path) -> list[Path]:
    """``root`` itself when it is a task directory, else its task subdirectories (sorted)."""
    root = Path(root)
    if not root.is_dir():
        raise DataError("not a directory", where=str(root))
    if detect_format(root):
        return [root]
    found = [p for p in sorted(root.iterdir()) if p.is_dir() and not p.is_symlink() and detect_format(p)]
    if not found:
        raise DataError("holds no task directory (no task.toml or task.yaml)", where=str(root))
    return found


def domain(category: object, notes: list[str], where: str) -> str:
    c = str(category or "").strip().lower()
    if c.replace("-", "_") in DOMAINS:
        return c.replace("-", "_")
    if c.replace("_", "-") in CATEGORY_DOMAINS:
        return CATEGORY_DOMAINS[c.replace("_", "-")]
    notes.append(f"{where}: category {category!r} is not a termcorpus domain; using {DEFAULT_DOMAIN}")
    return DEFAULT_DOMAIN


def difficulty(value: object, notes: list[str], where: str) -> str:
    v = str(value or "").strip().lower()
    if v in ("easy", "medium", "hard"):
        return v
    if value not in (None, ""):
        notes.append(f"{where}: difficulty {value!r} read as 'medium'")
    return "medium"


def timeout(value: object, default: float) -> float:
    try:
        t = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default
    return default if not (t > 0) or math.isinf(t) else min(t, 3600.0)


def to_int(value: object, default: int) -> int:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default


def tags(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(t) for t in value] if isinstance(value, list) else []


def strip_one_newline(s: str) -> str:
    return s[:-1] if s.endswith("\n") else s


def script_command(script: str, cwd: str = "") -> str:
    """A foreign solve script as one agent command (a child bash: its `exit` or `set -e`
    cannot end the agent's shell). ``cwd``: run it from that directory (Harbor: /solution)."""
    body = script if script.endswith("\n") else script + "\n"
    prefix = f"(cd {shlex.quote(cwd)} && " if cwd else ""
    suffix = ")" if cwd else ""
    if any(line.strip() == HEREDOC_END for line in body.splitlines()):
        return f"{prefix}bash -c {shlex.quote(body)}{suffix}"
    return f"{prefix}bash <<'{HEREDOC_END}'{suffix}\n{body}{HEREDOC_END}"


def build_task(where: Path, **fields: Any) -> Task:
    try:
        return Task(**fields)
    except ValidationError as e:
        raise DataError(format_validation_error(e), where=str(where))


def tests_from(dir_: Path, root: Path) -> dict[str, str]:
    """The files of a tests/ folder as text (byte code of an earlier local run left out)."""
    tests: dict[str, str] = {}
    for rel, data in read_tree(dir_, root, dir_.name).items():
        if "__pycache__" in rel.split("/"):
            continue
        try:
            check_relative_path(rel)
        except ValueError as e:
            raise DataError(str(e), where=str(dir_))
        tests[rel] = text(data, f"{dir_.name}/{rel}")
    return tests
