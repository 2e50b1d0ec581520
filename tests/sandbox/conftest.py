"""Fixtures for sandbox tests: a tiny task and a default config."""

import shutil
import tempfile
from pathlib import Path

import pytest

from termcorpus.records import Task
from termcorpus.sandbox import SandboxConfig


@pytest.fixture
def task() -> Task:
    return Task(
        id="sbx-0", family="sbx", source="seed", domain="file_operations",
        instruction="Say hello.", files={"hello.txt": "hello\n", "bin/run.sh": "#!/bin/sh\necho ran\n"},
        solution=["cat hello.txt"], tests={"test.sh": "#!/bin/bash\nexit 0\n"},
    )


@pytest.fixture
def config() -> SandboxConfig:
    return SandboxConfig(backend="bwrap", timeout_sec=5.0, memory_mb=512, max_procs=64, max_output_bytes=1024)


@pytest.fixture
def episode_dir():
    """A temp dir the sandbox uid can traverse (pytest's tmp_path parents are 0700)."""
    d = Path(tempfile.mkdtemp(prefix="termcorpus-test-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)
