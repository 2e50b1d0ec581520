"""Stage `balance`: filter, balance and split the validated trajectories into the corpus.

Refuses to run when the validation report says the gate failed. Writes the corpus (a Hugging
Face DatasetDict with Parquet copies, a dataset card and rejects.jsonl) and the curation metrics,
then logs the corpus version (digest = DVC md5 of the corpus dir) to MLflow. ``eval_tasks`` (the
held-out tasks) is what training data is decontaminated against, with the validation split;
without it only the validation split is.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from termcorpus.curate import build_corpus, corpus_counts
from termcorpus.errors import DataError
from termcorpus.params import BalanceParams, TrackingParams
from termcorpus.runtime import dvc_md5
from termcorpus.tracking import log_corpus_version
from termcorpus.tracking.metrics import write_stage_metrics


# The path options of stages/balance.py (runtime.run_stage): parameter of run -> help text.
PATHS: dict[str, str] = {
    "trajectories": "Validated trajectory JSONL.",
    "validation": "metrics/validation.json of the validate stage.",
    "eval_tasks": "Held-out task JSONL to decontaminate the training split against.",
    "out": "Corpus directory to write.",
    "metrics": "Curation metrics JSON to write.",
    "detail": "Write the full metrics (per-domain/skill detail) to this JSON; --metrics gets the headline.",
}


def check_validation(path: Path) -> None:
    """Raise a DataError unless the validate stage's report says the suite passed."""
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError("not found; run the validate stage first", where=str(path)) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DataError(f"not valid JSON ({e})", where=str(path)) from None
    if not isinstance(report, dict) or report.get("success") is not True:
        # The headline file counts the failures; their names are in the validate stage's detail
        # (reports/validate_detail.json) and its HTML report. An older full file lists them here.
        failed = report.get("failed_expectations") if isinstance(report, dict) else None
        n = (report.get("counts") or {}).get("expectations_failed") if isinstance(report, dict) else None
        names = f" (failed: {', '.join(map(str, failed))})" if failed else (f" ({n} expectation(s) failed)" if n else "")
        raise DataError(f"the validation gate did not pass{names}; fix the trajectories first", where=str(path))


def run(*, trajectories: Path, validation: Path, out: Path, metrics: Path, eval_tasks: Path | None = None,
        detail: Path | None = None, params: BalanceParams, tracking: TrackingParams) -> dict[str, Any]:
    """Check the gate, build the corpus, write the metrics, log the corpus version; return the metrics."""
    check_validation(validation)
    result = build_corpus(trajectories=trajectories, params=params, out_dir=out, eval_tasks=eval_tasks)
    write_stage_metrics("balance", result, metrics, detail)
    log_corpus_version(corpus_dir=out, digest=dvc_md5(out), counts=corpus_counts(result), tracking=tracking)
    s = result["splits"]
    print(
        f"balance: {result['kept_records']}/{result['input_records']} kept; "
        f"train {s['train']['records']} ({s['train']['families']} families), "
        f"validation {s['validation']['records']} ({s['validation']['families']} families)"
    )
    return result
