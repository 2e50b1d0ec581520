"""A self-contained HTML report of one validation run (reports/validation/index.html).

Plain HTML with inline CSS: it opens offline, carries no timestamps or random ids (same input,
same bytes), and shows for each expectation what it checks, why, its verdict, the observed value
and the trajectories that broke it.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem;color:#222;max-width:72rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}.ok{color:#0a7d28;font-weight:600}.bad{color:#b3261e;font-weight:600}
.banner{padding:.6rem 1rem;border-radius:4px;margin:1rem 0;font-weight:600}
.banner.ok{background:#e6f4ea}.banner.bad{background:#fce8e6}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85rem;word-break:break-all}
.muted{color:#666}
"""


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, (dict, list)):
        return f"<code>{escape(json.dumps(v, sort_keys=True, ensure_ascii=False))}</code>"
    return escape(str(v))


def render_report(metrics: dict[str, Any], *, source: str) -> str:
    ok = metrics["success"]
    c = metrics["counts"]
    verdict = "PASSED" if ok else f"FAILED: {len(metrics['failed_expectations'])} expectation(s)"
    rows = []
    for name in metrics["expectation_order"]:
        e = metrics["expectations"][name]
        status = '<span class="ok">pass</span>' if e["success"] else '<span class="bad">fail</span>'
        observed = []
        if "observed_value" in e:
            observed.append(f"observed: {_fmt(e['observed_value'])}")
        if "unexpected_count" in e:
            observed.append(f"unexpected: {_fmt(e['unexpected_count'])} of {_fmt(e.get('element_count'))}"
                            f" ({_fmt(e.get('unexpected_percent'))}%)")
        if e.get("unexpected_examples"):
            observed.append(f"examples: {_fmt(e['unexpected_examples'])}")
        if e.get("unexpected_trajectories"):
            observed.append(f"trajectories: {_fmt(e['unexpected_trajectories'])}")
        if e.get("exception"):
            observed.append(f'<span class="bad">error:</span> {_fmt(e["exception"])}')
        rows.append(
            f"<tr><td>{status}</td><td><b>{escape(name)}</b><br><span class=\"muted\">{escape(e.get('why', ''))}</span></td>"
            f"<td><code>{escape(e['type'])}</code><br>{_fmt(e.get('kwargs'))}</td><td>{'<br>'.join(observed)}</td></tr>"
        )
    rows_html = "\n".join(rows)
    domains = "".join(f"<tr><td>{escape(d)}</td><td>{n}</td></tr>" for d, n in c["by_domain"].items())
    params = "".join(
        f"<tr><td>{escape(k)}</td><td>{_fmt(v)}</td></tr>" for k, v in sorted(metrics["parameters"].items())
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Trajectory validation: {escape(verdict)}</title>
<style>{_CSS}</style></head><body>
<h1>Trajectory validation</h1>
<p>Source: <code>{escape(source)}</code> &middot; suite <code>{escape(metrics.get('suite', ''))}</code>
(Great Expectations, {c['expectations']} expectations)</p>
<div class="banner {'ok' if ok else 'bad'}">{escape(verdict)}</div>
<p>{c['records']} trajectories: {c['passed']} passed their verifier, {c['not_passed']} did not.</p>
<h2>Expectations</h2>
<table><tr><th>result</th><th>expectation</th><th>check</th><th>observed</th></tr>
{rows_html}
</table>
<h2>Trajectories per domain</h2>
<table><tr><th>domain</th><th>trajectories</th></tr>{domains}</table>
<h2>Run-time parameters</h2>
<table><tr><th>name</th><th>value</th></tr>{params}</table>
</body></html>
"""
