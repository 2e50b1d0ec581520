"""DVC stage `balance`: filter, balance and split the validated trajectories into the corpus.

Refuses to run when metrics/validation.json says the validation gate failed. Writes data/corpus
(a Hugging Face DatasetDict with Parquet copies, a dataset card and rejects.jsonl) and
metrics/curation.json, then logs the corpus version (digest = DVC md5 of data/corpus) to MLflow.
``--eval-tasks`` (the held-out tasks) is what training data is decontaminated against, with the
validation split; without it only the validation split is.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from termcorpus.curate import build_corpus, corpus_counts
from termcorpus.errors import DataError
from termcorpus.params import load_section
from termcorpus.runtime import dvc_md5, stage_main
from termcorpus.tracking import log_corpus_version
from termcorpus.tracking.metrics import write_stage_metrics


def check_validation(path: Path) -> None:
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


@stage_main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trajectories", type=Path, required=True, help="Validated trajectory JSONL.")
    ap.add_argument("--validation", type=Path, required=True, help="metrics/validation.json of the validate stage.")
    ap.add_argument("--eval-tasks", type=Path, default=None,
                    help="Held-out task JSONL to decontaminate the training split against.")
    ap.add_argument("--out", type=Path, required=True, help="Corpus directory to write.")
    ap.add_argument("--metrics", type=Path, required=True, help="Curation metrics JSON to write.")
    ap.add_argument("--detail", type=Path, default=None,
                    help="Write the full metrics (per-domain/skill detail) to this JSON; --metrics gets the headline.")
    args = ap.parse_args()
    params = load_section("balance", "params.yaml")
    tracking = load_section("mlflow", "params.yaml")
    check_validation(args.validation)
    metrics = build_corpus(trajectories=args.trajectories, params=params, out_dir=args.out,
                           eval_tasks=args.eval_tasks)
    write_stage_metrics("balance", metrics, args.metrics, args.detail)
    log_corpus_version(corpus_dir=args.out, digest=dvc_md5(args.out), counts=corpus_counts(metrics), tracking=tracking)
    s = metrics["splits"]
    print(
        f"balance: {metrics['kept_records']}/{metrics['input_records']} kept; "
        f"train {s['train']['records']} ({s['train']['families']} families), "
        f"validation {s['validation']['records']} ({s['validation']['families']} families)"
    )


if __name__ == "__main__":
    main()
