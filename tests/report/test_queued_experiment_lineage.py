"""Queued experiments keep their lineage: each logs to the project's MLflow store, not DVC's temp copy.

A temp git + DVC repo with one toy ``train`` stage that does what stages/train.py does for
tracking: a checkpoint directory, ``log_training_run`` (real MLflow, the default relative
``sqlite:///mlflow.db``), the run id and version recorded in the checkpoint's termcorpus.json.
Two experiments are queued with different losses and run by DVC's queue workers in
``.dvc/tmp/exps`` copies; then ``termcorpus report --base A --head B`` must show, for each, its
own training run, final loss and model version (taken from that experiment's checkpoint).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SRC = Path(__file__).resolve().parents[2] / "src"

STAGE = '''\
import json, pathlib, yaml
import datasets
from termcorpus.params import TrainParams, load_section
from termcorpus.records import write_json
from termcorpus.runtime import dvc_md5
from termcorpus.tracking import log_training_run

loss = float(yaml.safe_load(open("params.yaml"))["toy"]["loss"])
corpus = pathlib.Path("work/corpus")
rows = {"messages": [[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "{}"}]],
        "family": ["a"]}
datasets.DatasetDict({"train": datasets.Dataset.from_dict(rows)}).save_to_disk(str(corpus))
model = pathlib.Path("models/terminal-agent")
model.mkdir(parents=True, exist_ok=True)
(model / "config.json").write_text(json.dumps({"loss": loss}) + "\\n")
write_json(model / "termcorpus.json", {"base_model": "toy"})
info = log_training_run(model_dir=model, corpus_dir=corpus, corpus_digest=dvc_md5(corpus),
                        params=TrainParams(max_steps=1), metrics={"final_loss": loss},
                        loss_curve=[(1, loss)], tracking=load_section("mlflow", "params.yaml"))
write_json("metrics/train.json", {"final_loss": loss})
'''

DVC_YAML = """\
stages:
  train:
    cmd: python train_stage.py
    deps: [train_stage.py]
    params: [toy]
    outs: [models/terminal-agent]
    metrics:
      - metrics/train.json: {cache: false}
"""


def test_two_queued_experiments_report_their_own_run_loss_and_version(dvc_repo):
    repo = dvc_repo
    repo.env["PYTHONPATH"] = str(SRC)
    repo.env["HF_DATASETS_OFFLINE"] = "1"
    repo.env.pop("DVC_ROOT", None)
    repo.write("train_stage.py", STAGE)
    repo.write("dvc.yaml", DVC_YAML)
    repo.write("params.yaml", "toy:\n  loss: 1.0\nmlflow:\n  experiment: toy\n")
    repo.write(".gitignore", "/mlflow.db\n/mlartifacts/\n/work/\n")
    repo.commit("toy pipeline")

    repo.dvc("exp", "run", "--queue", "-n", "exp-a", "-S", "toy.loss=4.0")
    repo.dvc("exp", "run", "--queue", "-n", "exp-b", "-S", "toy.loss=2.0")
    repo.dvc("exp", "run", "--run-all")
    shown = repo.dvc("exp", "show", "--json").stdout
    assert "exp-a" in shown and "exp-b" in shown

    # both experiments logged into the repository's own store, not into their temp copies
    from mlflow import MlflowClient

    uri = f"sqlite:///{repo.path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    runs = client.search_runs([client.get_experiment_by_name("toy").experiment_id],
                              filter_string="tags.`termcorpus.kind` = 'train'")
    by_loss = {r.data.metrics["final_loss"]: r for r in runs}
    assert set(by_loss) == {4.0, 2.0}
    versions = {mv.run_id: str(mv.version) for mv in client.search_model_versions("name='terminal-agent'")}
    for r in by_loss.values():
        assert r.info.artifact_uri.startswith((repo.path / "mlartifacts").as_uri())

    proc = repo.sh(str(Path(sys.executable).parent / "termcorpus"), "report", "--base", "exp-a", "--head", "exp-b",
                   "--no-images", "--samples", "0")
    text = proc.stdout
    rows = {m.group(1): [c.strip() for c in m.group(2).split("|")]
            for m in re.finditer(r"^\| (model version|training run|final loss) \|(.*)\|$", text, re.M)}
    assert rows, text
    run_a, run_b = by_loss[4.0].info.run_id, by_loss[2.0].info.run_id
    assert rows["training run"][:2] == [run_a, run_b], text
    assert rows["final loss"][:2] == ["4.0", "2.0"], text
    assert rows["model version"][0].startswith(f"terminal-agent/{versions[run_a]}")
    assert rows["model version"][1].startswith(f"terminal-agent/{versions[run_b]}")
    assert versions[run_a] != versions[run_b]
    # and each experiment's checkpoint names its own run
    for exp, run in (("exp-a", run_a), ("exp-b", run_b)):
        import dvc.api

        meta = json.loads(dvc.api.read("models/terminal-agent/termcorpus.json", repo=str(repo.path), rev=exp))
        assert meta["run_id"] == run and meta["model_version"] == versions[run]
