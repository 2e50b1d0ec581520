"""Small Markdown helpers shared by the report sections: tables, numbers, deltas.

Numbers are formatted the same way everywhere (integers as integers, rates with four significant
digits), so the same inputs give the same bytes and a delta reads at a glance.
"""

from __future__ import annotations

import json
from typing import Any, Sequence


def fmt(v: Any) -> str:
    """A value as a table cell: '-' when absent, ints as ints, floats to 4 significant digits."""
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v == int(v) and abs(v) < 1e15:
            return str(int(v)) if abs(v) >= 1 else f"{v:g}"
        if abs(v) >= 100:  # counts and throughputs: no exponent notation
            return f"{v:.2f}".rstrip("0").rstrip(".")
        return f"{v:.4g}"
    if isinstance(v, (list, dict)):
        return json.dumps(v, sort_keys=True)
    return str(v)


def fmt_delta(d: float | None) -> str:
    """A signed delta ('+0.05', '-3'); blank when there is none or it is zero."""
    if d is None:
        return ""
    if abs(d) < 1e-12:
        return "±0"
    text = fmt(round(d, 10))
    return text if text.startswith("-") else "+" + text


def cell(text: Any) -> str:
    """Escape a value for a Markdown table cell (pipes and newlines would break the row)."""
    return fmt(text).replace("|", "\\|").replace("\n", " ")


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], align: str | None = None) -> str:
    """A GitHub-flavoured Markdown table; ``align`` is one char per column ('l' or 'r')."""
    align = align or ("l" + "r" * (len(headers) - 1))
    sep = ["---:" if a == "r" else ":---" for a in align]
    lines = ["| " + " | ".join(cell(h) for h in headers) + " |", "| " + " | ".join(sep) + " |"]
    for row in rows:
        lines.append("| " + " | ".join(cell(c) for c in row) + " |")
    return "\n".join(lines)


def code(text: str) -> str:
    """Inline code that survives backticks in ``text``."""
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}"
