"""Red-team fixtures: a hand-written task, small sandbox limits, and the attempts report.

Every red-team test is decorated with ``attempt(category, what)``, which sets the attribute
``redteam`` on the test function. When ``TERMCORPUS_SECURITY_REPORT`` names
a file, the session's outcomes are written there as the markdown table of docs/SECURITY.md:
a passing test is an attempt that stayed contained, a failing one an escape.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from termcorpus.records import Task
from termcorpus.sandbox import SandboxConfig

_OUTCOMES: dict[str, tuple[str, str, str]] = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    info = getattr(getattr(item, "function", None), "redteam", None)
    if info is None:
        return
    if rep.when == "call" or (rep.when == "setup" and not rep.passed):
        status = "contained" if rep.passed else ("skipped" if rep.skipped else "ESCAPED")
        _OUTCOMES[item.name] = (info[0], info[1], status)


def pytest_sessionfinish(session, exitstatus):
    target = os.environ.get("TERMCORPUS_SECURITY_REPORT")
    if not target or not _OUTCOMES:
        return
    rows = sorted(_OUTCOMES.items(), key=lambda kv: (kv[1][0], kv[0]))
    n = len(rows)
    contained = sum(1 for _, v in rows if v[2] == "contained")
    escaped = sum(1 for _, v in rows if v[2] == "ESCAPED")
    lines = [
        f"attempts: {n}, contained: {contained}, escaped: {escaped}, skipped: {n - contained - escaped}",
        "",
        "| # | category | attempt | test | result |",
        "|---|---|---|---|---|",
    ]
    for i, (name, (cat, what, status)) in enumerate(rows, 1):
        what = what.replace("|", "\\|")  # a literal | would split the table cell
        lines.append(f"| {i} | {cat} | {what} | `{name}` | {status} |")
    Path(target).write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def task() -> Task:
    return Task(
        id="redteam-0", family="redteam", source="seed", domain="security",
        instruction="Try to get out.", files={"notes.txt": "inside\n"},
        solution=["cat notes.txt"], tests={"test.sh": "#!/bin/bash\nexit 0\n"},
    )


@pytest.fixture
def config() -> SandboxConfig:
    # Small limits so that bombs end fast and cannot hurt the shared host.
    return SandboxConfig(backend="bwrap", timeout_sec=5.0, memory_mb=256, max_procs=32,
                         max_output_bytes=4096, tmp_mb=16, max_file_mb=8)


@pytest.fixture
def episode_dir():
    """A temp dir the sandbox uid can traverse (pytest's tmp_path parents are 0700)."""
    d = Path(tempfile.mkdtemp(prefix="termcorpus-redteam-"))
    os.chmod(d, 0o711)
    yield d
    shutil.rmtree(d, ignore_errors=True)
