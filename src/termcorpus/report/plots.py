"""The report's plots: DVC's plot data (``dvc plots diff --split``) as PNGs and Markdown tables.

DVC reads the declared plot files at both revisions; here they are drawn with matplotlib's Agg
canvas (no pyplot global state, no timestamp metadata, so the PNG bytes are reproducible) and
summarised as a table, which is all a pull-request comment can show (GitHub drops data: URIs).
A numeric x and y (the loss curve) is a line per revision; a categorical axis (success rate per
domain) is a grouped horizontal bar chart.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

from termcorpus.report.dvc import PlotData
from termcorpus.report.markdown import fmt, fmt_delta, table

COLORS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52")


def _num(v: str | None) -> float | None:
    try:
        x = float(v) if v is not None else None
    except ValueError:
        return None
    return x if x is not None and math.isfinite(x) else None


def is_categorical(plot: PlotData) -> bool:
    """True when the y values are labels (bars per domain), not numbers (a curve)."""
    ys = [r.get(plot.y) for r in plot.rows if plot.y in r]
    return bool(ys) and any(_num(y) is None for y in ys)


def _category(plot: PlotData, row: dict[str, str]) -> str:
    """A bar's label: the y value plus any other label columns (agent, set) so bars never merge."""
    extra = [f"{row[k]}" for k in sorted(row) if k not in (plot.x, plot.y, "rev") and _num(row[k]) is None]
    return " / ".join([row.get(plot.y, "")] + extra)


@dataclass
class RenderedPlot:
    title: str
    table_md: str
    png: bytes | None


def _series(plot: PlotData, revs: list[str]) -> dict[str, list[tuple[float, float]]]:
    out: dict[str, list[tuple[float, float]]] = {}
    for rev in revs:
        pts = [(_num(r.get(plot.x)), _num(r.get(plot.y))) for r in plot.rows_of(rev)]
        out[rev] = sorted((x, y) for x, y in pts if x is not None and y is not None)
    return out


def _bars(plot: PlotData, revs: list[str]) -> tuple[list[str], dict[str, dict[str, float]]]:
    values: dict[str, dict[str, float]] = {rev: {} for rev in revs}
    cats: set[str] = set()
    for rev in revs:
        for r in plot.rows_of(rev):
            v = _num(r.get(plot.x))
            if v is not None:
                c = _category(plot, r)
                values[rev][c] = v
                cats.add(c)
    return sorted(cats), values


def plot_table(plot: PlotData, revs: list[str]) -> str:
    """The plot as a table: per-revision curve summary, or per-category values with the delta."""
    if is_categorical(plot):
        cats, values = _bars(plot, revs)
        rows = []
        for c in cats:
            vals = [values[rev].get(c) for rev in revs]
            d = vals[-1] - vals[0] if len(vals) > 1 and None not in (vals[0], vals[-1]) else None
            rows.append([c, *vals, fmt_delta(d) if len(revs) > 1 else ""])
        return table([f"{plot.y} ({plot.x})", *revs, "Δ"], rows)
    series = _series(plot, revs)
    rows = []
    for rev in revs:
        pts = series[rev]
        ys = [y for _, y in pts]
        rows.append([rev, len(pts), ys[0] if ys else None, ys[-1] if ys else None, min(ys) if ys else None])
    return table(["revision", "points", f"first {plot.y}", f"last {plot.y}", f"min {plot.y}"], rows)


def plot_png(plot: PlotData, revs: list[str]) -> bytes | None:
    """The plot as PNG bytes (None without matplotlib or without data)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - matplotlib ships with mlflow
        return None
    fig = Figure(figsize=(6.4, 3.4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    if is_categorical(plot):
        cats, values = _bars(plot, revs)
        if not cats:
            return None
        fig.set_size_inches(6.4, max(2.4, 0.32 * len(cats) * max(1, len(revs)) + 1.0))
        height = 0.8 / max(1, len(revs))
        for i, rev in enumerate(revs):
            ys = [j + i * height for j in range(len(cats))]
            ax.barh(ys, [values[rev].get(c, 0.0) for c in cats], height=height, label=rev,
                    color=COLORS[i % len(COLORS)])
        ax.set_yticks([j + height * (len(revs) - 1) / 2 for j in range(len(cats))], cats, fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel(plot.x)
    else:
        series = _series(plot, revs)
        if not any(series.values()):
            return None
        for i, rev in enumerate(revs):
            if series[rev]:
                xs, ys = zip(*series[rev])
                ax.plot(xs, ys, label=rev, color=COLORS[i % len(COLORS)], linewidth=1.4)
        ax.set_xlabel(plot.x)
        ax.set_ylabel(plot.y)
        ax.grid(alpha=0.3)
    ax.set_title(plot.path, fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    buf = io.BytesIO()
    # No 'Software'/date metadata: the same data gives the same PNG bytes.
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def render_plot(plot: PlotData, revs: list[str], *, images: bool) -> RenderedPlot:
    return RenderedPlot(title=plot.path, table_md=plot_table(plot, revs),
                        png=plot_png(plot, revs) if images else None)


def slug(path: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in path).strip("_")


__all__ = ["RenderedPlot", "fmt", "is_categorical", "plot_png", "plot_table", "render_plot", "slug"]
