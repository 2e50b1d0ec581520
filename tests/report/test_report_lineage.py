"""The report's lineage section against a real (sqlite) MLflow store with one registered model version."""

from __future__ import annotations

import json

import pytest

from termcorpus.params import TrackingParams
from termcorpus.report.lineage import lineage_markdown, model_lineage

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_lineage_of_the_workspace_model_walks_to_the_corpus_digest(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    tracking = TrackingParams(tracking_uri=f"sqlite:///{tmp_path}/mlflow.db", experiment="t", registered_model="agent")
    from termcorpus.tracking import _mlflow

    mlflow = _mlflow(tracking)
    client = mlflow.MlflowClient()
    with mlflow.start_run(tags={"git_rev": "abc123"}) as run:
        mlflow.log_metric("final_loss", 0.25)
    client.create_registered_model("agent")
    mv = client.create_model_version("agent", source=str(tmp_path / "ckpt"), run_id=run.info.run_id,
                                     tags={"corpus_digest": "0123abcd.dir"})
    model_dir = tmp_path / "models" / "terminal-agent"
    model_dir.mkdir(parents=True)
    (model_dir / "termcorpus.json").write_text(json.dumps({"registered_model": "agent", "model_version": mv.version}))

    head = model_lineage(tmp_path, "models/terminal-agent", None, tracking)
    assert head.ref == "agent/1" and head.info["corpus"]["digest"] == "0123abcd.dir"
    missing = model_lineage(tmp_path, "models/other", None, tracking)
    assert missing.note == "no models/other/termcorpus.json at this revision"

    md = lineage_markdown([missing, head])
    assert "| model version | - | agent/1 |" in md
    assert f"| training run | no models/other/termcorpus.json at this revision | {run.info.run_id} |" in md
    assert "| corpus (DVC md5 @ git rev/tag) |  | 0123abcd.dir |" in md
    assert "| final loss |  | 0.25 |" in md


def test_malformed_checkpoint_metadata_is_named_not_called_absent(tmp_path):
    tracking = TrackingParams(tracking_uri=f"sqlite:///{tmp_path}/mlflow.db", experiment="t", registered_model="agent")
    model_dir = tmp_path / "models" / "terminal-agent"
    model_dir.mkdir(parents=True)
    (model_dir / "termcorpus.json").write_text(json.dumps({"model_version": ["1"]}))
    got = model_lineage(tmp_path, "models/terminal-agent", None, tracking)
    assert got.ref == "" and "models/terminal-agent/termcorpus.json" in got.note
    assert "model_version" in got.note and "at this revision" not in got.note
