"""Headline metrics: what `dvc metrics show` prints; everything else is detail.

Convention (issue 20): ``metrics/<stage>.json`` holds a handful of flat headline numbers under
short names that the stages share (``tasks``, ``records``, ``pass_rate``), and no wall-clock
values. `dvc metrics show` prints one table whose columns are the union of every file's keys
(sorted by name), so a shared vocabulary is what keeps it to a terminal's width: one row per
stage, and one per agent for evaluation (``metrics/eval/<agent>.json``, columns = evaluation
sets). ``dvc metrics diff`` of two identical runs prints nothing. The full dict (per-domain,
per-skill, per-expectation detail) goes to ``reports/<stage>_detail.json``, declared in dvc.yaml
as a non-metric out with ``cache: false``; the pull-request report diffs those too. Timings go to
stderr and MLflow only.

``HEADLINES`` maps, per stage, each headline name to the dotted key of the stage's full metrics
it copies.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

MAX_HEADLINE_KEYS = 8

# A key that measures the clock: never a metric (the same inputs must give the same bytes).
TIMING_KEY = re.compile(r"(_sec|_secs|_seconds|per_sec|_ms|elapsed|duration|wall_time)", re.IGNORECASE)

HEADLINES: dict[str, dict[str, str]] = {
    "seed": {"seeds": "n_seeds"},
    "generate": {"tasks": "n_tasks", "composed": "composed.fraction_of_training"},
    "execute": {"tasks": "n_tasks", "pass_rate": "pass_rate"},
    "validate": {"records": "counts.records", "success": "success"},
    "balance": {"records": "kept_records"},
    "train": {"loss": "final_loss", "val_loss": "val_loss", "dropped": "dropped"},
}


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted keys -> scalar values (numbers, bools, strings); lists are left out."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        elif isinstance(v, (bool, int, float, str)) or v is None:
            out[key] = v
    return out


def unflatten(flat: dict[str, Any]) -> dict[str, Any]:
    """Dotted keys back to nested dicts (the layout readers of the metrics files expect)."""
    out: dict[str, Any] = {}
    for key, v in flat.items():
        node = out
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = v
    return out


def headline(stage: str, metrics: dict[str, Any]) -> dict[str, Any]:
    """The stage's headline: ``HEADLINES[stage]``'s names with the values of their source keys
    (numbers and bools; a source key the metrics lack is left out)."""
    if stage not in HEADLINES:
        raise KeyError(f"no headline metrics defined for stage {stage!r}; expected one of {', '.join(HEADLINES)}")
    flat = flatten(metrics)
    return {name: flat[src] for name, src in sorted(HEADLINES[stage].items())
            if isinstance(flat.get(src), (bool, int, float))}


def without_timings(metrics: Any) -> Any:
    """``metrics`` with every timing key removed, at any depth."""
    if isinstance(metrics, dict):
        return {k: without_timings(v) for k, v in metrics.items() if not TIMING_KEY.search(str(k))}
    if isinstance(metrics, list):
        return [without_timings(v) for v in metrics]
    return metrics


def write_stage_metrics(stage: str, metrics: dict[str, Any], metrics_path: str | Path,
                        detail_path: str | Path | None = None) -> dict[str, Any]:
    """Write the headline to ``metrics_path`` and the full dict (no timings) to ``detail_path``."""
    from termcorpus.records import write_json

    head = headline(stage, metrics)
    write_json(metrics_path, unflatten(head))
    if detail_path is not None:
        write_json(detail_path, without_timings(metrics))
    return head
