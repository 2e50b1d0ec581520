"""Corpus versions in MLflow: the corpus as an MLflow dataset (digest = the DVC md5 of
``data/corpus``), the corpus run that logs it with its lineage, and the search that finds it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from termcorpus.params import TrackingParams
from termcorpus.runtime import git_rev
from termcorpus.tracking.metrics import flatten
from termcorpus.tracking.store import _mlflow, git_tag, project_root

CORPUS_DATASET_NAME = "terminal-corpus"


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
