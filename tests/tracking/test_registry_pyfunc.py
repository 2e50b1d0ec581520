"""The registry serves models: each registered version is an MLflow pyfunc wrapping the checkpoint.

A tiny Qwen3 checkpoint (the evaluation tests' fixture builders) is logged and registered the way
the train stage does it, evaluated to become the champion, then loaded back with
``mlflow.pyfunc.load_model("models:/terminal-agent@champion")`` and run on one held-out task in
the bwrap sandbox. The registry's copy of the checkpoint must equal the checkpoint directory
byte for byte (termcorpus.json included, with the run id and version it records).
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

from termcorpus.params import TrackingParams, TrainParams
from termcorpus.runtime import dvc_md5

_spec = importlib.util.spec_from_file_location(
    "termcorpus_tests_eval_models", Path(__file__).resolve().parents[1] / "evaluate" / "conftest.py")
_models = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _models
_spec.loader.exec_module(_models)


@pytest.fixture()
def store(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("DVC_ROOT", raising=False)
    monkeypatch.chdir(tmp_path)
    return TrackingParams(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}", experiment="t")


def _corpus(tmp_path: Path) -> Path:
    import datasets

    rows = {"messages": [[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "{}"}]] * 2,
            "family": ["a", "b"], "domain": ["security", "debugging"]}
    out = tmp_path / "corpus"
    datasets.DatasetDict({"train": datasets.Dataset.from_dict(rows),
                          "validation": datasets.Dataset.from_dict(rows)}).save_to_disk(str(out))
    return out


def _checkpoint(tmp_path: Path) -> Path:
    tok = _models.build_tokenizer()
    d = tmp_path / "models" / "terminal-agent"
    _models.build_model(tok).save_pretrained(d)
    tok.save_pretrained(d)
    (d / "termcorpus.json").write_text(json.dumps({"base_model": "tiny", "seed": 0, "val_loss": 2.6}, indent=2, sort_keys=True) + "\n")
    return d


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _register_champion(tmp_path: Path, store: TrackingParams) -> tuple[Path, dict[str, str]]:
    from termcorpus.tracking import log_evaluation, log_training_run

    corpus, ckpt = _corpus(tmp_path), _checkpoint(tmp_path)
    info = log_training_run(model_dir=ckpt, corpus_dir=corpus, corpus_digest=dvc_md5(corpus),
                            params=TrainParams(max_steps=3), metrics={"final_loss": 2.5},
                            loss_curve=[(1, 3.0)], tracking=store)
    ev = log_evaluation(model_dir=ckpt, metrics={"finetuned": {"heldout_variants": {"success_rate": 0.5}}},
                        tracking=store)
    assert ev["champion"] == info["model_version"] == "1"
    return ckpt, info


@pytest.mark.integration
def test_registry_copy_is_byte_identical_and_records_its_version(tmp_path, store):
    import mlflow

    ckpt, info = _register_champion(tmp_path, store)
    meta = json.loads((ckpt / "termcorpus.json").read_text())
    assert meta["run_id"] == info["run_id"] and meta["model_version"] == "1"
    mlflow.set_tracking_uri(store.tracking_uri)
    local = Path(mlflow.artifacts.download_artifacts("models:/terminal-agent@champion", dst_path=str(tmp_path / "dl")))
    import yaml

    spec = yaml.safe_load((local / "MLmodel").read_text())
    rel = spec["flavors"]["python_function"]["artifacts"]["checkpoint"]["path"]
    assert _files(local / rel) == _files(ckpt)
    # a train stage that still calls update_meta with the same info changes no byte
    from termcorpus.train.loop import update_meta

    before = (ckpt / "termcorpus.json").read_bytes()
    update_meta(ckpt, **{k: str(v) for k, v in sorted(info.items())})
    assert (ckpt / "termcorpus.json").read_bytes() == before


@pytest.mark.integration
def test_champion_loads_with_pyfunc_and_runs_a_heldout_task_in_bwrap(tmp_path, store):
    import mlflow

    from termcorpus.execute.episode import run_episode
    from termcorpus.records import Lineage
    from termcorpus.sandbox import SandboxConfig

    if shutil.which("bwrap") is None:
        pytest.skip("bwrap is not installed")
    _register_champion(tmp_path, store)
    mlflow.set_tracking_uri(store.tracking_uri)
    model = mlflow.pyfunc.load_model("models:/terminal-agent@champion")
    task = _models.make_task("heldout-1", "write-word", word="hello").model_copy(
        update={"eval_set": "heldout_variants"})

    replies: list[str] = []

    class RegistryAgent:
        """The pyfunc behind the Agent protocol: history = (reply, observation) pairs so far."""

        name, model = "registry", "terminal-agent@champion"

        def act(self, task, messages):
            history = [{"assistant": a.content, "observation": u.content}
                       for a, u in zip(messages[1::2], messages[2::2])]
            out = model.predict([{"instruction": task.instruction, "history": history}])
            replies.append(out[0])
            return out[0]

    traj = run_episode(task, RegistryAgent(), SandboxConfig(backend="bwrap", timeout_sec=5.0),
                       max_turns=2, prompt_style="compact", lineage=Lineage(task_digest=task.digest()))
    assert traj.n_turns >= 1 and [t.raw for t in traj.turns] == replies
    assert traj.sandbox == "bwrap" and traj.verifier_output is not None
    # the same call through a DataFrame gives the same (greedy) reply
    import pandas as pd

    again = model.predict(pd.DataFrame([{"instruction": task.instruction, "history": []}]))
    assert again[0] == replies[0]
