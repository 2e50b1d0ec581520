"""`termcorpus ablate --run` on a trivial one-stage DVC pipeline: real `dvc exp` queue, show and diff."""

from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner

from termcorpus.report.cli import ablate_cmd, report_cmd

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# The "pipeline": one stage that turns balance params into an evaluation metric.
STAGE = """\
import json, pathlib, yaml
p = yaml.safe_load(open("params.yaml"))
b = p["balance"]
rate = round(0.3 + 0.4 * b["fraction"] + (0.1 if b["filter_failed"] else 0.0), 4)
pathlib.Path("metrics/eval").mkdir(parents=True, exist_ok=True)
json.dump({"variants": rate}, open("metrics/eval/finetuned.json", "w"))
json.dump({"variants": 0.0}, open("metrics/eval/base.json", "w"))
json.dump({"loss": round(1.0 - rate, 4)}, open("metrics/train.json", "w"))
"""
DVC_YAML = """\
stages:
  evaluate:
    cmd: python stage.py
    deps: [stage.py]
    params: [balance]
    metrics:
      - metrics/eval/finetuned.json: {cache: false}
      - metrics/eval/base.json: {cache: false}
      - metrics/train.json: {cache: false}
"""
GRID = """\
common: {}
experiments:
  baseline: {help: as committed, set: {}}
  data-50: {help: half the data, set: {balance.fraction: 0.5}}
  no-filter-failed: {help: keep failures, set: {balance.filter_failed: false}}
"""


def _wait_for_idle_workers(repo, timeout_sec: float = 30.0) -> str:
    deadline = time.monotonic() + timeout_sec
    while True:
        status = repo.dvc("queue", "status").stdout
        if "0 active, 0 idle" in status or time.monotonic() > deadline:
            return status
        time.sleep(0.5)


def test_ablate_queues_runs_and_the_experiments_table_compares_to_baseline(dvc_repo):
    repo = dvc_repo
    repo.write("stage.py", STAGE)
    repo.write("dvc.yaml", DVC_YAML)
    repo.write("params.yaml", "balance:\n  filter_failed: true\n  fraction: 1.0\n  curriculum: true\n")
    repo.write("params_ablations.yaml", GRID)
    repo.dvc("repro", "-q")
    repo.commit("trivial pipeline")

    res = CliRunner().invoke(ablate_cmd, ["--repo", str(repo.path), "--grid", str(repo.path / "params_ablations.yaml"),
                                          "--only", "baseline", "--only", "data-50", "--run"])
    assert res.exit_code == 0, res.output
    assert "ran: dvc exp run --queue -n data-50 -S balance.fraction=0.5" in res.output
    assert "ran: dvc exp run --run-all -j 1" in res.output
    # the table printed after the run comes from `dvc exp show`: every experiment ran
    assert "| data-50 | success | balance.fraction=0.5 | 0.6 (-0.2) | 0 (±0) | 0.4 (+0.2) |" in res.output
    assert "| baseline (ref) | success | - | 0.8 | 0 | 0.2 |" in res.output

    diff = json.loads(repo.dvc("exp", "diff", "baseline", "data-50", "--json").stdout)
    assert diff["params"]["params.yaml"]["balance.fraction"] == {"old": 1.0, "new": 0.5, "diff": -0.5}
    assert diff["metrics"]["metrics/eval/finetuned.json"]["variants"]["new"] == 0.6

    res = CliRunner().invoke(report_cmd, ["--repo", str(repo.path), "--experiments",
                                          "--metric", "*eval/finetuned.json:*", "--metric", "loss"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert "| experiment | state | params changed | variants | loss |" in lines
    assert "| baseline (ref) | success | - | 0.8 | 0.2 |" in lines
    assert "| data-50 | success | balance.fraction=0.5 | 0.6 (-0.2) | 0.4 (+0.2) |" in lines
    assert "no-filter-failed" not in res.output  # not queued: --only

    # no queue worker is left behind
    assert "0 active, 0 idle" in _wait_for_idle_workers(repo)
