"""``termcorpus report --base REV``: the pull-request experiment diff as Markdown.

Built on ``dvc params diff``, ``dvc metrics diff`` and ``dvc plots diff`` (see report.dvc); this
module only arranges their output for a reader: a headline table (evaluation success of the base
and fine-tuned agents, training loss, corpus size, validation), the changed params, the metric
deltas grouped by pipeline stage (corpus counts per domain and skill, filter removals, validation,
training, evaluation), the plots, the MLflow lineage of both model versions and a few sample
trajectories per domain.
"""

from __future__ import annotations

import base64
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from termcorpus.params import TrackingParams
from termcorpus.report.dvc import Change, metrics_diff, metrics_targets, params_diff, plots_diff
from termcorpus.report.lineage import lineage_markdown, model_lineage
from termcorpus.report.markdown import code, fmt, fmt_delta, table
from termcorpus.report.plots import render_plot, slug
from termcorpus.report.samples import load_samples, trajectory_markdown

AGENTS = ("finetuned", "retrieval", "base")


@dataclass(frozen=True)
class Headline:
    """One row of the summary table: a metric picked by file name and dotted key."""

    label: str
    file: str
    key: str


# Files by their path's tail: the stage headlines (metrics/), the per-agent evaluation headlines
# (metrics/eval/<agent>.json) and the stages' detail (reports/<stage>_detail.json), which the
# report diffs alongside the declared metrics (see ``metrics_targets``).
FT, RET, BASE = "eval/finetuned.json", "eval/retrieval.json", "eval/base.json"
EVAL_DETAIL = "eval_detail.json"

SET_LABELS = {"variants": "held-out variants", "families": "held-out families",
              "compositions": "held-out compositions", "novel_pairs": "compositions with unseen skill pairs",
              "novel_names": "novel names"}
# (agent label, its metrics file, the sets whose success the summary shows)
_EVAL_HEADLINES = (
    ("fine-tuned", FT, ("variants", "families")),
    ("base", BASE, ("variants", "families")),
    ("fine-tuned", FT, ("compositions", "novel_pairs", "novel_names")),
    ("retrieval", RET, ("variants", "families", "compositions")),
)

HEADLINES: tuple[Headline, ...] = (
    *(Headline(f"{agent} success, {SET_LABELS[s]}", file, s) for agent, file, sets in _EVAL_HEADLINES for s in sets),
    Headline("fine-tuned valid JSON (lowest set)", FT, "valid_json"),
    Headline("fine-tuned exact trace match, held-out variants", EVAL_DETAIL, "finetuned.heldout_variants.trace_match"),
    Headline("final training loss", "train.json", "loss"),
    Headline("validation loss", "train.json", "val_loss"),
    Headline("episodes dropped (too long, no assistant turn)", "train.json", "dropped"),
    Headline("corpus records kept", "curation.json", "records"),
    Headline("corpus train records", "balance_detail.json", "splits.train.records"),
    Headline("corpus train families", "balance_detail.json", "splits.train.families"),
    Headline("tasks generated", "generate.json", "tasks"),
    Headline("skill-composed share of training tasks", "generate.json", "composed"),
    Headline("trajectories validated", "validation.json", "records"),
    Headline("failed expectations", "validate_detail.json", "counts.expectations_failed"),
)


@dataclass(frozen=True)
class Breakdown:
    """A metrics table: the keys of one file matching a pattern, labelled by ``label(match)``."""

    title: str
    file: str
    pattern: str  # a regex over the dotted key; group 1 (and 2) name the row
    changed_only: bool = False


BREAKDOWNS: tuple[Breakdown, ...] = (
    Breakdown("Generated tasks per domain", "generate_detail.json", r"tasks_by_domain\.(.+)"),
    Breakdown("Generated tasks per source", "generate_detail.json", r"tasks_by_source\.(.+)"),
    Breakdown("Generated tasks per skill (changed only)", "generate_detail.json", r"tasks_by_skill\.(.+)", True),
    Breakdown("Corpus train records per domain", "balance_detail.json", r"splits\.train\.by_domain\.(.+)"),
    Breakdown("Corpus validation records per domain", "balance_detail.json", r"splits\.validation\.by_domain\.(.+)"),
    Breakdown("Filter removals", "balance_detail.json", r"filters\.(.+)\.(dropped.*)"),
    Breakdown("Validation (Great Expectations)", "validate_detail.json", r"(counts\..+|success)"),
    Breakdown("Training", "train.json", r"(.+)"),
    Breakdown("Fine-tuned success per set", FT, r"(.+)"),
    Breakdown("Fine-tuned success per domain", EVAL_DETAIL, r"finetuned\.(.+)\.by_domain\.(.+)\.success_rate"),
    Breakdown("Base success per domain", EVAL_DETAIL, r"base\.(.+)\.by_domain\.(.+)\.success_rate"),
    Breakdown("Retrieval success per domain", EVAL_DETAIL, r"retrieval\.(.+)\.by_domain\.(.+)\.success_rate"),
)


@dataclass
class ReportInputs:
    """Everything the report shows, collected from DVC (and MLflow, and the trajectories)."""

    base: str
    head: str | None
    params: list[Change]
    metrics: list[Change]
    plots: list = field(default_factory=list)
    lineage: list = field(default_factory=list)
    samples: list = field(default_factory=list)

    @property
    def head_label(self) -> str:
        return self.head or "workspace"


def _file_match(path: str, name: str) -> bool:
    """Does ``path`` end with ``name`` at a path boundary ('eval/base.json', 'train.json')?"""
    p = Path(path).as_posix()
    return p == name or p.endswith("/" + name)


def _find(metrics: list[Change], file: str, key: str) -> Change | None:
    for c in metrics:
        if _file_match(c.file, file) and c.key == key:
            return c
    return None


def headline_rows(metrics: list[Change]) -> list[list[str]]:
    rows = []
    for h in HEADLINES:
        c = _find(metrics, h.file, h.key)
        if c is not None:
            rows.append([h.label, fmt(c.old), fmt(c.new), fmt_delta(c.delta)])
    return rows


def eval_rows(metrics: list[Change]) -> list[list[str]]:
    """Base vs fine-tuned success per evaluation set at both revisions, with the fine-tuning gain."""
    sets = sorted({c.key for c in metrics if (_file_match(c.file, FT) or _file_match(c.file, BASE))
                   and c.key != "valid_json"})
    rows = []
    for s in sets:
        ft = _find(metrics, FT, s)
        bs = _find(metrics, BASE, s)
        ft_old, ft_new = (ft.old, ft.new) if ft else (None, None)
        bs_old, bs_new = (bs.old, bs.new) if bs else (None, None)
        gain = ft_new - bs_new if ft_new is not None and bs_new is not None else None
        rows.append([s, fmt(bs_old), fmt(ft_old), fmt(bs_new), fmt(ft_new),
                     fmt_delta(ft.delta if ft else None), fmt_delta(gain)])
    return rows


def breakdown_table(b: Breakdown, metrics: list[Change], revs: tuple[str, str] = ("base", "head")) -> tuple[str, int]:
    """The Markdown table of one breakdown (empty when no key matches) and the unchanged rows left out."""
    rx = re.compile(b.pattern)
    rows, hidden = [], 0
    for c in metrics:
        if not _file_match(c.file, b.file):
            continue
        m = rx.fullmatch(c.key)
        if not m:
            continue
        if b.changed_only and not c.changed:
            hidden += 1
            continue
        label = " / ".join(g for g in m.groups() if g) if m.groups() else c.key
        rows.append([label, fmt(c.old), fmt(c.new), fmt_delta(c.delta)])
    if not rows:
        return "", hidden
    return table(["", code(revs[0]), code(revs[1]), "Δ"], rows), hidden


def _claimed(c: Change) -> bool:
    """Is this metric shown by a headline or a breakdown already?"""
    if any(_file_match(c.file, h.file) and c.key == h.key for h in HEADLINES):
        return True
    return any(_file_match(c.file, b.file) and re.fullmatch(b.pattern, c.key) for b in BREAKDOWNS)


def collect(
    *,
    repo: Path,
    base: str,
    head: str | None,
    images: bool = True,
    model_dir: str = "models/terminal-agent",
    tracking: TrackingParams | None = None,
    trajectories: Path | None = None,
    samples_per_domain: int = 1,
) -> ReportInputs:
    """Ask DVC (and MLflow) for everything the report shows."""
    repo = Path(repo)
    # Three independent DVC processes: run them side by side (each spends ~0.7 s starting up).
    with ThreadPoolExecutor(max_workers=3) as pool:
        jobs = [pool.submit(params_diff, repo, base, head),
                pool.submit(metrics_diff, repo, base, head, metrics_targets(repo)),
                pool.submit(plots_diff, repo, base, head)]
        params, metrics, plots = (j.result() for j in jobs)
    inputs = ReportInputs(base=base, head=head, params=params, metrics=metrics)
    revs = [base, inputs.head_label]
    inputs.plots = [render_plot(p, revs, images=images) for p in plots]
    if tracking is not None:
        inputs.lineage = [model_lineage(repo, model_dir, base, tracking), model_lineage(repo, model_dir, head, tracking)]
    if trajectories is not None:
        path = trajectories if trajectories.is_absolute() else repo / trajectories
        inputs.samples = load_samples(path, samples_per_domain)
    return inputs


def render_report(inputs: ReportInputs, *, plots_dir: Path | None = None,
                  link: Callable[[Path], str] | None = None) -> str:
    """The Markdown report. PNGs are embedded as data URIs, or written to ``plots_dir`` and linked."""
    base, head = inputs.base, inputs.head_label
    out: list[str] = [f"# termcorpus experiment report: {code(base)} → {code(head)}", ""]
    changed = [c for c in inputs.metrics if c.changed]
    out.append(f"{len(inputs.params)} params changed, {len(changed)} of {len(inputs.metrics)} metrics changed.")
    out.append("")

    rows = headline_rows(inputs.metrics)
    if rows:
        out += ["## Summary", "", table(["metric", code(base), code(head), "Δ"], rows), ""]

    ev = eval_rows(inputs.metrics)
    if ev:
        out += ["## Evaluation: base vs fine-tuned agent", "",
                table(["set", f"base @ {base}", f"fine-tuned @ {base}", f"base @ {head}", f"fine-tuned @ {head}",
                       "Δ fine-tuned", f"fine-tuning gain @ {head}"], ev), ""]

    out += ["## Params", ""]
    if inputs.params:
        out.append(table(["param", code(base), code(head)],
                         [[f"{Path(c.file).name}:{c.key}", fmt(c.old), fmt(c.new)] for c in inputs.params]))
    else:
        out.append("No param changed.")
    out.append("")

    out += ["## Metrics", ""]
    any_breakdown = False
    for b in BREAKDOWNS:
        md, hidden = breakdown_table(b, inputs.metrics, (base, head))
        if md or hidden:
            any_breakdown = True
            out += [f"### {b.title}", ""] + ([md, ""] if md else [])
            if hidden:
                out += [f"{hidden} unchanged rows left out.", ""]
    others = [c for c in changed if not _claimed(c)]
    if others:
        out += ["### Other changed metrics", "",
                table(["metric", code(base), code(head), "Δ"],
                      [[f"{Path(c.file).name}:{c.key}", fmt(c.old), fmt(c.new), fmt_delta(c.delta)] for c in others]),
                ""]
    if not any_breakdown and not others and not rows:
        out += ["No metrics found at either revision.", ""]

    if inputs.plots:
        out += ["## Plots", ""]
        for p in inputs.plots:
            out += [f"### {code(p.title)}", ""]
            if p.png is not None:
                if plots_dir is not None:
                    plots_dir.mkdir(parents=True, exist_ok=True)
                    target = plots_dir / f"{slug(p.title)}.png"
                    target.write_bytes(p.png)
                    out += [f"![{p.title}]({link(target) if link else target.as_posix()})", ""]
                else:
                    data = base64.b64encode(p.png).decode("ascii")
                    out += [f"![{p.title}](data:image/png;base64,{data})", ""]
            out += [p.table_md, ""]

    if inputs.lineage:
        out += ["## Model lineage (MLflow)", "", lineage_markdown(inputs.lineage), ""]

    if inputs.samples:
        out += [f"## Sample trajectories ({code(head)})", ""]
        out += [trajectory_markdown(t) for t in inputs.samples]

    return "\n".join(out).rstrip() + "\n"


def build_report(*, out: Path | None = None, plots_dir: Path | None = None, head: str | None = None,
                 **collect_args: Any) -> str:
    """Collect (``collect``'s keyword arguments) and render the report; write it to ``out`` when
    given. Returns the Markdown."""
    inputs = collect(head=head, **collect_args)
    link = None
    if out is not None and plots_dir is not None:
        out_parent = Path(out).resolve().parent

        def link(p: Path) -> str:
            return Path(os.path.relpath(p.resolve(), out_parent)).as_posix()

    text = render_report(inputs, plots_dir=plots_dir, link=link)
    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text, encoding="utf-8", newline="\n")
    return text
