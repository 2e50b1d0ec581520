"""The MLflow lineage of the model at each compared revision.

The train stage writes ``termcorpus.json`` into the checkpoint directory with the registered
model name and version. At a git revision that file lives in the DVC cache (read with
``dvc.api.read``); in the workspace it is read directly. With a version in hand,
``termcorpus.tracking.lineage`` walks model -> training run -> corpus -> task set -> seeds.
Anything missing (no checkpoint at that revision, no MLflow store) becomes a note, never an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from termcorpus.checkpoint_meta import META_FILE, parse_meta, read_meta
from termcorpus.errors import TermcorpusError
from termcorpus.params import TrackingParams
from termcorpus.report.markdown import code, table



@dataclass
class ModelLineage:
    """What is known about the model at one revision."""

    rev: str
    ref: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    note: str = ""


def read_model_meta(repo: Path, model_dir: str, rev: str | None) -> dict[str, Any] | None:
    """The checkpoint's termcorpus.json at ``rev`` (None: the workspace), or None when absent.

    A file that is there but malformed raises ``DataError`` naming it (not "absent")."""
    if rev is None:
        try:
            return read_meta(Path(repo) / model_dir) or None
        except OSError:  # unreadable: "unknown", as at a revision
            return None
    rel = f"{model_dir.rstrip('/')}/{META_FILE}"
    try:
        import dvc.api

        text = dvc.api.read(rel, repo=str(repo), rev=rev)
    except Exception:  # not in the cache, not at that rev, unreadable: all mean "unknown"
        return None
    return parse_meta(text, f"{rel}@{rev}")


def model_lineage(repo: Path, model_dir: str, rev: str | None, tracking: TrackingParams) -> ModelLineage:
    label = rev or "workspace"
    try:
        meta = read_model_meta(repo, model_dir, rev)
    except TermcorpusError as e:
        return ModelLineage(rev=label, note=str(e))
    if not meta:
        return ModelLineage(rev=label, note=f"no {model_dir}/{META_FILE} at this revision")
    version = str(meta.get("model_version") or "")
    name = str(meta.get("registered_model") or tracking.registered_model)
    if not version:
        return ModelLineage(rev=label, note="the checkpoint was not registered in MLflow")
    ref = f"{name}/{version}"
    try:
        from termcorpus.tracking import lineage

        return ModelLineage(rev=label, ref=ref, info=lineage(ref, tracking))
    except TermcorpusError as e:
        return ModelLineage(rev=label, ref=ref, note=str(e))


def _row_values(m: ModelLineage) -> list[str]:
    if not m.info:
        return [m.ref or "-", m.note, "", "", "", ""]
    i = m.info
    src = i["corpus"].get("source", {}).get("tags", {}) if isinstance(i["corpus"].get("source"), dict) else {}
    corpus_src = " ".join(x for x in (src.get("git_rev", ""), src.get("git_tag", "")) if x)
    return [
        m.ref + (f" ({', '.join(i['model']['aliases'])})" if i["model"].get("aliases") else ""),
        i["training_run"]["run_id"],
        (i["corpus"]["digest"] or "-") + (f" @ {corpus_src}" if corpus_src else ""),
        i["task_set"]["digest"] or "-",
        i["seeds"]["digest"] or "-",
        str(i["training_run"].get("final_loss") if i["training_run"].get("final_loss") is not None else "-"),
    ]


def lineage_markdown(items: list[ModelLineage]) -> str:
    """A table: one column per revision, one row per link of the lineage chain."""
    if not any(m.info for m in items):
        return "\n".join(f"- {code(m.rev)}: {m.ref + ': ' if m.ref else ''}{m.note}" for m in items)
    labels = ["model version", "training run", "corpus (DVC md5 @ git rev/tag)", "task set digest",
              "seeds digest", "final loss"]
    cols = [_row_values(m) for m in items]
    rows = [[label, *(c[k] for c in cols)] for k, label in enumerate(labels)]
    out = table(["", *(code(m.rev) for m in items)], rows, align="l" * (len(items) + 1))
    notes = [f"- {code(m.rev)}: {m.note}" for m in items if m.note and m.info]
    return out + ("\n\n" + "\n".join(notes) if notes else "")
