"""The evaluation bar plot: success rate of the base, retrieval and fine-tuned agents on each set.

A PNG for ``dvc plots`` (an image plot) and the README, and the CSV behind the per-domain plot.
Sets with no task are left out; each bar is labelled with its rate and error bars show the
standard error over trials when there are several. The same metrics give the same bytes: the Agg backend, a fixed size and DPI, the fonts
matplotlib ships, and no ``Software`` / date metadata in the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from termcorpus.evaluate.agents import AGENTS
from termcorpus.evaluate.metrics import PLOT_COLUMNS, domain_rows
from termcorpus.evaluate.sets import EVAL_SETS

# Bar order and colours: the base first (the reference), the retrieval baseline, the fine-tuned agent.
SERIES: tuple[tuple[str, str, str], ...] = (
    ("base", "base", "#9e9e9e"), ("retrieval", "retrieval", "#ff7f0e"), ("finetuned", "fine-tuned", "#1f77b4")
)


def plot_sets(metrics: dict[str, Any], sets: Sequence[str]) -> list[str]:
    """The sets that hold at least one task for some agent, in ``sets`` order."""
    return [s for s in sets if any((metrics.get(a) or {}).get(s, {}).get("n", 0) for a, _, _ in SERIES)]


def write_success_plot(path: Path, metrics: dict[str, Any], sets: Sequence[str] | None = None) -> list[str]:
    """Write the PNG to ``path``; returns the sets drawn (none: an empty plot saying so)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    from termcorpus.evaluate.sets import EVAL_SETS

    drawn = plot_sets(metrics, EVAL_SETS if sets is None else sets)
    fig = Figure(figsize=(max(4.0, 1.6 * len(drawn) + 2.0), 3.6), dpi=100)
    ax = fig.add_subplot()
    width = 0.8 / len(SERIES)
    trials = 1
    for j, (agent, label, colour) in enumerate(SERIES):
        cells = [(metrics.get(agent) or {}).get(s, {}) for s in drawn]
        rates = [float(c.get("success_rate", 0.0)) for c in cells]
        errs = [float(c.get("success_stderr") or 0.0) for c in cells]
        trials = max([trials, *(int(c.get("trials", 1)) for c in cells)])
        xs = [i + (j - (len(SERIES) - 1) / 2) * width for i in range(len(drawn))]
        bars = ax.bar(xs, rates, width, label=label, color=colour,
                      yerr=errs if any(errs) else None, capsize=3 if any(errs) else 0)
        ax.bar_label(bars, labels=[f"{r:.0%}" for r in rates], fontsize=8, padding=2)
    ns = [max(int((metrics.get(a) or {}).get(s, {}).get("n", 0)) for a, _, _ in SERIES) for s in drawn]
    ax.set_xticks(range(len(drawn)), [f"{s}\n(n={n})" for s, n in zip(drawn, ns)], fontsize=8)
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("success rate")
    title = "Held-out success: base, retrieval, fine-tuned"
    if trials > 1:
        title += f" (mean ± s.e., {trials} trials)"
    ax.set_title(title, fontsize=10)
    if drawn:
        ax.legend(fontsize=8, loc="upper left")
    else:
        ax.text(0.5, 0.5, "no evaluated task", ha="center", va="center", transform=ax.transAxes)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    # Metadata off: matplotlib writes its version under "Software", which would change the bytes.
    fig.savefig(tmp, format="png", metadata={"Software": None})
    tmp.replace(path)
    return drawn


def write_plot_csv(path: Path, metrics: dict[str, Any]) -> int:
    """Write ``plots/eval_by_domain.csv`` (domain,agent,set,success_rate); returns the row count."""
    rows = domain_rows(metrics, AGENTS, EVAL_SETS)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(",".join(PLOT_COLUMNS) + "\n")
        for domain, agent, set_name, rate in rows:
            fh.write(f"{domain},{agent},{set_name},{rate}\n")
    tmp.replace(path)
    return len(rows)
