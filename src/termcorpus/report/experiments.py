"""``termcorpus report --experiments``: the ablation results from ``dvc exp show`` as one table.

Each experiment is a row: its state, the params it changed relative to its baseline commit, and
the chosen metrics with their delta against the reference row (the experiment named
``baseline`` when the grid ran one, so that grid-wide overrides cancel out; else the commit).
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path
from typing import Sequence

from termcorpus.report.dvc import ExpRow, Value, exp_show
from termcorpus.report.markdown import code, fmt, fmt_delta, table

DEFAULT_METRICS: tuple[str, ...] = (
    # success per evaluation set (metrics/eval/<agent>.json: one key per set)
    "*eval/finetuned.json:*",
    "*eval/retrieval.json:*",
    "*eval/base.json:*",
    # graded signals while success is still 0 (a tiny model on CPU): the training loss and the
    # loss on the held-out validation families
    "train.json:loss",
    "train.json:val_loss",
    "curation.json:records",
)
REFERENCE_NAME = "baseline"


def _split(full: str) -> tuple[str, str]:
    file, _, key = full.partition(":")
    return file, key


def key_matches(pattern: str, full_key: str) -> bool:
    """Match 'FILE:dotted.key' against 'FILEGLOB:seg.glob.seg' one dotted segment at a time.

    A pattern without ':' matches the key in any file. '*' never crosses a dot, so
    'finetuned.*.success_rate' leaves out the per-domain 'finetuned.S.by_domain.D.success_rate'.
    A file glob's '*' does cross '/' ('*eval/base.json' matches 'metrics/eval/base.json').
    """
    file, key = _split(full_key)
    if ":" in pattern:
        fpat, kpat = pattern.split(":", 1)
        if not (fnmatchcase(file, fpat) or fnmatchcase(Path(file).name, fpat)):
            return False
    else:
        kpat = pattern
    ks, ps = key.split("."), kpat.split(".")
    return len(ks) == len(ps) and all(fnmatchcase(k, p) for k, p in zip(ks, ps))


def metric_columns(rows: Sequence[ExpRow], patterns: Sequence[str]) -> list[str]:
    """The 'file:key' metric names to show, in pattern order, then key order."""
    seen: list[str] = []
    keys = sorted({k for r in rows for k, v in r.metrics.items() if _is_number(v)})
    for pat in patterns:
        for k in keys:
            if key_matches(pat, k) and k not in seen:
                seen.append(k)
    return seen


def _is_number(v: Value) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _label(full_key: str, columns: Sequence[str]) -> str:
    """A column header: the dotted key, prefixed with the file's stem only when two files share
    the key ('finetuned.variants' and 'base.variants' from metrics/eval/<agent>.json)."""
    file, key = _split(full_key)
    clash = sum(1 for c in columns if _split(c)[1] == key) > 1
    return f"{Path(file).stem}.{key}" if clash else key


def param_overrides(row: ExpRow, baseline: ExpRow) -> list[str]:
    """The params an experiment changed relative to its baseline commit, as 'key=value'."""
    out = []
    for k in sorted(set(row.params) | set(baseline.params)):
        if row.params.get(k) != baseline.params.get(k):
            file, key = _split(k)
            name = key if Path(file).name == "params.yaml" else k
            out.append(f"{name}={fmt(row.params.get(k))}")
    return out


def experiments_table(rows: Sequence[ExpRow], patterns: Sequence[str] = DEFAULT_METRICS) -> str:
    """Markdown: one table per baseline commit with its experiments (sorted by name)."""
    if not rows:
        return "No experiments (run `termcorpus ablate --run`).\n"
    columns = metric_columns(rows, patterns)
    out: list[str] = []
    commits = [r for r in rows if r.is_baseline]
    for commit in commits:
        exps = sorted((r for r in rows if not r.is_baseline and r.baseline == commit.baseline), key=lambda r: r.name)
        ref = next((r for r in exps if r.name == REFERENCE_NAME and r.metrics), commit)
        body = []
        for r in [commit, *exps]:
            cells = []
            for col in columns:
                v = r.metrics.get(col)
                rv = ref.metrics.get(col)
                d = v - rv if _is_number(v) and _is_number(rv) and r is not ref else None
                cells.append(fmt(v) + (f" ({fmt_delta(d)})" if d is not None else ""))
            overrides = "commit" if r is commit else (", ".join(param_overrides(r, commit)) or "-")
            state = r.state + (f": {r.error}" if r.error else "")
            body.append([r.name + (" (ref)" if r is ref else ""), state, overrides, *cells])
        out += [f"### Experiments on {code(commit.name)} ({commit.rev[:7]})", "",
                table(["experiment", "state", "params changed", *(_label(c, columns) for c in columns)], body,
                      align="lll" + "r" * len(columns)),
                "", f"Deltas are against {code(ref.name)}.", ""]
    return "\n".join(out).rstrip() + "\n"


def experiments_report(*, repo: Path, patterns: Sequence[str] = DEFAULT_METRICS) -> str:
    """The ``## Ablation experiments`` section from ``dvc exp show`` in ``repo``."""
    return "## Ablation experiments (`dvc exp show`)\n\n" + experiments_table(exp_show(Path(repo)), patterns or DEFAULT_METRICS)
