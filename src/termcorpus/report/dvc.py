"""Thin, typed wrappers around the DVC commands the report is built on.

Nothing here re-implements DVC: each function runs one ``dvc ... --json`` command (params diff,
metrics diff, plots diff, exp show, exp run) and turns its JSON into small records. A failing DVC
command becomes one ``TermcorpusError`` line carrying DVC's own ``ERROR:`` message.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from termcorpus.errors import DataError, EnvironmentProblem

# A scalar as DVC reports it in params/metrics (lists and mappings appear for list-valued params).
Value = Any


def dvc_executable() -> str:
    """The dvc beside this interpreter (the project's venv), else the one on PATH."""
    local = Path(sys.executable).parent / "dvc"
    if local.exists():
        return str(local)
    found = shutil.which("dvc")
    if not found:
        raise EnvironmentProblem("the 'dvc' command is not installed (make setup installs it)")
    return found


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DVC_NO_ANALYTICS", "1")
    # The venv's bin first, so stage commands that DVC starts find the same python and dvc.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def _error_line(stderr: str, stdout: str) -> str:
    lines = [ln.strip() for ln in (stderr + "\n" + stdout).splitlines() if ln.strip()]
    for ln in lines:
        if ln.startswith("ERROR:"):
            return ln[len("ERROR:"):].strip()
    return lines[-1] if lines else "no output"


def run_dvc(args: Sequence[str], *, repo: Path, timeout_sec: float = 600.0) -> str:
    """Run ``dvc ARGS`` in ``repo`` and return its stdout; DVC's error becomes one DataError line."""
    cmd = [dvc_executable(), *args]
    try:
        proc = subprocess.run(cmd, cwd=repo, capture_output=True, text=True, env=_env(), timeout=timeout_sec)
    except subprocess.TimeoutExpired:
        raise EnvironmentProblem(f"`dvc {' '.join(args)}` did not finish in {timeout_sec:g} s", where=str(repo))
    if proc.returncode != 0:
        raise DataError(f"`dvc {' '.join(args)}` failed: {_error_line(proc.stderr, proc.stdout)}", where=str(repo))
    return proc.stdout


def dvc_json(args: Sequence[str], *, repo: Path) -> Any:
    out = run_dvc([*args, "--json"], repo=repo)
    try:
        return json.loads(out) if out.strip() else {}
    except json.JSONDecodeError as e:
        raise DataError(f"`dvc {' '.join(args)} --json` printed no JSON ({e.msg})", where=str(repo))


@dataclass(frozen=True)
class Change:
    """One param or metric at the base and head revisions (``None``: absent there)."""

    file: str
    key: str
    old: Value
    new: Value

    @property
    def changed(self) -> bool:
        return self.old != self.new

    @property
    def delta(self) -> float | None:
        """new - old for numbers (bools excluded: a flip is shown as the two values)."""
        if _is_number(self.old) and _is_number(self.new):
            return self.new - self.old
        return None


def _is_number(v: Value) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _revs(base: str, head: str | None) -> list[str]:
    return [base] if head is None else [base, head]


def _changes(data: Any) -> list[Change]:
    out = []
    for file, entries in sorted((data or {}).items()):
        for key, e in sorted(entries.items()):
            out.append(Change(file=file, key=key, old=e.get("old"), new=e.get("new")))
    return out


def params_diff(repo: Path, base: str, head: str | None = None) -> list[Change]:
    """``dvc params diff BASE [HEAD]``: the changed params (head None: the workspace)."""
    return _changes(dvc_json(["params", "diff", *_revs(base, head)], repo=repo))


def metrics_diff(repo: Path, base: str, head: str | None = None,
                 targets: Sequence[str] | None = None) -> list[Change]:
    """``dvc metrics diff --all BASE [HEAD]``: every numeric metric, changed or not; with
    ``targets``, those files instead of the declared metrics (any JSON DVC can read)."""
    extra = ["--targets", *targets] if targets else []
    return _changes(dvc_json(["metrics", "diff", "--all", *_revs(base, head), *extra], repo=repo))


def metrics_targets(repo: Path) -> list[str]:
    """What the report diffs: every metrics file dvc.yaml declares, plus the stages' detail JSON
    (``reports/*_detail.json``, declared as plain outs: per domain, skill and set)."""
    import yaml

    repo = Path(repo)
    try:
        stages = (yaml.safe_load((repo / "dvc.yaml").read_text(encoding="utf-8")) or {}).get("stages", {})
    except (OSError, yaml.YAMLError):
        stages = {}
    declared = []
    for st in stages.values():
        for entry in (st or {}).get("metrics") or []:
            declared += [entry] if isinstance(entry, str) else list(entry)
    details = sorted(p.relative_to(repo).as_posix() for p in (repo / "reports").glob("*_detail.json"))
    return sorted(set(declared)) + details


@dataclass
class PlotData:
    """One declared plot at several revisions: its x / y fields and the rows DVC read."""

    path: str
    revisions: list[str]
    x: str
    y: str
    template: str
    rows: list[dict[str, str]] = field(default_factory=list)

    def rows_of(self, rev: str) -> list[dict[str, str]]:
        return [r for r in self.rows if r.get("rev") == rev]


def _encoding_field(node: Any, axis: str) -> str:
    """The first concrete ``encoding.<axis>.field`` in a Vega-Lite spec (templates nest layers)."""
    if isinstance(node, dict):
        enc = node.get("encoding")
        if isinstance(enc, dict):
            f = enc.get(axis, {}).get("field") if isinstance(enc.get(axis), dict) else None
            if isinstance(f, str) and f != "rev" and not f.startswith("<DVC_"):
                return f
        for v in node.values():
            found = _encoding_field(v, axis)
            if found:
                return found
    elif isinstance(node, list):
        for v in node:
            found = _encoding_field(v, axis)
            if found:
                return found
    return ""


def plots_diff(repo: Path, base: str, head: str | None = None) -> list[PlotData]:
    """``dvc plots diff --split BASE [HEAD]``: the data of every declared plot at both revisions."""
    # -o: DVC copies image plots (PNG outs) of each revision there; a temp dir keeps them out
    # of the user's tree (the default is ./dvc_plots).
    with tempfile.TemporaryDirectory(prefix="termcorpus-plots-") as tmp:
        data = dvc_json(["plots", "diff", "--split", "-o", tmp, *_revs(base, head)], repo=repo)
    plots: list[PlotData] = []
    for path, items in sorted((data.get("data") or {}).items()):
        for item in items:
            if item.get("type") != "vega":
                continue
            content = item.get("content", {})
            anchors = item.get("anchor_definitions", {})
            rows = anchors.get("<DVC_METRIC_DATA>") or []
            mark = content.get("mark")
            mark_type = mark.get("type") if isinstance(mark, dict) else (mark or "line")
            plots.append(PlotData(
                path=path,
                revisions=list(item.get("revisions", [])),
                x=_encoding_field(content, "x") or str(anchors.get("<DVC_METRIC_X_LABEL>", "")),
                y=_encoding_field(content, "y") or str(anchors.get("<DVC_METRIC_Y_LABEL>", "")),
                template=str(mark_type),
                rows=[{k: str(v) for k, v in r.items()} for r in rows if isinstance(r, dict)],
            ))
    return plots


@dataclass
class ExpRow:
    """One row of ``dvc exp show``: a baseline commit or an experiment on top of it."""

    name: str
    rev: str
    baseline: str
    is_baseline: bool
    state: str
    params: dict[str, Value]
    metrics: dict[str, Value]
    error: str = ""


def flatten(d: Any, prefix: str = "") -> dict[str, Value]:
    """{'a': {'b': 1}} -> {'a.b': 1}; lists stay values."""
    out: dict[str, Value] = {}
    if isinstance(d, dict):
        for k, v in d.items():
            key = f"{prefix}{k}"
            if isinstance(v, dict):
                out.update(flatten(v, key + "."))
            else:
                out[key] = v
    return out


def _by_file(section: Any) -> dict[str, Value]:
    """exp show's {file: {data: {...}}} -> {'file:dotted.key': value}, files in sorted order."""
    out: dict[str, Value] = {}
    for file, body in sorted((section or {}).items()):
        for k, v in flatten((body or {}).get("data", {})).items():
            out[f"{file}:{k}"] = v
    return out


def _error_text(err: Any) -> str:
    if isinstance(err, dict):
        return str(err.get("msg") or err.get("type") or "")
    return str(err or "")


def exp_show(repo: Path) -> list[ExpRow]:
    """``dvc exp show``: baseline commits and their experiments (queued, running, done, failed)."""
    data = dvc_json(["exp", "show"], repo=repo)
    rows: list[ExpRow] = []
    for entry in data or []:
        if entry.get("rev") == "workspace":
            continue
        base_name = entry.get("name") or str(entry.get("rev", ""))[:7]
        d = entry.get("data") or {}
        rows.append(ExpRow(
            name=base_name, rev=str(entry.get("rev", "")), baseline=base_name, is_baseline=True,
            state="baseline", params=_by_file(d.get("params")), metrics=_by_file(d.get("metrics")),
            error=_error_text(entry.get("error")),
        ))
        for exp in entry.get("experiments") or []:
            revs = exp.get("revs") or []
            if not revs:
                continue
            r = revs[0]  # an experiment's newest checkpoint is its first rev
            rd = r.get("data") or {}
            executor = exp.get("executor") or {}
            state = executor.get("state") or ("failed" if r.get("error") else "success")
            rows.append(ExpRow(
                name=exp.get("name") or r.get("name") or str(r.get("rev", ""))[:7],
                rev=str(r.get("rev", "")), baseline=base_name, is_baseline=False, state=str(state),
                params=_by_file(rd.get("params")), metrics=_by_file(rd.get("metrics")),
                error=_error_text(r.get("error")),
            ))
    return rows
