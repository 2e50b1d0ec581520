"""MLflow lineage against a real sqlite tracking store in a temp dir."""

from __future__ import annotations

import json

import pytest

from termcorpus.errors import EnvironmentProblem
from termcorpus.params import TrackingParams, TrainParams
from termcorpus.runtime import dvc_md5


@pytest.fixture()
def store(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    return TrackingParams(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}", experiment="t")


def _corpus(tmp_path):
    import datasets

    rows = {
        "messages": [[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "{}"}]] * 2,
        "family": ["a", "b"], "domain": ["security", "debugging"], "skills": [["x"], ["y", "z"]],
    }
    dd = datasets.DatasetDict({"train": datasets.Dataset.from_dict(rows), "validation": datasets.Dataset.from_dict(rows)})
    out = tmp_path / "corpus"
    dd.save_to_disk(str(out))
    (out / "lineage.json").write_text(json.dumps({"seeds_digest": "s1", "task_set_digest": "t1", "trajectories_digest": "j1"}))
    return out


@pytest.mark.integration
def test_corpus_train_eval_lineage_chain(store, tmp_path):
    from mlflow import MlflowClient

    from termcorpus.tracking import lineage, log_corpus_version, log_evaluation, log_training_run

    corpus = _corpus(tmp_path)
    digest = dvc_md5(corpus)
    taxonomy = tmp_path / "taxonomy.json"
    taxonomy.write_text('{"skills": []}')
    log_corpus_version(corpus_dir=corpus, digest=digest, counts={"train": {"security": 1}}, tracking=store,
                       taxonomy=taxonomy)
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    info = log_training_run(model_dir=model, corpus_dir=corpus, corpus_digest=digest, params=TrainParams(max_steps=7),
                            metrics={"final_loss": 1.5}, loss_curve=[(1, 3.0), (2, 2.0)], tracking=store)
    assert info["model_version"] == "1"
    (model / "termcorpus.json").write_text(json.dumps({**info, "val_loss": 1.2}))
    # 1,200 per-skill rates: more than one MLflow batch (1,000 metrics), all mirrored on the training run
    by_skill = {f"s{i}": {"success_rate": i / 1200, "n": 1} for i in range(1200)}
    ev = log_evaluation(model_dir=model, tracking=store, metrics={
        "finetuned": {"heldout_variants": {"success_rate": 0.5, "by_skill": by_skill}}})
    assert ev["champion"] == "1"

    client = MlflowClient(tracking_uri=store.tracking_uri, registry_uri=store.tracking_uri)
    mv = client.get_model_version_by_alias("terminal-agent", "candidate")
    assert mv.tags["corpus_digest"] == digest and mv.tags["seeds_digest"] == "s1"
    assert json.loads(mv.tags["params"])["max_steps"] == 7
    assert mv.tags["eval_success_rate"] == "0.5000"
    curve = client.get_metric_history(info["run_id"], "train_loss")
    assert sorted((m.step, m.value) for m in curve) == [(1, 3.0), (2, 2.0)]
    mirrored = client.get_run(info["run_id"]).data.metrics
    assert mirrored["eval.finetuned.heldout_variants.success_rate"] == 0.5
    assert sum(k.startswith("eval.finetuned.heldout_variants.by_skill.") for k in mirrored) == 1200
    assert mirrored["eval.finetuned.heldout_variants.by_skill.s600.success_rate"] == 0.5
    assert not any(k.endswith(".n") for k in mirrored)  # counts stay on the evaluation run

    chain = lineage("terminal-agent/1", store)
    assert chain["corpus"]["digest"] == digest
    assert chain["corpus"]["source"]["tags"]["dvc_md5"] == digest
    assert chain["corpus"]["profile"]["train.security"] == 1
    assert chain["task_set"]["digest"] == "t1" and chain["seeds"]["digest"] == "s1"
    assert chain["seeds"]["skills_digest"] == dvc_md5(taxonomy)


@pytest.mark.integration
def test_champion_is_picked_on_validation_loss_not_on_reported_sets(store, tmp_path):
    from termcorpus.tracking import log_evaluation, log_training_run

    corpus = _corpus(tmp_path)
    model = tmp_path / "model"
    model.mkdir()
    champion = {}
    # Version 2 scores higher on the reported held-out set but has a worse validation loss:
    # it must not take the alias; version 3 (lower validation loss, lower held-out score) does.
    for val_loss, success in ((1.0, 0.4), (1.5, 0.9), (0.8, 0.1)):
        info = log_training_run(model_dir=model, corpus_dir=corpus, corpus_digest="d.dir", params=TrainParams(),
                                metrics={}, loss_curve=[], tracking=store)
        (model / "termcorpus.json").write_text(json.dumps({**info, "val_loss": val_loss}))
        champion[info["model_version"]] = log_evaluation(
            model_dir=model, metrics={"finetuned": {"s": {"success_rate": success}}}, tracking=store)["champion"]
    assert champion == {"1": "1", "2": "", "3": "3"}


def test_unreachable_tracking_uri_is_one_clear_error(monkeypatch):
    from termcorpus.tracking import log_evaluation

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    bad = TrackingParams(tracking_uri="http://127.0.0.1:9")
    with pytest.raises(EnvironmentProblem, match="unreachable"):
        log_evaluation(model_dir=__import__("pathlib").Path("."), metrics={}, tracking=bad)
