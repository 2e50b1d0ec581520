"""Training runs, registered model versions and evaluations in MLflow, and the lineage walk
from a model version back to its corpus, task set and seeds."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from termcorpus.checkpoint_meta import META_FILE, read_meta, update_meta  # META_FILE re-exported
from termcorpus.params import TrackingParams
from termcorpus.runtime import git_rev
from termcorpus.tracking.corpus import (
    CORPUS_DATASET_NAME, _flat_counts, _lineage_from_trajectories, _metric_key, corpus_dataset, find_corpus_run,
)
from termcorpus.tracking.store import _mlflow, tracking_uri



def _log_points(client: Any, run_id: str, points: list[tuple[str, float, int]]) -> None:
    """``(key, value, step)`` metric points in one MLflow batch (MLflow splits it into its own size
    limits). One ``log_metric`` call per point took 11.8 s for the evaluation's ~2,000 numbers on
    sqlite, and 0.28 s for the 68 points of the default loss curve (one batch: 0.01 s)."""
    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    client.log_batch(run_id, metrics=[Metric(key, value, now, step) for key, value, step in points])


def log_training_run(
    *,
    model_dir: Path,
    corpus_dir: Path,
    corpus_digest: str,
    params: Any,
    metrics: dict[str, float],
    loss_curve: list[tuple[int, float]],
    tracking: TrackingParams,
    register: bool = True,
    parent_version: str | None = None,
) -> dict[str, str]:
    """Log a training run (params, loss curve, corpus input), register the checkpoint; alias 'candidate'."""
    mlflow = _mlflow(tracking)
    from mlflow import MlflowClient

    client = MlflowClient()
    corpus_run = find_corpus_run(client, corpus_digest)
    lineage = _lineage_from_trajectories(Path(corpus_dir))
    rev = git_rev()
    param_dict = asdict(params) if hasattr(params, "__dataclass_fields__") else dict(params)
    tags = {
        "termcorpus.kind": "train",
        "corpus.digest": corpus_digest,
        "git_rev": rev,
        **({"corpus.run_id": corpus_run.info.run_id} if corpus_run else {}),
        **({"parent_version": parent_version} if parent_version else {}),
    }
    with mlflow.start_run(run_name=f"train-{corpus_digest[:8]}", tags=tags) as run:
        mlflow.log_params({k: v for k, v in param_dict.items()})
        mlflow.log_input(corpus_dataset(Path(corpus_dir), corpus_digest), context="training")
        _log_points(client, run.info.run_id, [("train_loss", float(loss), int(step)) for step, loss in loss_curve])
        mlflow.log_metrics({_metric_key(k): float(v) for k, v in metrics.items() if isinstance(v, (int, float))})
        run_id = run.info.run_id
        out = {"run_id": run_id, "model_version": "", "registered_model": ""}
        if register:
            # The version is created first (its source is the run's `model` folder, filled just
            # below), so the checkpoint can record its own run and version before it is copied:
            # the registry's copy is then byte-identical to the DVC-tracked directory.
            name = tracking.registered_model
            try:
                client.get_registered_model(name)
            except Exception:
                client.create_registered_model(
                    name, description="Terminal agent trained on the Terminal-Corpus (termcorpus)."
                )
            version_tags = {
                "corpus_digest": corpus_digest,
                "task_digest": lineage.get("task_set_digest", ""),
                "seeds_digest": lineage.get("seeds_digest", ""),
                "git_rev": rev,
                "params": json.dumps(param_dict, sort_keys=True),
                **({"parent_version": parent_version} if parent_version else {}),
            }
            mv = client.create_model_version(
                name, source=f"{run.info.artifact_uri}/{MODEL_ARTIFACT}", run_id=run_id, tags=version_tags,
                description=f"trained on corpus {corpus_digest}",
            )
            out.update(model_version=str(mv.version), registered_model=name)
        record_in_checkpoint(model_dir, out)
        _log_pyfunc(mlflow, Path(model_dir))
    if out["model_version"]:
        client.set_registered_model_alias(out["registered_model"], "candidate", out["model_version"])
    return out


MODEL_ARTIFACT = "model"  # the run's MLflow model folder; the checkpoint is its artifacts/checkpoint


def record_in_checkpoint(model_dir: Path, info: dict[str, str]) -> None:
    """Add run_id / model_version / registered_model to the checkpoint's termcorpus.json
    (``checkpoint_meta.update_meta``: a later update with the same info changes nothing)."""
    update_meta(model_dir, **{k: str(v) for k, v in sorted(info.items())})


def _serving_config(model_dir: Path) -> tuple[str, int]:
    """How the pyfunc prompts and decodes: what the train stage recorded in the checkpoint
    (``execute.prompt_style``, ``evaluate.max_new_tokens``), else those params' defaults."""
    from termcorpus.params import EvaluateParams, ExecuteParams

    meta = read_meta(model_dir)
    return (meta.get("prompt_style") or ExecuteParams().prompt_style,
            int(meta.get("max_new_tokens") or EvaluateParams().max_new_tokens))


def _log_pyfunc(mlflow, model_dir: Path) -> None:
    import tempfile

    from termcorpus.tracking.pyfunc import save_pyfunc

    style, max_new = _serving_config(model_dir)
    with tempfile.TemporaryDirectory(prefix="termcorpus-mlmodel-") as tmp:
        save_pyfunc(Path(tmp) / MODEL_ARTIFACT, model_dir, prompt_style=style, max_new_tokens=max_new)
        mlflow.log_artifacts(str(Path(tmp) / MODEL_ARTIFACT), artifact_path=MODEL_ARTIFACT)


def log_evaluation(*, model_dir: Path, metrics: dict[str, Any], tracking: TrackingParams) -> dict[str, str]:
    """Log evaluation metrics against the model version recorded in model_dir/termcorpus.json.

    The version gets the headline numbers as tags; alias 'champion' moves to it when its validation
    loss (the corpus's validation split, from termcorpus.json) is lower than the current champion's
    (or there is none): the reported held-out sets never pick the champion.
    """
    mlflow = _mlflow(tracking)
    from mlflow import MlflowClient

    client = MlflowClient()
    meta = read_meta(Path(model_dir))
    version = str(meta.get("model_version", ""))
    train_run = meta.get("run_id", "")
    name = meta.get("registered_model") or tracking.registered_model
    flat = {k: float(v) for k, v in _flat_counts(metrics).items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    tags = {"termcorpus.kind": "evaluate", "git_rev": git_rev(), "model_version": version, "train_run_id": train_run}
    with mlflow.start_run(run_name=f"evaluate-v{version or 'unregistered'}", tags=tags) as run:
        mlflow.log_metrics({_metric_key(k): v for k, v in flat.items()})
        mlflow.log_dict(metrics, "eval.json")
        eval_run = run.info.run_id
    if train_run:
        # Mirror the success numbers on the training run too (what the model registry UI links to):
        # ~2,000 of them (per set, domain, skill).
        _log_points(client, train_run, [(_metric_key("eval." + k), v, 0) for k, v in flat.items()
                                        if k.endswith("success_rate") or k.endswith("trace_match")])
    out = {"run_id": eval_run, "model_version": version, "champion": ""}
    if not version:
        return out
    headline = _headline(metrics)
    client.set_model_version_tag(name, version, "eval_run_id", eval_run)
    client.set_model_version_tag(name, version, "eval_success_rate", f"{headline:.4f}")
    # The champion is chosen on the validation split (lowest validation loss, recorded at training
    # time), never on the held-out sets whose success the README reports (issue 17, point 8).
    score = _selection_score(meta)
    if score is None:
        return out
    client.set_model_version_tag(name, version, "selection_val_loss", repr(score))
    try:
        champ = client.get_model_version_by_alias(name, "champion")
        champ_score = float(champ.tags.get("selection_val_loss", "inf"))
    except Exception:
        champ, champ_score = None, float("inf")
    if champ is None or score < champ_score or champ.version == version:
        client.set_registered_model_alias(name, "champion", version)
        out["champion"] = version
    return out


def _selection_score(meta: dict[str, Any]) -> float | None:
    """The champion criterion: the checkpoint's validation loss (lower is better), or None when the
    corpus had no validation split (then the alias is not moved)."""
    v = meta.get("val_loss")
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _headline(metrics: dict[str, Any]) -> float:
    """Fine-tuned success averaged over held-out variants and held-out families (a version tag; not the champion criterion)."""
    ft = metrics.get("finetuned", {})
    core = ("heldout_variants", "heldout_families")
    rates = [ft[k]["success_rate"] for k in core if isinstance(ft.get(k), dict) and "success_rate" in ft[k]]
    if not rates:  # other layouts: every set that reports a success rate
        rates = [v["success_rate"] for v in ft.values() if isinstance(v, dict) and "success_rate" in v]
    return sum(rates) / len(rates) if rates else 0.0


def lineage(model_ref: str, tracking: TrackingParams) -> dict[str, Any]:
    """Walk model version -> training run -> corpus version -> task set -> seeds/skills digests."""
    from termcorpus.errors import DataError

    # Checked before the store is opened: opening an embedded sqlite store creates its file.
    if "/" not in model_ref:
        raise DataError(f"model reference {model_ref!r} must be NAME/VERSION or NAME/@ALIAS")
    _mlflow(tracking)
    from mlflow import MlflowClient
    client = MlflowClient()
    name, ver = model_ref.split("/", 1)
    try:
        if ver.startswith("@"):
            mv = client.get_model_version_by_alias(name, ver[1:])
        else:
            mv = client.get_model_version(name, ver)
    except Exception as e:
        raise DataError(f"no model version {model_ref!r} in {tracking_uri(tracking)}: {str(e).splitlines()[0][:120]}")
    run = client.get_run(mv.run_id)
    inputs = run.inputs.dataset_inputs if run.inputs else []
    corpus = None
    for di in inputs:
        if di.dataset.name == CORPUS_DATASET_NAME:
            corpus = di.dataset
    corpus_digest = corpus.digest if corpus else mv.tags.get("corpus_digest", "")
    corpus_run = find_corpus_run(client, corpus_digest) if corpus_digest else None
    ctags = corpus_run.data.tags if corpus_run else {}
    return {
        "model": {"name": name, "version": mv.version, "source": mv.source,
                  "aliases": sorted(getattr(mv, "aliases", []) or []), "tags": dict(mv.tags)},
        "training_run": {"run_id": run.info.run_id, "git_rev": run.data.tags.get("git_rev", ""),
                         "final_loss": run.data.metrics.get("final_loss")},
        "corpus": {"digest": corpus_digest,
                   "source": json.loads(corpus.source) if corpus else {},
                   "profile": json.loads(corpus.profile) if corpus and corpus.profile else {},
                   "run_id": corpus_run.info.run_id if corpus_run else ""},
        "task_set": {"digest": ctags.get("lineage.task_set_digest", ""),
                     "trajectories_digest": ctags.get("lineage.trajectories_digest", "")},
        "seeds": {"digest": ctags.get("lineage.seeds_digest", ""),
                  "skills_digest": ctags.get("lineage.skills_digest", "")},
    }
