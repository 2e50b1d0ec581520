"""MLflow lineage: corpus versions, training runs, registered model versions, evaluations.

The chain a user can walk (``termcorpus lineage terminal-agent/N``):
model version -> training run -> corpus version (an MLflow dataset whose digest is the DVC md5
of ``data/corpus``) -> corpus run (trajectory, task-set and seeds digests) .

Any tracking URI works: the params' ``mlflow.tracking_uri`` (embedded default
``sqlite:///mlflow.db``) unless ``MLFLOW_TRACKING_URI`` is set. Metrics files written by the
stages stay the record of truth; MLflow mirrors them.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from termcorpus.errors import EnvironmentProblem
from termcorpus.params import TrackingParams
from termcorpus.runtime import git_rev
from termcorpus.tracking.metrics import flatten

CORPUS_DATASET_NAME = "terminal-corpus"
META_FILE = "termcorpus.json"


def project_root(cwd: str | Path | None = None) -> Path:
    """The repository root, also from inside DVC's temporary experiment workspaces.

    ``dvc exp run --temp`` and queued experiments run each stage in a copy of the repository under
    ``<root>/.dvc/tmp/exps/``; DVC passes the original root to the stage as ``DVC_ROOT`` (set by
    dvc/repo/experiments/queue/base.py; plain ``dvc repro`` sets it to the repository itself).
    Outside DVC: the nearest parent holding ``.dvc`` (else ``.git``), below any ``.dvc/tmp/exps``.
    """
    env = os.environ.get("DVC_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(cwd or Path.cwd()).resolve()
    marker = f"{os.sep}.dvc{os.sep}tmp{os.sep}exps{os.sep}"
    text = str(here) + os.sep
    if marker in text:
        return Path(text.split(marker, 1)[0])
    for p in (here, *here.parents):
        if (p / ".dvc").is_dir() or (p / ".git").exists():
            return p
    return here


def resolve_uri(uri: str, root: Path | None = None) -> str:
    """A relative local store (``sqlite:///mlflow.db``, ``mlruns``, ``file:mlruns``) made absolute under ``root``."""
    root = Path(root) if root is not None else project_root()
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        rel = uri[len("sqlite:///"):]
        if rel and rel != ":memory:":
            return "sqlite:///" + str(root / rel)
        return uri
    if "://" not in uri and not uri.startswith("file:") and ":" not in uri.split("/", 1)[0]:
        return str(root / uri) if not Path(uri).is_absolute() else uri
    if uri.startswith("file:") and not uri.startswith("file:/"):
        return (root / uri[len("file:"):]).as_uri()
    return uri


def tracking_uri(tracking: TrackingParams) -> str:
    """The store every stage logs to: relative paths resolve against the repository root."""
    return resolve_uri(os.environ.get("MLFLOW_TRACKING_URI") or tracking.tracking_uri)


def artifact_root() -> str:
    """Where a new experiment keeps its artifacts: ``<root>/mlartifacts`` (never a temp workspace)."""
    return (project_root() / "mlartifacts").as_uri()


def _probe_server(uri: str) -> None:
    """Fail in seconds when nothing listens at an http(s) tracking URI.

    MLflow retries a dead server with exponential backoff (minutes) before it gives up; a
    refused or timed-out TCP connect is answered at once.
    """
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        socket.create_connection((parts.hostname, port), timeout=10).close()
    except (OSError, ValueError) as e:
        raise EnvironmentProblem(f"MLflow tracking store {uri!r} is unreachable: {getattr(e, 'strerror', None) or e}")


def _mlflow(tracking: TrackingParams):
    """Import mlflow, point it at the store and experiment; one clear line if unreachable."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    _probe_server(tracking_uri(tracking))
    import logging

    import mlflow

    logging.getLogger("mlflow").setLevel(logging.WARNING)
    uri = tracking_uri(tracking)
    mlflow.set_tracking_uri(uri)
    try:
        # Created with an absolute artifact location: MLflow's default (./mlruns of the current
        # directory) would put a queued experiment's artifacts into DVC's temp workspace.
        if uri.startswith("sqlite:") and mlflow.get_experiment_by_name(tracking.experiment) is None:
            try:
                mlflow.create_experiment(tracking.experiment, artifact_location=f"{artifact_root()}/{tracking.experiment}")
            except Exception:  # created meanwhile by a parallel stage: set_experiment finds it
                pass
        mlflow.set_experiment(tracking.experiment)
    except Exception as e:  # MlflowException, connection errors: all mean "store unusable"
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise EnvironmentProblem(f"MLflow tracking store {uri!r} is unreachable: {msg[:200]}")
    return mlflow


def git_tag(cwd: str | Path = ".") -> str:
    """The tag pointing at HEAD (e.g. 'corpus-v1'), or ''."""
    import subprocess

    try:
        out = subprocess.run(
            ["git", "tag", "--points-at", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10
        ).stdout.split()
        return ",".join(sorted(out))
    except (OSError, subprocess.SubprocessError):
        return ""


def _corpus_frame(corpus_dir: Path):
    """The corpus as one pandas frame (metadata columns; the chats stay in the dataset)."""
    import datasets
    import pandas as pd

    dd = datasets.load_from_disk(str(corpus_dir))
    frames = []
    for split in dd:
        df = dd[split].remove_columns([c for c in ("messages",) if c in dd[split].column_names]).to_pandas()
        df["split"] = split
        frames.append(df)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def corpus_dataset(corpus_dir: Path, digest: str, counts: dict[str, Any] | None = None):
    """An MLflow dataset for a corpus version: digest = DVC md5, source = repo + git rev, counts in its profile."""
    from mlflow.data.code_dataset_source import CodeDatasetSource
    from mlflow.data.pandas_dataset import PandasDataset

    df = _corpus_frame(corpus_dir)
    for col in df.columns:  # lists are not MLflow schema types: store them as JSON text
        if df[col].map(lambda v: isinstance(v, (list, dict)) or hasattr(v, "tolist")).any():
            df[col] = df[col].map(lambda v: json.dumps(v.tolist() if hasattr(v, "tolist") else v))
    repo = project_root()  # the repository, also from a DVC temp workspace
    source = CodeDatasetSource(
        {
            "repo": str(repo),
            "path": str(Path(corpus_dir)),
            "git_rev": git_rev(repo),
            "git_tag": git_tag(repo),
            "dvc_md5": digest,
        }
    )
    profile = {"num_rows": int(len(df))}
    if counts:
        profile.update(counts)

    class CorpusDataset(PandasDataset):
        @property
        def profile(self) -> Any:
            return profile

    import warnings

    with warnings.catch_warnings():
        # MLflow hints that integer columns cannot hold missing values: ours never miss.
        warnings.simplefilter("ignore", UserWarning)
        ds = CorpusDataset(df=df, source=source, name=CORPUS_DATASET_NAME, digest=digest)
        _ = ds.schema
    return ds


def _lineage_from_trajectories(corpus_dir: Path) -> dict[str, str]:
    meta = Path(corpus_dir) / "lineage.json"
    if meta.exists():
        return {k: str(v) for k, v in json.loads(meta.read_text()).items()}
    return {}


def log_corpus_version(
    *, corpus_dir: Path, digest: str, counts: dict[str, Any], tracking: TrackingParams,
    taxonomy: Path | None = Path("data/taxonomy.json"),
) -> str:
    """Log one corpus version as an MLflow run with the corpus as dataset input; returns run id.

    ``taxonomy`` (the seed stage's normalized skill taxonomy) adds the skills digest to the lineage.
    """
    mlflow = _mlflow(tracking)
    ds = corpus_dataset(Path(corpus_dir), digest, _flat_counts(counts))
    lineage = _lineage_from_trajectories(Path(corpus_dir))
    if taxonomy is not None and Path(taxonomy).exists():
        from termcorpus.runtime import dvc_md5

        lineage["skills_digest"] = dvc_md5(taxonomy)
    tags = {
        "termcorpus.kind": "corpus",
        "corpus.digest": digest,
        "git_rev": git_rev(),
        "git_tag": git_tag(),
        **{f"lineage.{k}": v for k, v in lineage.items()},
    }
    with mlflow.start_run(run_name=f"corpus-{digest[:8]}", tags=tags) as run:
        mlflow.log_input(ds, context="corpus")
        numeric = {k: float(v) for k, v in _flat_counts(counts).items() if isinstance(v, (int, float))}
        if numeric:
            mlflow.log_metrics({_metric_key(k): v for k, v in numeric.items()})
        return run.info.run_id


def _metric_key(k: str) -> str:
    return "".join(c if c.isalnum() or c in "_-./ " else "_" for c in k)


def _flat_counts(d: dict[str, Any]) -> dict[str, Any]:
    """Dotted keys -> numbers, strings and bools (``metrics.flatten`` without its None values)."""
    return {k: v for k, v in flatten(d).items() if v is not None}


def find_corpus_run(client, digest: str) -> Any | None:
    runs = client.search_runs(
        experiment_ids=[e.experiment_id for e in client.search_experiments()],
        filter_string=f"tags.`corpus.digest` = '{digest}' and tags.`termcorpus.kind` = 'corpus'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    return runs[0] if runs else None


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
        for step, loss in loss_curve:
            mlflow.log_metric("train_loss", float(loss), step=int(step))
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
    """Add run_id / model_version / registered_model to the checkpoint's termcorpus.json.

    Same bytes as ``train.loop.update_meta`` with the same keys (sorted JSON), so a later
    update_meta with this info changes nothing.
    """
    from termcorpus.records import write_json

    path = Path(model_dir) / META_FILE
    meta = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    meta.update({k: str(v) for k, v in sorted(info.items())})
    write_json(path, meta)


def _serving_config() -> tuple[str, int]:
    """prompt_style (execute) and max_new_tokens (evaluate) from params.yaml; defaults without one."""
    from termcorpus.params import load_section

    try:
        return load_section("execute", "params.yaml").prompt_style, load_section("evaluate", "params.yaml").max_new_tokens
    except Exception:  # no params.yaml here (library use): the documented defaults
        return "compact", 320


def _log_pyfunc(mlflow, model_dir: Path) -> None:
    import tempfile

    from termcorpus.tracking.pyfunc import save_pyfunc

    style, max_new = _serving_config()
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
    meta_path = Path(model_dir) / META_FILE
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
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
        # Mirror the headline numbers on the training run too (what the model registry UI links to).
        for k, v in flat.items():
            if k.endswith("success_rate") or k.endswith("trace_match"):
                client.log_metric(train_run, _metric_key("eval." + k), v)
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
