"""`termcorpus run --sandbox NAME`: the choice is the configured backends, and docker runs a task.

The docker test reuses tests/sandbox/test_sandbox_docker.py's ``docker_daemon`` fixture (starts
dockerd and builds the base image where it can, else skips with the reason).
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from termcorpus.cli import main
from termcorpus.records import Task, write_jsonl
from termcorpus.sandbox.config import BACKENDS

_spec = importlib.util.spec_from_file_location(
    "termcorpus_tests_sandbox_docker", Path(__file__).resolve().parents[1] / "sandbox" / "test_sandbox_docker.py")
_docker_tests = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _docker_tests
_spec.loader.exec_module(_docker_tests)
docker_daemon = _docker_tests.docker_daemon  # the session fixture, registered here too


def _task_file(tmp_path: Path) -> Path:
    task = Task(id="cli-0", family="cli", source="seed", domain="file_operations",
                instruction="Write hi into out.txt.", solution=["echo hi > out.txt"],
                tests={"test.sh": '#!/bin/bash\ntest "$(cat out.txt)" = hi\n'})
    path = tmp_path / "tasks.jsonl"
    write_jsonl(path, [task])
    (tmp_path / "params.yaml").write_text("execute:\n  sandbox: local\n")
    return path


def test_sandbox_choice_lists_the_configured_backends():
    res = CliRunner().invoke(main, ["run", "--help"])
    assert res.exit_code == 0
    assert "[" + "|".join(BACKENDS) + "]" in res.output and "docker" in BACKENDS
    bad = CliRunner().invoke(main, ["run", "x.jsonl", "--sandbox", "podman-nope"])
    assert bad.exit_code == 2 and "podman-nope" in bad.output


@pytest.mark.integration
def test_run_sandbox_option_overrides_params(tmp_path, monkeypatch):
    if shutil.which("bwrap") is None:
        pytest.skip("bwrap is not installed")
    monkeypatch.chdir(tmp_path)
    tasks = _task_file(tmp_path)  # params.yaml says local
    res = CliRunner().invoke(main, ["run", str(tasks), "--sandbox", "bwrap", "--no-show"])
    assert res.exit_code == 0, res.output
    assert res.output.startswith("PASS cli-0")


@pytest.mark.docker
@pytest.mark.slow
def test_run_with_docker_sandbox(tmp_path, monkeypatch, docker_daemon):
    monkeypatch.chdir(tmp_path)
    tasks = _task_file(tmp_path)
    res = CliRunner().invoke(main, ["run", str(tasks), "--sandbox", "docker"])
    assert res.exit_code == 0, res.output
    assert "$ echo hi > out.txt" in res.output and "PASS cli-0" in res.output
    # (Container clean-up is tests/sandbox's subject; the daemon may be shared with other runs.)
