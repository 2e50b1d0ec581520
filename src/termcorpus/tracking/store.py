"""Where runs are logged: the repository root (also from a DVC temp workspace), the tracking URI
resolved against it, and an ``mlflow`` module pointed at the store and experiment, failing in
seconds with one clear line when the store is unreachable."""

from __future__ import annotations

import os
from pathlib import Path

from termcorpus.errors import EnvironmentProblem
from termcorpus.params import TrackingParams


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
