"""The verifier environment: real pytest for task tests, and the `python` name images have.

Built once per pytest version under ``<cache>/verifier-<version>/`` from the distributions of
the project's own environment (pytest and what it requires, pure Python; no network), and
mounted read-only at ``/run/termcorpus`` in sandboxes that run a built task environment::

    run_pytest.py     puts site/ at the END of sys.path (the image's modules win), runs pytest
    site/             pytest, _pytest, pluggy, iniconfig, packaging, pygments ...
    tail/pytest       shell shim: python3 /run/termcorpus/run_pytest.py "$@"
    tail/python       shell shim: python3 "$@" (images have `python`; Debian's /usr has not)

``tail`` goes at the end of PATH, so a `python` or `pytest` the image has comes first.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from importlib import metadata, resources
from pathlib import Path

from termcorpus.errors import EnvironmentProblem

MOUNT = "/run/termcorpus"
TAIL = f"{MOUNT}/tail"


def write_common_shims(tail: Path) -> None:
    """``python`` and ``pytest`` shims in ``tail`` (a directory meant for the end of PATH)."""
    tail.mkdir(parents=True, exist_ok=True)
    for name, body in (("python", 'exec python3 "$@"'),
                       ("pytest", f'exec python3 {MOUNT}/run_pytest.py "$@"')):
        (tail / name).write_text(f"#!/bin/sh\n{body}\n")
        os.chmod(tail / name, 0o755)


def _requirements(dist: metadata.Distribution) -> list[str]:
    out = []
    for req in dist.requires or []:
        if "extra ==" in req:
            continue
        if ";" in req and "python_version" in req and "<" in req.split(";", 1)[1]:
            continue  # backports for older Pythons (exceptiongroup, tomli)
        out.append(re.split(r"[\s;<>=!~\[(]", req, 1)[0])
    return out


def _closure(name: str) -> list[metadata.Distribution]:
    seen: dict[str, metadata.Distribution] = {}
    todo = [name]
    while todo:
        n = todo.pop()
        key = n.lower().replace("_", "-")
        if key in seen:
            continue
        try:
            dist = metadata.distribution(n)
        except metadata.PackageNotFoundError:
            raise EnvironmentProblem(f"the verifier environment needs {n!r}, which the project's "
                                     "environment lacks (pip install pytest)")
        seen[key] = dist
        todo += _requirements(dist)
    return list(seen.values())


def verifier_env(cache: Path) -> Path:
    """The verifier directory (built now when missing); mount it read-only at :data:`MOUNT`."""
    version = metadata.version("pytest")
    final = Path(cache) / f"verifier-pytest-{version}"
    if (final / "run_pytest.py").is_file():
        return final
    Path(cache).mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=".verifier-", dir=cache))
    try:
        site = build / "site"
        for dist in _closure("pytest"):
            for f in dist.files or []:
                if f.parts[0] == ".." or "__pycache__" in f.parts or f.suffix == ".pyc":
                    continue
                src = Path(dist.locate_file(f))
                if src.is_file():
                    dst = site / f
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(src, dst)
        (build / "run_pytest.py").write_bytes(
            resources.files("termcorpus.sandbox").joinpath("data/run_pytest.py").read_bytes())
        write_common_shims(build / "tail")
        for dirpath, dirnames, filenames in os.walk(build):
            os.chmod(dirpath, 0o755)
            for n in filenames:
                p = os.path.join(dirpath, n)
                os.chmod(p, 0o755 if os.access(p, os.X_OK) else 0o644)
        try:
            os.rename(build, final)
        except OSError:
            pass  # another worker built it first
    finally:
        shutil.rmtree(build, ignore_errors=True)
    return final
