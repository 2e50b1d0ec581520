"""stages/train.py end to end in a temp dir: checkpoint, metrics, loss CSV, MLflow run id.

Needs the lead's termcorpus.tracking.log_training_run (real MLflow, sqlite store in the temp dir);
skipped until it exists.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import termcorpus.tracking as tracking

if not hasattr(tracking, "log_training_run"):
    pytest.skip("termcorpus.tracking.log_training_run is not there yet", allow_module_level=True)

REPO = Path(__file__).resolve().parents[2]
TINY = {
    "vocab_size": 320, "hidden_size": 32, "num_layers": 1, "num_heads": 2, "num_kv_heads": 1, "head_dim": 16,
    "intermediate_size": 64, "max_seq_len": 512, "batch_size": 2, "max_steps": 6, "warmup_steps": 1,
    "log_every": 3,
}


def _stage(cwd: Path, corpus: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    env.pop("MLFLOW_TRACKING_URI", None)
    return subprocess.run(
        [sys.executable, str(REPO / "stages/train.py"), "--corpus", str(corpus), "--out", "models/terminal-agent",
         "--metrics", "metrics/train.json", "--detail", "reports/train_detail.json", "--plots", "plots/train_loss.csv", "--live", "dvclive/train"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )


def _params(tmp_path: Path, **train: object) -> None:
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["train"].update(TINY, **train)
    params["mlflow"]["tracking_uri"] = f"sqlite:///{tmp_path / 'mlflow.db'}"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))


@pytest.mark.slow
@pytest.mark.integration
def test_stage_writes_checkpoint_metrics_and_plot(small_corpus, tmp_path):
    _params(tmp_path, save_every=3)
    proc = _stage(tmp_path, small_corpus)
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads((tmp_path / "metrics/train.json").read_text())
    # the headline: losses and every dropped episode; the rest is detail
    assert set(metrics) == {"loss", "val_loss", "dropped"}
    detail = json.loads((tmp_path / "reports/train_detail.json").read_text())
    assert metrics["loss"] == detail["final_loss"] and metrics["dropped"] == detail["dropped"] == (
        detail["dropped_too_long"] + detail["dropped_no_assistant"])
    assert detail["steps"] == 6 and detail["n_train_episodes"] == 48
    assert detail["real_token_share"] == 1.0  # packed by default: no padding at all
    assert [s for s, _ in detail["loss_curve"]] == [3, 6] and "tokens_per_sec" not in detail
    assert "tok/s" in proc.stderr  # timings go to the console (and MLflow), not to the metrics
    rows = list(csv.reader((tmp_path / "plots/train_loss.csv").open()))
    assert rows[0] == ["step", "loss"] and [r[0] for r in rows[1:]] == ["3", "6"]
    meta = json.loads((tmp_path / "models/terminal-agent/termcorpus.json").read_text())
    assert meta["run_id"] and meta["model_version"] == "1" and meta["registered_model"] == "terminal-agent"
    assert (tmp_path / "models/terminal-agent/model.safetensors").exists()

    # dvclive: the loss per log point and the final metrics, in the declared directory only.
    live = tmp_path / "dvclive/train"
    lines = (live / "plots/metrics/loss.tsv").read_text().splitlines()
    assert lines[0].split("\t") == ["step", "loss"] and [x.split("\t")[0] for x in lines[1:]] == ["3", "6"]
    summary = json.loads((live / "metrics.json").read_text())
    assert summary["final_loss"] == metrics["loss"] and "tokens_per_sec" not in summary
    assert sorted(p.name for p in live.iterdir()) == ["metrics.json", "plots"]
    # Step checkpoints went to the resume dir (not an out), newest two kept.
    assert [p.name for p in sorted((tmp_path / "models/.resume/terminal-agent").iterdir())] == [
        "step-000003", "step-000006"
    ]
    # Nothing undeclared beside the outs, the metrics and the MLflow store.
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "dvclive", "metrics", "mlartifacts", "mlflow.db", "models", "params.yaml", "plots", "reports"
    ]


def test_stage_bad_param_is_one_line_and_exit_2(small_corpus, tmp_path):
    _params(tmp_path, num_layers=0)
    proc = _stage(tmp_path, small_corpus)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "train.num_layers" in proc.stderr


@pytest.mark.slow
def test_stage_missing_corpus_is_one_line_and_exit_2(tmp_path):
    _params(tmp_path)
    proc = _stage(tmp_path, tmp_path / "no-corpus")
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr.strip().splitlines()[-1].startswith("error:") and "corpus directory not found" in proc.stderr
