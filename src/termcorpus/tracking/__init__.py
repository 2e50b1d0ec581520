"""MLflow lineage: corpus versions, training runs, registered model versions, evaluations.

The chain a user can walk (``termcorpus lineage terminal-agent/N``): model version -> training
run -> corpus version (an MLflow dataset whose digest is the DVC md5 of ``data/corpus``) ->
corpus run (trajectory, task-set and seeds digests). ``store`` finds the store (the params'
``mlflow.tracking_uri``, embedded default ``sqlite:///mlflow.db``, unless ``MLFLOW_TRACKING_URI``
is set) and fails in seconds when it is unreachable; ``corpus`` logs corpus versions;
``registry`` logs training runs, registers checkpoints (aliases ``candidate`` / ``champion``),
mirrors evaluations and walks the lineage; ``pyfunc`` serves a checkpoint as an MLflow model;
``metrics`` writes the stages' metrics files. Those files stay the record of truth; MLflow
mirrors them.
"""

from __future__ import annotations

from termcorpus.tracking.corpus import CORPUS_DATASET_NAME, corpus_dataset, find_corpus_run, log_corpus_version
from termcorpus.tracking.registry import (
    META_FILE, MODEL_ARTIFACT, lineage, log_evaluation, log_training_run, record_in_checkpoint,
)
from termcorpus.tracking.store import _mlflow, artifact_root, git_tag, project_root, resolve_uri, tracking_uri

__all__ = [
    "CORPUS_DATASET_NAME", "META_FILE", "MODEL_ARTIFACT", "_mlflow", "artifact_root", "corpus_dataset",
    "find_corpus_run", "git_tag", "lineage", "log_corpus_version", "log_evaluation", "log_training_run",
    "project_root", "record_in_checkpoint", "resolve_uri", "tracking_uri",
]
