"""Stage `train`: train the terminal agent on the curated corpus and register it.

The metrics file holds the headline numbers only (the same for the same inputs); the rest goes
to ``detail``; wall-clock numbers (tokens/s, seconds) go to stderr and MLflow only. Step
checkpoints go to ``train.resume_dir``: not a DVC out on purpose, because DVC deletes a stage's
outs before rerunning it; a killed run resumes from the newest compatible checkpoint there.
dvclive logs the loss per log point and the final metrics into ``live``; it writes no dvc.yaml,
makes no experiment commit and no report. Under ``accelerate launch`` only the main process
writes the metrics, the plot and the MLflow run. Reads params sections `train` and `mlflow`, and
`execute.prompt_style` / `evaluate.max_new_tokens`: how the registered model is served.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any

from termcorpus.params import EvaluateParams, ExecuteParams, TrackingParams, TrainParams


# The path options of stages/train.py (runtime.run_stage): parameter of run -> help text.
PATHS: dict[str, str] = {
    "corpus": "Read the curated dataset from this directory.",
    "out": "Write the checkpoint into this directory.",
    "metrics": "Write the training metrics JSON here.",
    "detail": "Write the detail JSON (drops, loss curve, sizes) here.",
    "plots": "Write the loss curve CSV (step,loss) here.",
    "live": "Log loss and metrics with dvclive into this directory.",
}


def write_loss_csv(path: Path, curve: list[tuple[int, float]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["step", "loss"])
        for step, loss in curve:
            w.writerow([step, repr(loss)])


def run(*, corpus: Path, out: Path, metrics: Path, plots: Path, detail: Path | None = None,
        live: Path | None = None, params: TrainParams, tracking: TrackingParams, execute: ExecuteParams,
        evaluate: EvaluateParams) -> dict[str, Any] | None:
    """Train, write the checkpoint, metrics, detail and loss CSV, log and register the run;
    return the metrics (None on a non-main process)."""
    # Imported here so a bad params file fails before torch loads; tracking is imported before
    # training so a broken install fails in seconds, not after minutes of training.
    from termcorpus.tracking import log_training_run
    from termcorpus.records import write_json
    from termcorpus.tracking.metrics import write_stage_metrics
    from termcorpus.train.loop import train, update_meta

    from accelerate import PartialState

    main_process = PartialState().is_main_process
    logger = None
    if live is not None and main_process:
        from dvclive import Live

        # save_dvc_exp/dvcyaml off: dvclive must neither commit an experiment nor rewrite dvc.yaml;
        # the directory is declared there by hand. A fresh Live empties it, and train() replays
        # the loss points restored from a checkpoint, so a resumed run logs the whole curve.
        logger = Live(dir=str(live), save_dvc_exp=False, dvcyaml=None, report=None, monitor_system=False)

    def on_log(step: int, loss: float) -> None:
        logger.step = step
        logger.log_metric("loss", loss)
        logger.next_step()

    result = train(
        corpus_dir=corpus,
        out_dir=out,
        params=params,
        checkpoint_dir=Path(params.resume_dir) if params.resume_dir else None,
        on_log=on_log if logger is not None else None,
    )
    if not main_process:
        return None
    full = result.metrics()
    timings = result.timings()
    headline = write_stage_metrics("train", full, metrics)
    if detail is not None:
        write_json(detail, {**full, **result.detail()})
    print(
        f"train: {result.steps} steps, {result.train_tokens:,} tokens, {timings['tokens_per_sec']:,.0f} tok/s, "
        f"{timings['train_seconds']:.0f} s, real-token share {result.real_token_share:.1%}, "
        f"{result.dropped_too_long} episodes too long",
        file=sys.stderr,
    )
    if logger is not None:
        for k, v in sorted(full.items()):
            if v is not None:
                logger.log_metric(k, v, plot=False)
        logger.end()
    write_loss_csv(plots, result.loss_curve)
    # How the registered model is served (its pyfunc): the prompt style the corpus was rendered
    # with and evaluation's reply budget, recorded in the checkpoint before it is registered.
    update_meta(out, prompt_style=execute.prompt_style, max_new_tokens=evaluate.max_new_tokens)
    info = log_training_run(
        model_dir=out, corpus_dir=corpus, corpus_digest=result.corpus_digest, params=params,
        metrics={**full, **timings}, loss_curve=result.loss_curve, tracking=tracking,
        register=params.register_model,
    )
    # The evaluate stage reads run_id / model_version / registered_model from here.
    update_meta(out, **{k: str(v) for k, v in sorted(info.items())})
    return headline
