"""Helpers for the report tests: a real git + DVC repo in a temp dir, driven by the venv's dvc."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

VENV_BIN = Path(sys.executable).parent
DVC = str(VENV_BIN / "dvc")


def repo_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_TRACKING", "GIT_DIR", "DVC_"))}
    env.update(
        PATH=f"{VENV_BIN}:{env.get('PATH', '')}",
        DVC_NO_ANALYTICS="1",
        MLFLOW_DISABLE_TELEMETRY="true",
        HOME=str(home),
        GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@localhost", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@localhost",
        GIT_CONFIG_NOSYSTEM="1",
    )
    return env


class Repo:
    """A temp git + DVC repository with helpers to write files, commit and run git / dvc."""

    def __init__(self, path: Path, env: dict[str, str]):
        self.path, self.env = path, env

    def sh(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(list(args), cwd=self.path, env=self.env, capture_output=True, text=True, timeout=300)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc

    def dvc(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.sh(DVC, *args, check=check)

    def write(self, rel: str, text: str) -> Path:
        p = self.path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
        return p

    def write_json(self, rel: str, data: object) -> Path:
        return self.write(rel, json.dumps(data, indent=2, sort_keys=True) + "\n")

    def commit(self, message: str) -> None:
        self.sh("git", "add", "-A")
        self.sh("git", "commit", "-q", "-m", message)


def make_repo(path: Path, home: Path) -> Repo:
    path.mkdir(parents=True, exist_ok=True)
    home.mkdir(parents=True, exist_ok=True)
    repo = Repo(path, repo_env(home))
    repo.sh("git", "init", "-q", "-b", "main", ".")
    repo.dvc("init", "-q")
    repo.dvc("config", "core.analytics", "false")
    return repo


@pytest.fixture
def dvc_repo(tmp_path) -> Repo:
    """An empty git + DVC repo (its own HOME, so no user git/DVC config leaks in)."""
    return make_repo(tmp_path / "repo", tmp_path / "home")


@pytest.fixture
def new_repo(tmp_path, dvc_repo):
    """Make more repos beside ``dvc_repo`` (same HOME and env): ``new_repo("other")``."""

    def make(name: str) -> Repo:
        return make_repo(tmp_path / name, tmp_path / "home")

    return make


@pytest.fixture(scope="module")
def module_repo_maker(tmp_path_factory):
    """Make repos shared by the tests of one module: ``module_repo_maker("name")``."""
    root = tmp_path_factory.mktemp("repos")

    def make(name: str) -> Repo:
        return make_repo(root / name, root / "home")

    return make
