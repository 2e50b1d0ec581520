"""dvc.yaml lists exactly the param keys each stage reads, so an unrelated change never reruns it.

The static tests hold dvc.yaml against the params models and the signatures of the stages'
``run`` functions; the integration test shows it with the real ``dvc status``.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import typing
from pathlib import Path

import pytest
import yaml

from termcorpus.params import SECTIONS

REPO = Path(__file__).resolve().parents[1]
STAGES = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
SECTION_OF = {cls: name for name, cls in SECTIONS.items()}


def _sections_read(stage: str) -> set[str]:
    """The params sections the stage's library ``run`` takes (what runtime.run_stage loads)."""
    run = importlib.import_module(f"termcorpus.stages.{stage}").run
    return {SECTION_OF[tp] for tp in typing.get_type_hints(run).values() if tp in SECTION_OF}


@pytest.mark.parametrize("stage", list(STAGES))
def test_every_listed_param_is_one_existing_key(stage):
    for entry in STAGES[stage]["params"]:
        assert isinstance(entry, str) and "." in entry, f"{stage}: {entry!r} is a whole section, not a key"
        section, key = entry.split(".", 1)
        assert key in SECTIONS[section].__pydantic_fields__, f"{stage}: no param {entry}"


@pytest.mark.parametrize("stage", list(STAGES))
def test_listed_sections_are_the_sections_run_takes_and_its_own_is_whole(stage):
    listed = [e.split(".", 1) for e in STAGES[stage]["params"]]
    assert {s for s, _ in listed} == _sections_read(stage)
    own = {k for s, k in listed if s == stage}
    assert own == set(SECTIONS[stage].__pydantic_fields__), f"{stage} reads every key of its own section"


def _dvc(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    return subprocess.run([str(Path(sys.executable).parent / "dvc"), *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300, check=True)


def _changed(root: Path) -> set[str]:
    return set(json.loads(_dvc(root, "status", "--json").stdout or "{}"))


@pytest.mark.integration
def test_dvc_status_reruns_only_the_stages_that_read_a_changed_key(tmp_path):
    """A DVC repo in a temp dir with the seven stages' real ``params:`` lists and the shipped
    params.yaml (each command only touches its own out): after a change of one key, `dvc status`
    names exactly the stages whose list holds it."""
    stages = {name: {"cmd": f"echo {name} > {name}.out", "params": s["params"], "outs": [f"{name}.out"]}
              for name, s in STAGES.items()}
    (tmp_path / "dvc.yaml").write_text(yaml.safe_dump({"stages": stages}, sort_keys=False))
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    _dvc(tmp_path, "init", "-q", "--no-scm")
    _dvc(tmp_path, "repro", "-q")
    assert _changed(tmp_path) == set()

    def change(section: str, key: str, value: object) -> set[str]:
        changed = yaml.safe_load((tmp_path / "params.yaml").read_text())
        changed[section][key] = value
        (tmp_path / "params.yaml").write_text(yaml.safe_dump(changed, sort_keys=False))
        stale = _changed(tmp_path)
        (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        return stale

    # execute.workers: execute reads it, evaluate (which reads only execute's sandbox keys) does not
    assert change("execute", "workers", 3) == {"execute"}
    # a sandbox limit is read by both
    assert change("execute", "timeout_sec", 30.0) == {"execute", "evaluate"}
    # the registered model name: train and evaluate, not balance (which logs the corpus only)
    assert change("mlflow", "registered_model", "other") == {"train", "evaluate"}
    assert change("train", "lr", 0.001) == {"train"}
