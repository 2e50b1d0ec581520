"""Every stage runs the library of its own workspace.

`make setup` installs termcorpus editable: the venv's path entry points at the checkout's src/.
`dvc exp run --temp` and `--queue` run each stage in a copy of the workspace under .dvc/tmp/exps,
so without care a stage there imports the *checkout's* src/, the code as it is when the stage
starts, not the code the experiment was queued with (whose hashes DVC records as the stage's
deps). Each stage command therefore starts with ``PYTHONPATH=src``, which comes before the
editable entry on sys.path.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
STAGES = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
PREFIX = "PYTHONPATH=src "


@pytest.mark.parametrize("stage", list(STAGES))
def test_stage_command_puts_its_workspace_src_first(stage):
    assert STAGES[stage]["cmd"].startswith(f"{PREFIX}python stages/{stage}.py "), STAGES[stage]["cmd"]


def test_the_prefix_makes_a_copy_import_its_own_library(tmp_path):
    # a copy of the workspace, as dvc exp --temp makes one, with a change of its own
    shutil.copytree(REPO / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__"))
    marker = tmp_path / "src" / "termcorpus" / "runtime.py"
    marker.write_text(marker.read_text() + "\nCOPY_MARKER = 'the copy'\n")
    probe = "import termcorpus.runtime as r; print(r.__file__, getattr(r, 'COPY_MARKER', 'the checkout'))"
    py = sys.executable
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    plain = subprocess.run([py, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    prefixed = subprocess.run(["sh", "-c", f"{PREFIX}{py} -c \"{probe}\""], cwd=tmp_path, env=env,
                              capture_output=True, text=True, check=True)
    assert prefixed.stdout.split() == [str(marker), "the", "copy"]
    # without the prefix the editable install wins (what the prefix is there for); a non-editable
    # install would also import its own copy, never the experiment's
    assert not plain.stdout.startswith(str(tmp_path))
