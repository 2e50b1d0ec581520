"""Headline metrics for the data stages: what `dvc metrics show` prints, the rest as detail.

Convention (issue 20): ``metrics/<stage>.json`` holds a few dozen flat headline numbers and no
wall-clock values, so ``dvc metrics show`` fits a terminal and ``dvc metrics diff`` of two
identical runs prints nothing. The full dict (per-domain, per-skill, per-expectation detail)
goes to ``reports/<stage>_detail.json``, declared in dvc.yaml as a non-metric out with
``cache: false``. Timings go to stderr and MLflow only.

``HEADLINES`` names, per stage, the dotted keys kept (fnmatch patterns over the flattened dict).
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path
from typing import Any

MAX_HEADLINE_KEYS = 40

# A key that measures the clock: never a metric (the same inputs must give the same bytes).
TIMING_KEY = re.compile(r"(_sec|_secs|_seconds|per_sec|_ms|elapsed|duration|wall_time)", re.IGNORECASE)

HEADLINES: dict[str, tuple[str, ...]] = {
    "seed": ("n_*",),
    "generate": ("n_*", "distinct_variant_ratio", "tasks_by_source.*", "heldout_by_set.*", "drops.*", "composed.n_tasks",
                 "composed.fraction_of_training", "composed.obs_dependent_fraction", "composed.n_skills_used",
                 "composed.by_domain.*", "composed.by_n_steps.*"),
    "execute": ("n_*", "pass_rate", "mean_reward", "mean_turns", "sandbox_limits", "gate.enabled", "gate.train.n_*",
                "gate.heldout.n_*"),
    "validate": ("success", "counts.records", "counts.passed", "counts.not_passed", "counts.expectations",
                 "counts.expectations_failed"),
    "balance": ("input_records", "kept_records", "upsampled", "splits.*.records", "splits.*.families",
                "splits.*.assistant_turns", "filters.*.dropped", "decontamination.eval_tasks",
                "decontamination.validation_trajectories"),
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
    """The stage's headline numbers, flat (dotted keys; numbers and bools only, no timings)."""
    if stage not in HEADLINES:
        raise KeyError(f"no headline metrics defined for stage {stage!r}; expected one of {', '.join(HEADLINES)}")
    pats = HEADLINES[stage]
    flat = flatten(metrics)
    return {
        k: v for k, v in sorted(flat.items())
        if isinstance(v, (bool, int, float)) and not TIMING_KEY.search(k.rsplit(".", 1)[-1])
        and any(fnmatch.fnmatchcase(k, p) for p in pats)
    }


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
