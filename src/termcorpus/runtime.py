"""Entry-point helpers shared by stage scripts and the CLI: the stage runner, the one error
wrapper, git rev, DVC md5."""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import inspect
import json
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any, Callable, Iterator

from termcorpus.errors import TermcorpusError


@contextlib.contextmanager
def domain_errors() -> Iterator[None]:
    """The one error contract of every entry point (stage scripts, the click groups): a
    TermcorpusError becomes ``error: <one line>`` on stderr and its exit code (2); an interrupt
    becomes ``error: interrupted`` and 130. Anything else is a bug and keeps its traceback.
    Works as a context manager and as a decorator (``@domain_errors()``)."""
    try:
        yield
    except TermcorpusError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        sys.exit(130)


def run_stage(fn: Callable[..., Any], doc: str, argv: list[str] | None = None, **paths: str) -> Any:
    """The one stage contract: parse ``--<path>`` options and ``--params``, load the typed params
    sections ``fn`` takes, call ``fn`` once with keyword arguments, exit 2 on a domain error.

    ``paths`` maps each path parameter of ``fn`` to its help text; it is required on the command
    line unless ``fn`` gives it a default. Every parameter of ``fn`` annotated with a params
    model (``GenerateParams``, ``TrackingParams``, ...) is that section of the params file.
    """
    with domain_errors():
        from termcorpus.params import SECTIONS, load_section

        section_of = {cls: name for name, cls in SECTIONS.items()}
        signature = inspect.signature(fn)
        hints = typing.get_type_hints(fn)
        ap = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
        for name, help_text in paths.items():
            default = signature.parameters[name].default
            required = default is inspect.Parameter.empty
            ap.add_argument("--" + name.replace("_", "-"), dest=name, type=Path, required=required,
                            default=None if required else default, help=help_text)
        ap.add_argument("--params", type=Path, default=Path("params.yaml"), help="Read parameters from this file.")
        args = ap.parse_args(argv)
        kwargs: dict[str, Any] = {name: getattr(args, name) for name in paths}
        for name in signature.parameters:
            if hints.get(name) in section_of:
                kwargs[name] = load_section(section_of[hints[name]], args.params)
        return fn(**kwargs)


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
