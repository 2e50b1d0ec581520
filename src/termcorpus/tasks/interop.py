"""Task interchange: export a Task as a Harbor task directory; import Harbor and Terminal-Bench 1 dirs.

Harbor (Terminal-Bench 2.0) layout written by :func:`export_harbor`::

    instruction.md            the instruction (plus one newline)
    task.toml                 schema_version 1.4; [metadata] difficulty / category (= domain) /
                              tags (= skills) and a [metadata.termcorpus] table holding what Harbor
                              has no key for (id, family, source, generator, slots, ...)
    environment/Dockerfile    FROM the image, WORKDIR, COPY files/ -> the workdir
    environment/files/...     the input files (the build context holds them)
    solution/solve.sh         the reference commands, one marked block per agent turn
    tests/test.sh (+ others)  the verifier, writing /logs/verifier/reward.txt

``[environment] docker_image`` is written only for a task without input files: Harbor starts a
task that names ``docker_image`` from that prebuilt image and skips the Dockerfile, which would
lose the input files. The image is always the Dockerfile's ``FROM``.

:func:`import_task_dir` reads such a directory back (export -> import gives an equal Task) and
also reads directories written by others:

* Harbor: ``environment/Dockerfile`` is replayed (COPY / WORKDIR / ENV; RUN cannot run without
  Docker and is reported), ``solution/solve.sh`` becomes one command, ``tests/`` the tests;
* Terminal-Bench 1: ``task.yaml`` (instruction, difficulty, category, tags, timeouts), the
  ``Dockerfile`` (build context from ``docker-compose.yaml`` when it names one), ``solution.sh``
  or ``solution.yaml`` (a list of ``{command, ...}``), ``run-tests.sh`` and ``tests/``. Its
  ``tests/test_*.py`` run under ``python3 -m pytest`` when the sandbox has pytest, else under a
  small built-in runner for plain test functions (module fixtures, ``tmp_path``,
  ``parametrize``), which says so in the verifier output.

Foreign tasks import with ``source = "import"``; a directory this module exported keeps the
task's own source so the round trip is lossless. ENV values are replayed as ``export`` lines at
the start of the solution and of the tests (the agent's shell does not get them).

Unsafe content is refused with one line (:class:`DataError`): ``..`` or absolute paths, symlinks
pointing outside the task, COPY from outside the build context, files over 10 MB.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import math
import os
import re
import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Iterable, Sequence

import yaml
from pydantic import ValidationError

from termcorpus.errors import DataError
from termcorpus.records import (
    DOMAINS,
    Environment,
    GeneratorInfo,
    Task,
    check_relative_path,
    format_validation_error,
)

INTEROP_VERSION = "1.0"
HARBOR_SCHEMA_VERSION = "1.4"
MAX_FILE_BYTES = 10 << 20
MAX_FILES = 10000
# Harbor's [agent] timeout bounds the whole agent run; a task records only the verifier's budget.
AGENT_TIMEOUT_FACTOR = 10.0
TURN_MARKER = "# termcorpus:turn"
LITE_RUNNER = "termcorpus_pytest_lite.py"
_HEREDOC_END = "TERMCORPUS_SOLVE_EOF"

# Foreign categories (Terminal-Bench / Harbor use kebab-case words) -> our domains.
_CATEGORY_DOMAINS = {
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
DEFAULT_DOMAIN = "software_engineering"


# --------------------------------------------------------------------------------------------
# export


def _toml_str(s: str) -> str:
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\u{o:04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _toml_key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else _toml_str(k)


def _toml_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return _toml_str(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"no TOML form for {type(v).__name__}")


def _toml_table(name: str | None, items: Iterable[tuple[str, object]]) -> str:
    lines = [f"[{name}]"] if name else []
    lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in items]
    return "\n".join(lines) + "\n"


def _int64_ok(n: int) -> bool:
    return -(1 << 63) <= n < (1 << 63)


def _task_toml(task: Task) -> str:
    env = task.environment
    tc: list[tuple[str, object]] = [
        ("interop_version", INTEROP_VERSION),
        ("schema_version", task.schema_version),
        ("id", task.id),
        ("family", task.family),
        ("source", task.source),
        ("binary_files", sorted(task.binary_files)),
    ]
    parts = [
        _toml_table(None, [("schema_version", HARBOR_SCHEMA_VERSION), ("source", "termcorpus")]),
        _toml_table("metadata", [("difficulty", task.difficulty), ("category", task.domain),
                                 ("tags", list(task.skills))]),
        _toml_table("metadata.termcorpus", tc),
    ]
    if task.generator is not None:
        g = task.generator
        # TOML integers are 64-bit: a larger seed travels as a string.
        seed: object = g.seed if _int64_ok(g.seed) else str(g.seed)
        parts.append(_toml_table("metadata.termcorpus.generator",
                                 [("name", g.name), ("version", g.version), ("seed", seed)]))
    parts.append(_toml_table("metadata.termcorpus.slots", list(task.slots.items())))
    parts.append(_toml_table("verifier", [("timeout_sec", float(env.timeout_sec))]))
    parts.append(_toml_table("agent", [("timeout_sec", float(env.timeout_sec) * AGENT_TIMEOUT_FACTOR)]))
    env_items: list[tuple[str, object]] = []
    if not task.files and not task.binary_files:
        env_items.append(("docker_image", env.image))
    env_items += [("memory_mb", env.memory_mb), ("workdir", env.workdir),
                  ("network_mode", "public" if env.network else "no-network")]
    parts.append(_toml_table("environment", env_items))
    return "\n".join(parts)


def _solve_sh(task: Task) -> str:
    lines = [
        "#!/bin/bash",
        f"# termcorpus reference solution of {task.id}: each marked block is one agent turn.",
    ]
    for i, cmd in enumerate(task.solution, 1):
        if any(line.startswith(TURN_MARKER) for line in cmd.splitlines()):
            raise DataError(f"solution[{i - 1}] contains the turn marker line {TURN_MARKER!r}",
                            where=f"task {task.id}")
        # One newline after every command; the import removes exactly one, so a command that
        # ends in its own newline keeps it.
        lines.append(f"{TURN_MARKER} {i}")
        lines.append(cmd)
    return "\n".join(lines) + "\n"


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    # Scripts keep their exec bit, as write_task_files gives them in the sandbox.
    os.chmod(path, 0o755 if data.startswith(b"#!") or path.suffix == ".sh" else 0o644)


def export_harbor(task: Task, dir: str | Path) -> Path:
    """Write ``task`` as a Harbor task directory at ``dir`` (created; must be empty); return it."""
    out = Path(dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise DataError("exists and is not an empty directory", where=str(out))
    both = sorted(set(task.files) & set(task.binary_files))
    if both:
        raise DataError(f"path {both[0]!r} is both a text and a binary file", where=f"task {task.id}")
    out.mkdir(parents=True, exist_ok=True)
    env = task.environment
    workdir = env.workdir.rstrip("/") or "/"
    _write(out / "instruction.md", (task.instruction + "\n").encode("utf-8"))
    _write(out / "task.toml", _task_toml(task).encode("utf-8"))
    docker = [f"# Built by termcorpus for task {task.id}; the input files are under files/.",
              f"FROM {env.image}", f"WORKDIR {workdir}"]
    if task.files or task.binary_files:
        docker.append(f"COPY files/ {workdir.rstrip('/')}/")
    _write(out / "environment" / "Dockerfile", ("\n".join(docker) + "\n").encode("utf-8"))
    for rel, text in sorted(task.files.items()):
        _write(out / "environment" / "files" / rel, text.encode("utf-8"))
    for rel, b64 in sorted(task.binary_files.items()):
        try:
            data = base64.b64decode(b64, validate=True)
        except ValueError:
            raise DataError(f"binary_files[{rel!r}] is not valid base64", where=f"task {task.id}")
        _write(out / "environment" / "files" / rel, data)
    _write(out / "solution" / "solve.sh", _solve_sh(task).encode("utf-8"))
    for rel, text in sorted(task.tests.items()):
        _write(out / "tests" / rel, text.encode("utf-8"))
    return out


def safe_dir_name(task_id: str) -> str:
    """The directory name of a task: its id, which must be one plain path component."""
    if not task_id or "/" in task_id or "\\" in task_id or task_id in (".", "..") or "\x00" in task_id:
        raise DataError(f"task id {task_id!r} cannot be a directory name")
    return task_id


def export_many(tasks: Sequence[Task], out_dir: str | Path, *, limit: int = 0) -> list[Path]:
    """Export tasks as ``out_dir/<task id>/`` (the first ``limit`` when it is > 0)."""
    chosen = list(tasks[:limit] if limit > 0 else tasks)
    names = [safe_dir_name(t.id) for t in chosen]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise DataError(f"two tasks share the id {dup!r}: their directories would collide")
    return [export_harbor(t, Path(out_dir) / n) for t, n in zip(chosen, names)]


# --------------------------------------------------------------------------------------------
# reading files safely


def _is_inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _read_file(path: Path, root: Path, shown: str) -> bytes:
    """Bytes of ``path``; a symlink must resolve inside ``root``; at most MAX_FILE_BYTES."""
    real = path.resolve()
    if path.is_symlink() and not _is_inside(real, root):
        raise DataError(f"symlink {shown!r} points outside the task ({os.readlink(path)})")
    if not real.is_file():
        raise DataError(f"{shown!r} is not a regular file")
    size = real.stat().st_size
    if size > MAX_FILE_BYTES:
        raise DataError(f"{shown!r} is {size} bytes, more than the {MAX_FILE_BYTES >> 20} MB allowed")
    return real.read_bytes()


def _read_tree(top: Path, root: Path, shown_prefix: str) -> dict[str, bytes]:
    """Every file under ``top`` (relative POSIX path -> bytes), symlinks checked against ``root``."""
    out: dict[str, bytes] = {}
    real_top = top.resolve()
    if top.is_symlink() and not _is_inside(real_top, root):
        raise DataError(f"symlink {shown_prefix!r} points outside the task ({os.readlink(top)})")
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        dirnames.sort()
        d = Path(dirpath)
        for name in list(dirnames):
            p = d / name
            if p.is_symlink():
                # A linked directory: follow it only when it stays inside the task.
                if not _is_inside(p.resolve(), root):
                    raise DataError(f"symlink {shown_prefix}/{p.relative_to(top).as_posix()!r} "
                                    f"points outside the task ({os.readlink(p)})")
                sub = _read_tree(p.resolve(), root, f"{shown_prefix}/{p.relative_to(top).as_posix()}")
                for rel, data in sub.items():
                    out[f"{p.relative_to(top).as_posix()}/{rel}"] = data
        for name in sorted(filenames):
            p = d / name
            rel = p.relative_to(top).as_posix()
            out[rel] = _read_file(p, root, f"{shown_prefix}/{rel}")
            if len(out) > MAX_FILES:
                raise DataError(f"more than {MAX_FILES} files under {shown_prefix!r}")
    return dict(sorted(out.items()))


def _text(data: bytes, shown: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise DataError(f"{shown!r} is not UTF-8 text")


# --------------------------------------------------------------------------------------------
# Dockerfile replay


@dataclass
class _Replay:
    image: str = ""
    workdir: str = "/"
    env: list[tuple[str, str]] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)  # absolute path -> bytes
    origin: dict[str, str] = field(default_factory=dict)  # absolute path -> "Dockerfile:line"
    notes: list[str] = field(default_factory=list)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, instruction text) with continuations joined, comments dropped;
    the bodies of RUN heredocs (``<<EOF`` ... ``EOF``) are skipped."""
    raw = text.splitlines()
    out: list[tuple[int, str]] = []
    i = 0
    while i < len(raw):
        start = i
        line = raw[i]
        i += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = [line]
        while parts[-1].rstrip().endswith("\\") and i < len(raw):
            parts[-1] = parts[-1].rstrip()[:-1]
            nxt = raw[i]
            i += 1
            if nxt.lstrip().startswith("#"):
                continue
            parts.append(nxt)
        joined = " ".join(p.strip() for p in parts)
        heredocs = joined.split(None, 1)[0].upper() in ("RUN", "COPY", "ADD")
        for m in re.finditer(r"<<-?\s*['\"]?([A-Za-z_][A-Za-z0-9_]*)['\"]?", joined if heredocs else ""):
            end = m.group(1)
            while i < len(raw) and raw[i].strip() != end:
                i += 1
            i += 1
        out.append((start + 1, joined))
    return out


def _norm_abs(path: str, cwd: str, where: str) -> str:
    if "$" in path:
        raise DataError(f"path {path!r} uses a variable: cannot be replayed without Docker", where=where)
    p = PurePosixPath(path if path.startswith("/") else f"{cwd.rstrip('/')}/{path}")
    parts: list[str] = []
    for part in p.parts[1:]:
        if part == "..":
            raise DataError(f"path {path!r} contains '..'", where=where)
        if part != ".":
            parts.append(part)
    return "/" + "/".join(parts)


def _copy_sources(spec: str, context: Path, where: str) -> list[Path]:
    """The context entries named by one COPY source (globs expanded, sorted)."""
    if re.match(r"^[a-z]+://", spec):
        raise DataError(f"ADD from a URL ({spec}) needs the network", where=where)
    if spec.startswith("/") or ".." in PurePosixPath(spec).parts:
        raise DataError(f"COPY from {spec!r} is outside the build context", where=where)
    if any(c in spec for c in "*?["):
        matches = sorted(context.glob(spec))
        if not matches:
            raise DataError(f"COPY source {spec!r} matches nothing in the build context", where=where)
    else:
        p = context / spec
        if not p.exists() and not p.is_symlink():
            raise DataError(f"COPY source {spec!r} does not exist in the build context", where=where)
        matches = [p]
    for m in matches:
        if not _is_inside(m.resolve(), context):
            if m.is_symlink():
                raise DataError(f"symlink {spec!r} points outside the build context ({os.readlink(m)})",
                                where=where)
            raise DataError(f"COPY from {spec!r} is outside the build context", where=where)
    return matches


def _parse_copy_args(args: str, where: str) -> tuple[list[str], list[str], str]:
    """(flags, sources, dest) of a COPY/ADD line, shell or JSON form."""
    rest = args.strip()
    flags: list[str] = []
    while rest.startswith("--"):
        flag, _, rest = rest.partition(" ")
        flags.append(flag)
        rest = rest.lstrip()
    try:
        words = json.loads(rest) if rest.startswith("[") else shlex.split(rest)
    except (json.JSONDecodeError, ValueError) as e:
        raise DataError(f"cannot read the COPY arguments ({e})", where=where)
    if not isinstance(words, list) or len(words) < 2 or not all(isinstance(w, str) for w in words):
        raise DataError("COPY needs at least one source and a destination", where=where)
    return flags, words[:-1], words[-1]


_ARCHIVE = re.compile(r"\.(tar|tar\.gz|tgz|tar\.bz2|tbz2|tar\.xz|txz)$")


def replay_dockerfile(dockerfile: Path, context: Path, task_root: Path) -> _Replay:
    """Replay FROM / WORKDIR / ENV / COPY / ADD of a Dockerfile into files; note what is skipped.

    All paths are resolved; sources must stay inside ``context`` (itself inside ``task_root``).
    """
    context = context.resolve()
    if not _is_inside(context, task_root):
        raise DataError("the build context is outside the task", where=str(dockerfile))
    shown = dockerfile.relative_to(task_root).as_posix()
    text = _text(_read_file(dockerfile, task_root, shown), shown)
    st = _Replay()
    n_from = 0
    for lineno, line in _logical_lines(text):
        where = f"{dockerfile}:{lineno}"
        kw, _, args = line.strip().partition(" ")
        kw = kw.upper()
        args = args.strip()
        if kw == "FROM":
            n_from += 1
            if n_from > 1:
                raise DataError("multi-stage Dockerfiles cannot be replayed without Docker", where=where)
            words = [w for w in args.split() if not w.startswith("--platform")]
            if not words:
                raise DataError("FROM names no image", where=where)
            st.image = words[0]
        elif kw == "WORKDIR":
            st.workdir = _norm_abs(args.strip("\"'"), st.workdir, where)
        elif kw == "ENV":
            words = shlex.split(args)
            if words and "=" not in words[0]:
                # legacy form: ENV KEY value with spaces
                st.env.append((words[0], args.split(None, 1)[1] if len(words) > 1 else ""))
            else:
                for w in words:
                    k, eq, v = w.partition("=")
                    if not eq or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", k):
                        raise DataError(f"cannot read ENV item {w!r}", where=where)
                    st.env.append((k, v))
        elif kw in ("COPY", "ADD"):
            if re.search(r"<<-?\s*['\"]?[A-Za-z_]", args):
                raise DataError(f"{kw} with a heredoc cannot be replayed", where=where)
            flags, sources, dest = _parse_copy_args(args, where)
            if any(f.startswith("--from") for f in flags):
                raise DataError(f"{kw} --from (another image or stage) cannot be replayed", where=where)
            for src in sources:
                if re.match(r"^[a-z]+://", src):
                    raise DataError(f"{kw} from a URL ({src}) needs the network", where=where)
            if kw == "ADD" and any(_ARCHIVE.search(s) for s in sources):
                raise DataError("ADD of an archive (auto-extracted by Docker) is not supported", where=where)
            dest_abs = _norm_abs(dest, st.workdir, where)
            items = [m for src in sources for m in _copy_sources(src, context, where)]
            into_dir = dest.endswith("/") or len(items) > 1 or any(p.is_dir() for p in items)
            for p in items:
                rel_shown = p.relative_to(task_root).as_posix()
                if p.is_dir():
                    for rel, data in _read_tree(p, context, rel_shown).items():
                        st.files[f"{dest_abs.rstrip('/')}/{rel}"] = data
                        st.origin[f"{dest_abs.rstrip('/')}/{rel}"] = where
                else:
                    target = f"{dest_abs.rstrip('/')}/{p.name}" if into_dir else dest_abs
                    st.files[target] = _read_file(p, context, rel_shown)
                    st.origin[target] = where
        elif kw == "RUN":
            st.notes.append(f"{where}: RUN not replayed (no Docker): {args[:80]}")
        elif kw in ("USER", "VOLUME", "SHELL", "ONBUILD"):
            st.notes.append(f"{where}: {kw} ignored")
        # CMD, ENTRYPOINT, EXPOSE, LABEL, ARG, HEALTHCHECK, STOPSIGNAL, MAINTAINER: no effect on files
    if not n_from:
        raise DataError("no FROM line", where=str(dockerfile))
    return st


def _files_under_workdir(st: _Replay) -> tuple[dict[str, str], dict[str, str]]:
    """Replayed files as (text files, base64 binary files) relative to the final workdir."""
    text: dict[str, str] = {}
    binary: dict[str, str] = {}
    base = st.workdir.rstrip("/") + "/"
    for abs_path, data in sorted(st.files.items()):
        if not abs_path.startswith(base):
            raise DataError(f"COPY to {abs_path} is outside the working directory {st.workdir}: "
                            f"cannot be replayed without Docker", where=st.origin.get(abs_path))
        rel = abs_path[len(base):]
        try:
            text[rel] = data.decode("utf-8")
        except UnicodeDecodeError:
            binary[rel] = base64.b64encode(data).decode("ascii")
    return text, binary


def _env_value(v: str) -> str:
    # Docker expands $VAR / ${VAR} in ENV values (ENV PATH=/opt/bin:$PATH): keep that working
    # with double quotes; anything else is quoted literally.
    if "$" in v:
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`").replace("$(", "\\$(") + '"'
    return shlex.quote(v)


def _env_exports(env: list[tuple[str, str]]) -> str:
    return " ".join(f"{k}={_env_value(v)}" for k, v in env)


# --------------------------------------------------------------------------------------------
# import


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


def _domain(category: object, notes: list[str], where: str) -> str:
    c = str(category or "").strip().lower()
    if c.replace("-", "_") in DOMAINS:
        return c.replace("-", "_")
    if c.replace("_", "-") in _CATEGORY_DOMAINS:
        return _CATEGORY_DOMAINS[c.replace("_", "-")]
    notes.append(f"{where}: category {category!r} is not a termcorpus domain; using {DEFAULT_DOMAIN}")
    return DEFAULT_DOMAIN


def _difficulty(value: object, notes: list[str], where: str) -> str:
    v = str(value or "").strip().lower()
    if v in ("easy", "medium", "hard"):
        return v
    if value not in (None, ""):
        notes.append(f"{where}: difficulty {value!r} read as 'medium'")
    return "medium"


def _timeout(value: object, default: float) -> float:
    try:
        t = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default
    return default if not (t > 0) or math.isinf(t) else min(t, 3600.0)


def _int(value: object, default: int) -> int:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default


def _tags(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(t) for t in value] if isinstance(value, list) else []


def _strip_one_newline(s: str) -> str:
    return s[:-1] if s.endswith("\n") else s


def _script_command(script: str) -> str:
    """A foreign solve script as one agent command (a child bash: its `exit` or `set -e`
    cannot end the agent's shell)."""
    body = script if script.endswith("\n") else script + "\n"
    if any(line.strip() == _HEREDOC_END for line in body.splitlines()):
        return "bash -c " + shlex.quote(body)
    return f"bash <<'{_HEREDOC_END}'\n{body}{_HEREDOC_END}"


def _split_marked(script: str) -> list[str] | None:
    """Commands of a solve.sh written by export_harbor, or None when it has no turn markers."""
    lines = script.split("\n")
    idx = [i for i, line in enumerate(lines) if re.fullmatch(re.escape(TURN_MARKER) + r" \d+", line)]
    if not idx:
        return None
    bounds = idx[1:] + [len(lines)]
    # export wrote "<command>\n" after each marker: the lines up to the next marker, joined,
    # give the command back (the file's last newline leaves one extra '' at the end).
    commands = ["\n".join(lines[a + 1:b]) for a, b in zip(idx, bounds)]
    commands[-1] = _strip_one_newline(commands[-1])
    return commands


def _with_exports(script: str, exports: str) -> str:
    if not exports:
        return script
    line = f"export {exports}\n"
    if script.startswith("#!"):
        first, _, rest = script.partition("\n")
        return f"{first}\n{line}{rest}"
    return line + script


def _build_task(where: Path, **fields: Any) -> Task:
    try:
        return Task(**fields)
    except ValidationError as e:
        raise DataError(format_validation_error(e), where=str(where))


def _tests_from(dir_: Path, root: Path) -> dict[str, str]:
    tests: dict[str, str] = {}
    for rel, data in _read_tree(dir_, root, dir_.name).items():
        if "__pycache__" in rel.split("/"):
            continue  # byte code of an earlier local run, not part of the task
        try:
            check_relative_path(rel)
        except ValueError as e:
            raise DataError(str(e), where=str(dir_))
        tests[rel] = _text(data, f"{dir_.name}/{rel}")
    return tests


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(_text(_read_file(path, path.parent.resolve(), path.name), path.name))
    except tomllib.TOMLDecodeError as e:
        raise DataError(f"invalid TOML ({e})", where=str(path))


def _table(data: dict[str, Any], key: str, where: Path) -> dict[str, Any]:
    v = data.get(key, {})
    if not isinstance(v, dict):
        raise DataError(f"'{key}' must be a table", where=str(where))
    return v


def _import_harbor(path: Path, notes: list[str]) -> Task:
    root = path.resolve()
    toml_path = path / "task.toml"
    cfg = _load_toml(toml_path)
    meta = _table(cfg, "metadata", toml_path)
    tc = meta.get("termcorpus") if isinstance(meta.get("termcorpus"), dict) else None
    verifier = _table(cfg, "verifier", toml_path)
    env_cfg = _table(cfg, "environment", toml_path)
    if not (path / "instruction.md").is_file():
        raise DataError("missing instruction.md", where=str(path))
    instruction = _strip_one_newline(_text(_read_file(path / "instruction.md", root, "instruction.md"), "instruction.md"))
    if tc is None:
        instruction = instruction.strip()

    dockerfile = path / "environment" / "Dockerfile"
    files: dict[str, str] = {}
    binary: dict[str, str] = {}
    exports = ""
    workdir = str(env_cfg.get("workdir") or "")
    image = str(env_cfg.get("docker_image") or "")
    if dockerfile.is_file() or dockerfile.is_symlink():
        st = replay_dockerfile(dockerfile, path / "environment", root)
        notes.extend(st.notes)
        st.workdir = workdir or (st.workdir if st.workdir != "/" else "/app")
        files, binary = _files_under_workdir(st)
        image = image if (image and not (files or binary)) else st.image
        workdir = st.workdir
        exports = _env_exports(st.env)
    elif not image:
        raise DataError("has neither environment/Dockerfile nor [environment] docker_image", where=str(path))
    if (path / "environment" / "docker-compose.yaml").exists():
        notes.append(f"{path}: environment/docker-compose.yaml (extra services) is ignored")
    if tc is not None:
        # Our own export: the binary list says which files travel as base64.
        listed = tc.get("binary_files", [])
        if not isinstance(listed, list) or not all(isinstance(r, str) for r in listed):
            raise DataError("'metadata.termcorpus.binary_files' must be a list of paths", where=str(toml_path))
        for rel in listed:
            if rel in files:
                binary[rel] = base64.b64encode(files.pop(rel).encode("utf-8")).decode("ascii")

    solve = path / "solution" / "solve.sh"
    solution: list[str] = []
    if solve.is_file() or solve.is_symlink():
        script = _text(_read_file(solve, root, "solution/solve.sh"), "solution/solve.sh")
        if tc is not None:
            solution = _split_marked(script) or []
        else:
            solution = [_script_command(script)]
        extra = sorted(p.name for p in (path / "solution").iterdir() if p.name != "solve.sh")
        if extra:
            notes.append(f"{path}: solution files {', '.join(extra)} are not available to solve.sh "
                         "(no /solution mount)")
    if exports:
        solution = [f"export {exports}"] + solution

    if not (path / "tests").is_dir():
        raise DataError("missing tests/ directory", where=str(path))
    tests = _tests_from(path / "tests", root)
    if "test.sh" not in tests:
        raise DataError("tests/ has no test.sh", where=str(path))
    tests["test.sh"] = _with_exports(tests["test.sh"], exports)

    where = str(toml_path)
    common = dict(
        domain=_domain(meta.get("category"), notes, where),
        skills=_tags(meta.get("tags")),
        difficulty=_difficulty(meta.get("difficulty"), notes, where),
        instruction=instruction, files=files, binary_files=binary, solution=solution, tests=tests,
        environment=Environment(
            image=image or Environment().image, workdir=workdir or "/app",
            timeout_sec=_timeout(verifier.get("timeout_sec"), Environment().timeout_sec),
            memory_mb=min(max(_int(env_cfg.get("memory_mb"), Environment().memory_mb), 16), 65536),
            network=str(env_cfg.get("network_mode", "no-network")) == "public"
            or bool(env_cfg.get("allow_internet", False)),
        ),
    )
    if tc is not None:
        gen = tc.get("generator")
        if isinstance(gen, dict):
            gen = dict(gen)
            try:
                gen["seed"] = int(gen.get("seed", 0))  # a seed past 64 bits travels as a string
            except (TypeError, ValueError):
                raise DataError("'metadata.termcorpus.generator.seed' must be an integer", where=str(toml_path))
        return _build_task(toml_path, schema_version=str(tc.get("schema_version", "1.0")), id=tc.get("id"),
                           family=tc.get("family"), source=tc.get("source"),
                           generator=gen, slots={str(k): str(v) for k, v in (tc.get("slots") or {}).items()},
                           **common)
    return _build_task(toml_path, id=path.name, family=path.name, source="import",
                       generator=GeneratorInfo(name="import:harbor", version=INTEROP_VERSION, seed=0), **common)


def _tb_instruction(cfg: dict[str, Any], where: Path) -> str:
    if isinstance(cfg.get("instruction"), str):
        return cfg["instruction"].strip()
    for d in cfg.get("descriptions") or []:  # older Terminal-Bench 1 layout
        if isinstance(d, dict) and d.get("key", "base") == "base" and isinstance(d.get("description"), str):
            return d["description"].strip()
    raise DataError("task.yaml has no 'instruction' text", where=str(where))


def _tb_context(path: Path, root: Path) -> tuple[Path, Path]:
    """(Dockerfile, build context) of a Terminal-Bench task; docker-compose.yaml may move them."""
    context, dockerfile_name = path, "Dockerfile"
    compose = next((path / n for n in ("docker-compose.yaml", "docker-compose.yml") if (path / n).is_file()), None)
    if compose is not None:
        try:
            data = yaml.safe_load(_text(_read_file(compose, root, compose.name), compose.name)) or {}
        except yaml.YAMLError as e:
            raise DataError(f"invalid YAML ({e})", where=str(compose))
        services = data.get("services") if isinstance(data, dict) else None
        for svc in (services or {}).values():
            build = svc.get("build") if isinstance(svc, dict) else None
            if isinstance(build, str):
                build = {"context": build}
            if isinstance(build, dict):
                ctx = str(build.get("context", "."))
                if ctx.startswith("/") or ".." in PurePosixPath(ctx).parts:
                    raise DataError(f"build context {ctx!r} is outside the task", where=str(compose))
                context = path / ctx
                dockerfile_name = str(build.get("dockerfile", "Dockerfile"))
                if dockerfile_name.startswith("/") or ".." in PurePosixPath(dockerfile_name).parts:
                    raise DataError(f"dockerfile {dockerfile_name!r} is outside the build context", where=str(compose))
                break
    if not _is_inside(context.resolve(), root):
        raise DataError("build context is outside the task", where=str(path))
    return context / dockerfile_name, context


def _tb_test_sh(test_files: list[str], has_run_tests: bool, workdir: str, exports: str, task_id: str) -> str:
    lines = [
        "#!/bin/bash",
        f"# termcorpus verifier for the imported Terminal-Bench task {task_id}",
        'TEST_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"',
        "export TEST_DIR PYTHONDONTWRITEBYTECODE=1",
        '_logs="${LOGS_DIR:-/logs/verifier}"',
        '_reward() { mkdir -p "$_logs" 2>/dev/null && echo "$1" > "$_logs/reward.txt" 2>/dev/null; true; }',
        f'cd "${{APP_DIR:-{workdir}}}" || {{ echo "termcorpus: no working directory {workdir}"; _reward 0; exit 1; }}',
    ]
    if exports:
        lines.append(f"export {exports}")
    if test_files:
        args = " ".join(f'"$TEST_DIR"/{shlex.quote(f)}' for f in test_files)
        lines += [
            "if ! command -v python3 >/dev/null 2>&1; then",
            '  echo "termcorpus: python3 is not installed in the sandbox: cannot run the tests"; _reward 0; exit 1',
            "fi",
            "if python3 -c 'import pytest' >/dev/null 2>&1; then",
            f"  python3 -m pytest -rA -p no:cacheprovider {args}",
            "else",
            '  echo "termcorpus: pytest is not installed in the sandbox; running the plain test functions '
            'with a minimal runner instead (module fixtures, tmp_path and parametrize only)"',
            f'  python3 "$TEST_DIR/{LITE_RUNNER}" {args}',
            "fi",
        ]
    else:
        lines.append('bash "$TEST_DIR/run-tests.sh"' if has_run_tests else "false")
    lines += ["rc=$?", 'if [ "$rc" -eq 0 ]; then _reward 1; else _reward 0; fi', 'exit "$rc"']
    return "\n".join(lines) + "\n"


def _import_terminal_bench(path: Path, notes: list[str]) -> Task:
    root = path.resolve()
    yaml_path = path / "task.yaml" if (path / "task.yaml").is_file() else path / "task.yml"
    try:
        cfg = yaml.safe_load(_text(_read_file(yaml_path, root, yaml_path.name), yaml_path.name)) or {}
    except yaml.YAMLError as e:
        raise DataError(f"invalid YAML ({e})", where=str(yaml_path))
    if not isinstance(cfg, dict):
        raise DataError("must be a mapping", where=str(yaml_path))
    instruction = _tb_instruction(cfg, yaml_path)

    dockerfile, context = _tb_context(path, root)
    if not dockerfile.is_file():
        raise DataError(f"missing {dockerfile.relative_to(path).as_posix()}", where=str(path))
    st = replay_dockerfile(dockerfile, context, root)
    notes.extend(st.notes)
    if st.workdir == "/":
        st.workdir = "/app"
    files, binary = _files_under_workdir(st)
    exports = _env_exports(st.env)

    solution: list[str]
    if (path / "solution.yaml").is_file():
        try:
            steps = yaml.safe_load(_text(_read_file(path / "solution.yaml", root, "solution.yaml"), "solution.yaml"))
        except yaml.YAMLError as e:
            raise DataError(f"invalid YAML ({e})", where=str(path / "solution.yaml"))
        if not isinstance(steps, list):
            raise DataError("must be a list of {command, ...} steps", where=str(path / "solution.yaml"))
        solution = []
        for i, step in enumerate(steps):
            if not isinstance(step, dict) or not isinstance(step.get("command"), str):
                raise DataError(f"step {i}: expected a mapping with a 'command' string",
                                where=str(path / "solution.yaml"))
            if step.get("append_enter") is False:
                notes.append(f"{path / 'solution.yaml'}: step {i} sends keys without Enter; "
                             "replayed as a command")
            solution.append(step["command"])
    elif (path / "solution.sh").is_file():
        solution = [_script_command(_text(_read_file(path / "solution.sh", root, "solution.sh"), "solution.sh"))]
    else:
        solution = []
        notes.append(f"{path}: no solution.sh or solution.yaml")
    if exports:
        solution = [f"export {exports}"] + solution

    tests = _tests_from(path / "tests", root) if (path / "tests").is_dir() else {}
    has_run_tests = (path / "run-tests.sh").is_file()
    if has_run_tests and "run-tests.sh" not in tests:
        tests["run-tests.sh"] = _text(_read_file(path / "run-tests.sh", root, "run-tests.sh"), "run-tests.sh")
    if "test.sh" in tests or LITE_RUNNER in tests:
        raise DataError(f"tests/ already holds test.sh or {LITE_RUNNER}; termcorpus writes its own",
                        where=str(path))
    test_files = sorted(r for r in tests if fnmatch.fnmatch(PurePosixPath(r).name, "test_*.py")
                        or fnmatch.fnmatch(PurePosixPath(r).name, "*_test.py"))
    if not test_files and not has_run_tests:
        raise DataError("has no tests (no tests/test_*.py and no run-tests.sh)", where=str(path))
    if test_files:
        tests[LITE_RUNNER] = PYTEST_LITE
    tests["test.sh"] = _tb_test_sh(test_files, has_run_tests, st.workdir, exports, path.name)

    where = str(yaml_path)
    return _build_task(
        yaml_path, id=path.name, family=path.name, source="import",
        domain=_domain(cfg.get("category"), notes, where),
        skills=_tags(cfg.get("tags")),
        difficulty=_difficulty(cfg.get("difficulty"), notes, where),
        instruction=instruction, files=files, binary_files=binary, solution=solution, tests=tests,
        environment=Environment(image=st.image, workdir=st.workdir,
                                timeout_sec=_timeout(cfg.get("max_test_timeout_sec"), 60.0),
                                network=False),
        generator=GeneratorInfo(name="import:terminal-bench", version=INTEROP_VERSION, seed=0),
    )


def import_task_dir(dir: str | Path, *, notes: list[str] | None = None) -> Task:
    """Read a Harbor or Terminal-Bench 1 task directory as a Task.

    Steps that cannot be replayed without Docker (RUN, USER, ...) are appended to ``notes``
    when a list is given; anything unsafe or unreadable raises :class:`DataError`.
    """
    given = Path(dir)
    if not given.is_dir():
        raise DataError("not a directory", where=str(given))
    # Resolved once: every containment check below compares resolved paths.
    path = given.resolve()
    sink: list[str] = notes if notes is not None else []
    try:
        safe_dir_name(path.name)
    except DataError as e:
        raise DataError(str(e), where=str(given))
    fmt = detect_format(path)
    if fmt == "harbor":
        return _import_harbor(path, sink)
    if fmt == "terminal-bench":
        return _import_terminal_bench(path, sink)
    raise DataError("not a task directory (no task.toml or task.yaml)", where=str(path))


# --------------------------------------------------------------------------------------------
# the minimal test runner written next to imported Terminal-Bench tests

PYTEST_LITE = r'''"""termcorpus: run pytest-style test functions where pytest is not installed.

Supports module-level test functions and Test* classes, fixtures defined in the test module
(plain or yield), the tmp_path fixture, pytest.mark.parametrize / skip, pytest.raises,
pytest.approx, pytest.fail / skip. Anything else needs real pytest: install it in the image.
"""
import importlib.util
import inspect
import shutil
import sys
import tempfile
import traceback
import types
from pathlib import Path


class _Skip(Exception):
    pass


class _Raises:
    def __init__(self, exc, match=None):
        self.exc, self.match = exc, match

    def __enter__(self):
        return self

    def __exit__(self, typ, val, tb):
        if typ is None:
            raise AssertionError(f"DID NOT RAISE {self.exc}")
        if not issubclass(typ, self.exc):
            return False
        if self.match is not None:
            import re
            if not re.search(self.match, str(val)):
                raise AssertionError(f"{val!r} does not match {self.match!r}")
        self.value = val
        return True


class _Approx:
    def __init__(self, expected, rel=1e-6, abs=1e-12):
        self.expected, self.rel, self.abs = expected, rel, abs

    def _eq(self, a, b):
        if isinstance(b, (list, tuple)):
            return isinstance(a, (list, tuple)) and len(a) == len(b) and all(self._eq(x, y) for x, y in zip(a, b))
        return abs(a - b) <= max(self.abs, self.rel * abs(b))

    def __eq__(self, other):
        return self._eq(other, self.expected)

    def __repr__(self):
        return f"approx({self.expected!r})"


class _Mark:
    def parametrize(self, names, values, **kw):
        def deco(fn):
            fn.__dict__.setdefault("_lite_params", []).append(
                ([n.strip() for n in names.split(",")] if isinstance(names, str) else list(names), list(values)))
            return fn
        return deco

    def skip(self, *a, **kw):
        if a and callable(a[0]):
            a[0]._lite_skip = True
            return a[0]

        def deco(fn):
            fn._lite_skip = True
            return fn
        return deco

    def skipif(self, condition, reason="", **kw):
        def deco(fn):
            if condition:
                fn._lite_skip = True
            return fn
        return deco

    def __getattr__(self, name):
        def factory(*a, **kw):
            if a and callable(a[0]) and len(a) == 1 and not kw:
                return a[0]
            return lambda fn: fn
        return factory


def _fixture(fn=None, **kw):
    def deco(f):
        f._lite_fixture = True
        return f
    return deco(fn) if callable(fn) else deco


def _fail(msg=""):
    raise AssertionError(msg)


def _skip(msg=""):
    raise _Skip(msg)


stub = types.ModuleType("pytest")
stub.raises, stub.approx, stub.mark, stub.fixture = _Raises, _Approx, _Mark(), _fixture
stub.fail, stub.skip = _fail, _skip
sys.modules.setdefault("pytest", stub)


def _cases(fn):
    cases = [{}]
    for names, values in reversed(getattr(fn, "_lite_params", [])):
        new = []
        for case in cases:
            for v in values:
                vals = v if len(names) > 1 else (v,)
                new.append({**case, **dict(zip(names, vals))})
        cases = new
    return cases


def _call(fn, fixtures, given, cleanups):
    kwargs = {}
    for name in inspect.signature(fn).parameters:
        if name == "self":
            continue
        if name in given:
            kwargs[name] = given[name]
        elif name == "tmp_path":
            d = Path(tempfile.mkdtemp(prefix="lite-"))
            cleanups.append(lambda d=d: shutil.rmtree(d, ignore_errors=True))
            kwargs[name] = d
        elif name in fixtures:
            value = _call(fixtures[name], fixtures, {}, cleanups)
            if inspect.isgenerator(value):
                gen = value
                value = next(gen)
                cleanups.append(lambda gen=gen: next(gen, None))
            kwargs[name] = value
        else:
            raise LookupError(f"fixture {name!r} is not available without pytest")
    return fn(**kwargs)


def main(paths):
    passed = failed = skipped = 0
    for path in paths:
        spec = importlib.util.spec_from_file_location(Path(path).stem, path)
        mod = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(mod)
        except Exception:
            print(f"ERROR collecting {path}")
            traceback.print_exc()
            failed += 1
            continue
        fixtures = {n: f for n, f in vars(mod).items() if getattr(f, "_lite_fixture", False)}
        tests = []
        for name, obj in vars(mod).items():
            if name.startswith("test") and inspect.isfunction(obj) and not getattr(obj, "_lite_fixture", False):
                tests.append((name, obj))
            elif name.startswith("Test") and inspect.isclass(obj):
                inst = obj()
                for mname, meth in vars(obj).items():
                    if mname.startswith("test") and inspect.isfunction(meth):
                        tests.append((f"{name}::{mname}", getattr(inst, mname)))
        for name, fn in tests:
            for i, case in enumerate(_cases(fn)):
                label = f"{Path(path).name}::{name}" + (f"[{i}]" if len(_cases(fn)) > 1 else "")
                if getattr(fn, "_lite_skip", False):
                    print(f"SKIPPED {label}")
                    skipped += 1
                    continue
                cleanups = []
                try:
                    _call(fn, fixtures, case, cleanups)
                    print(f"PASSED {label}")
                    passed += 1
                except _Skip as e:
                    print(f"SKIPPED {label}: {e}")
                    skipped += 1
                except Exception as e:
                    print(f"FAILED {label}: {type(e).__name__}: {e}")
                    traceback.print_exc(limit=3)
                    failed += 1
                finally:
                    for c in reversed(cleanups):
                        try:
                            c()
                        except Exception:
                            pass
    print(f"termcorpus-lite: {passed} passed, {failed} failed, {skipped} skipped")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
'''
