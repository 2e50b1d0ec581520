"""Run the Great Expectations suite over the trajectory frame and summarize the result.

GX runs in an ephemeral (in-memory) context with a pandas datasource and one batch definition
for the whole frame; nothing is written by GX itself. The summary (metrics/validation.json) and
the HTML report are ours: GX's own data docs carry timestamps and random ids in every page and
load their styles from CDNs, so they are neither byte-deterministic nor readable offline.

great_expectations is imported inside the functions: the import alone costs ~3.5 s, which the
other stages and the CLI should not pay.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from pathlib import Path
from typing import Any

from termcorpus.errors import DataError
from termcorpus.params import ValidateParams
from termcorpus.records import read_json, write_json
from termcorpus.validate.frame import read_taxonomy, trajectory_frame
from termcorpus.validate.report import render_report

MAX_EXAMPLES = 10
MAX_IDS = 20
EXAMPLE_CHARS = 160


def load_suite_json(path: Path) -> dict[str, Any]:
    path = Path(path)
    data = read_json(path, missing="expectation suite not found")
    if not isinstance(data, dict) or not isinstance(data.get("expectations"), list):
        raise DataError("not an expectation suite (expected an object with an 'expectations' list)", where=str(path))
    for i, e in enumerate(data["expectations"]):
        if not isinstance(e, dict) or not isinstance(e.get("type"), str):
            raise DataError(f"expectations[{i}] has no 'type'", where=str(path))
    return data


def expectation_name(exp: dict[str, Any], index: int) -> str:
    """meta.name, or a readable fallback for expectations a user added without one."""
    name = (exp.get("meta") or {}).get("name")
    if isinstance(name, str) and name:
        return name
    col = (exp.get("kwargs") or {}).get("column")
    return f"{index:02d}_{exp['type']}" + (f"_{col}" if col else "")


def suite_parameters(domains: list[str], params: ValidateParams) -> dict[str, Any]:
    return {
        "domains": list(domains),
        "max_turns": params.max_turns,
        "max_record_chars": params.max_record_chars,
        "min_pass_rate": params.min_pass_rate,
    }


def _plain(v: Any) -> Any:
    """JSON-safe, stable values: numpy scalars -> Python, floats rounded, long text cut."""
    if hasattr(v, "item") and not isinstance(v, (list, dict, str)):
        try:
            v = v.item()
        except (ValueError, TypeError):
            v = str(v)
    if isinstance(v, float):
        return None if math.isnan(v) else round(v, 6)
    if isinstance(v, str):
        return v if len(v) <= EXAMPLE_CHARS else v[:EXAMPLE_CHARS] + "..."
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if v is None or isinstance(v, (bool, int)):
        return v
    return str(v)


def _exception_message(info: Any) -> str | None:
    """The first raised exception's message (GX nests exception_info per metric in 1.x)."""
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "exception").splitlines()[0][:300]
    for v in info.values():
        msg = _exception_message(v)
        if msg:
            return msg
    return None


def _examples(exp: dict[str, Any], values: list[Any]) -> list[Any]:
    """Failing values; for regex-list rules, the matched text (a whole keystroke log is noise)."""
    regexes = (exp.get("kwargs") or {}).get("regex_list")
    out = []
    for v in values[:MAX_EXAMPLES]:
        if isinstance(regexes, list) and isinstance(v, str):
            hit = next((m for rx in regexes if (m := re.search(rx, v))), None)
            v = hit.group(0).strip() if hit else v
        out.append(_plain(v))
    return out


def summarize_result(exp: dict[str, Any], res: Any) -> dict[str, Any]:
    """One expectation's entry in metrics/validation.json."""
    r = dict(res.result or {})
    out: dict[str, Any] = {
        "type": exp["type"],
        "why": (exp.get("meta") or {}).get("why", ""),
        "success": bool(res.success),
        "kwargs": _plain({k: v for k, v in (exp.get("kwargs") or {}).items() if k != "regex_list"}),
    }
    if "observed_value" in r:
        out["observed_value"] = _plain(r["observed_value"])
    for key in ("element_count", "unexpected_count", "unexpected_percent", "missing_count"):
        if key in r:
            out[key] = _plain(r[key])
    if r.get("partial_unexpected_list"):
        out["unexpected_examples"] = _examples(exp, list(r["partial_unexpected_list"]))
    idx = r.get("partial_unexpected_index_list") or []
    refs = []
    for item in idx[:MAX_IDS]:
        if isinstance(item, dict):
            tid = item.get("trajectory_id")
            refs.append(str(tid) if isinstance(tid, str) and tid else f"line {item.get('line')}")
    if refs:
        out["unexpected_trajectories"] = refs
    exc = _exception_message(res.exception_info)
    if exc:
        out["exception"] = exc
        out["success"] = False
    return out


def _context() -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    cfg = DataContextConfig(
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
    )
    return gx.get_context(mode="ephemeral", project_config=cfg)


def _check_expectations(suite_data: dict[str, Any], path: Path) -> None:
    """Build each expectation alone first: GX's suite constructor logs a bad one and skips it."""
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    for i, exp in enumerate(suite_data["expectations"]):
        try:
            ExpectationConfiguration(
                type=exp["type"], kwargs=exp.get("kwargs") or {}, meta=exp.get("meta")
            ).to_domain_obj()
        except Exception as e:  # any GX error here is a problem in the user's suite file
            msg = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
            raise DataError(f"expectations[{i}] ({exp['type']}) is not valid: {msg}", where=str(path)) from None


def check_trajectories(*, trajectories: Path, taxonomy: Path, suite: Path, params: ValidateParams) -> dict[str, Any]:
    """Validate without writing or raising: returns the metrics dict (``success`` says the verdict)."""
    import great_expectations as gx
    from great_expectations.core.expectation_suite import ExpectationSuite

    tax = read_taxonomy(Path(taxonomy))
    suite_data = load_suite_json(Path(suite))
    df = trajectory_frame(Path(trajectories), tax)
    ctx = _context()
    _check_expectations(suite_data, Path(suite))
    try:
        gx_suite = ctx.suites.add(ExpectationSuite(**suite_data))
    except Exception as e:  # GX raises many types for a malformed suite; all are the user's file
        raise DataError(f"not a valid expectation suite ({str(e).splitlines()[0][:200]})", where=str(suite))
    batch = ctx.data_sources.add_pandas("trajectories").add_dataframe_asset("frame")
    batch_def = batch.add_batch_definition_whole_dataframe("all")
    vdef = ctx.validation_definitions.add(gx.ValidationDefinition(data=batch_def, suite=gx_suite, name="trajectories"))
    index_cols = [c for c in ("line", "trajectory_id") if c in df.columns]
    result = vdef.run(
        batch_parameters={"dataframe": df},
        expectation_parameters=suite_parameters(list(tax.domains), params),
        result_format={
            "result_format": "SUMMARY",
            "unexpected_index_column_names": index_cols,
            "partial_unexpected_count": MAX_IDS,
        },
    )
    # Map results back to the suite's own order and names (GX assigns random ids on add).
    by_id = {r.expectation_config.id: r for r in result.results}
    entries: dict[str, Any] = {}
    order: list[str] = []
    for i, (exp, cfg) in enumerate(zip(suite_data["expectations"], gx_suite.expectations)):
        name = expectation_name(exp, i)
        res = by_id.get(cfg.id)
        if res is None:  # pragma: no cover - GX returns one result per expectation
            entries[name] = {"type": exp["type"], "success": False, "exception": "no result returned"}
        else:
            entries[name] = summarize_result(exp, res)
        order.append(name)
    failed = [n for n in order if not entries[n]["success"]]
    passed_col = df["passed"] if "passed" in df.columns else []
    return {
        "success": not failed,
        "suite": suite_data.get("name", ""),
        "failed_expectations": failed,
        "expectation_order": order,
        "expectations": entries,
        "counts": {
            "records": int(len(df)),
            "passed": int(sum(1 for v in passed_col if v is True)),
            "not_passed": int(sum(1 for v in passed_col if v is False)),
            "by_domain": dict(sorted(Counter(
                d if isinstance(d, str) else "<missing>" for d in (df["domain"] if "domain" in df.columns else [])
            ).items())),
            "expectations": len(order),
            "expectations_failed": len(failed),
        },
        "parameters": suite_parameters(list(tax.domains), params),
        "taxonomy": {"domains": len(tax.domains), "skills": len(tax.skills)},
    }


def failure_message(metrics: dict[str, Any]) -> str:
    """One line naming each failed expectation and the first trajectories that broke it."""
    parts = []
    for name in metrics["failed_expectations"]:
        e = metrics["expectations"][name]
        who = e.get("unexpected_trajectories") or []
        detail = f" ({', '.join(who[:3])}{', ...' if len(who) > 3 else ''})" if who else ""
        if "observed_value" in e and not who:
            detail = f" (observed {e['observed_value']})"
        parts.append(name + detail)
    return f"validation failed ({len(parts)} of {len(metrics['expectation_order'])} expectations): {'; '.join(parts)}"


def validate_trajectories(
    *, trajectories: Path, taxonomy: Path, suite: Path, params: ValidateParams, docs_dir: Path, out: Path | None = None,
    detail: Path | None = None,
) -> dict[str, Any]:
    """Validate, write the HTML report (and ``out`` metrics); raise DataError when the suite fails.

    The report and metrics are written before raising, so a failing run leaves them to read.
    """
    metrics = check_trajectories(trajectories=trajectories, taxonomy=taxonomy, suite=suite, params=params)
    docs_dir = Path(docs_dir)
    docs_dir.mkdir(parents=True, exist_ok=True)
    (docs_dir / "index.html").write_text(render_report(metrics, source=str(trajectories)), encoding="utf-8", newline="\n")
    if out is not None:
        # ``out`` gets the headline (metrics/validation.json), ``detail`` every expectation's result.
        from termcorpus.tracking.metrics import write_stage_metrics

        write_stage_metrics("validate", metrics, out, detail)
    if not metrics["success"]:
        raise DataError(failure_message(metrics), where=str(trajectories))
    return metrics
