"""The validate and balance stage scripts, run as DVC runs them, in a temp working directory."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from termcorpus.curate.samples import make_taxonomy, make_trajectory, taxonomy_json, trajectory_lines

REPO = Path(__file__).resolve().parents[2]


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING")}
    env.update(MLFLOW_DISABLE_TELEMETRY="true", GX_ANALYTICS_ENABLED="False", HF_DATASETS_OFFLINE="1")
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


VALIDATE = ["--trajectories", "t.jsonl", "--taxonomy", "taxonomy.json", "--suite", "suite.json",
            "--out", "metrics/validation.json", "--docs", "reports/validation"]
BALANCE = ["--trajectories", "t.jsonl", "--validation", "metrics/validation.json", "--out", "data/corpus",
           "--metrics", "metrics/curation.json"]


@pytest.mark.slow
@pytest.mark.integration
def test_failing_gate_stops_balance_then_clean_data_flows_through(tmp_path):
    shutil.copy(REPO / "params.yaml", tmp_path / "params.yaml")
    shutil.copy(REPO / "expectations" / "trajectories.json", tmp_path / "suite.json")
    (tmp_path / "taxonomy.json").write_text(taxonomy_json(make_taxonomy()))
    # the number is a slot value (a true variant): near-dup detection masks only digits outside slots
    good = [make_trajectory(f"t{i}", family=f"fam{i % 4}", commands=[[f"ls {i}"]], slots={"n": str(i)})
            for i in range(8)]
    bad = make_trajectory("t9", family="fam0", commands=[["sudo reboot"]])
    (tmp_path / "t.jsonl").write_text(trajectory_lines([*good, bad]))

    v = _run([str(REPO / "stages" / "validate.py"), *VALIDATE], tmp_path)
    assert v.returncode == 2
    assert v.stderr.strip().count("\n") == 0 and "no_privileged_commands (t9)" in v.stderr
    assert json.loads((tmp_path / "metrics/validation.json").read_text())["success"] is False
    assert (tmp_path / "reports/validation/index.html").exists()

    b = _run([str(REPO / "stages" / "balance.py"), *BALANCE], tmp_path)
    assert b.returncode == 2 and "validation gate did not pass" in b.stderr
    assert not (tmp_path / "data/corpus").exists()

    (tmp_path / "t.jsonl").write_text(trajectory_lines(good))
    v = _run([str(REPO / "stages" / "validate.py"), *VALIDATE], tmp_path)
    assert v.returncode == 0, v.stderr
    b = _run([str(REPO / "stages" / "balance.py"), *BALANCE], tmp_path)
    assert b.returncode == 0, b.stderr
    cur = json.loads((tmp_path / "metrics/curation.json").read_text())
    assert cur == {"records": 8}
    assert (tmp_path / "data/corpus/dataset_dict.json").exists() and (tmp_path / "mlflow.db").exists()
