"""DVC stage `train`: train the terminal agent on the curated corpus and register it.

    python stages/train.py --corpus data/corpus --out models/terminal-agent \
        --metrics metrics/train.json --detail reports/train_detail.json \
        --plots plots/train_loss.csv --live dvclive/train

metrics/train.json holds the headline numbers only (the same for the same inputs); the rest goes to
``--detail``; wall-clock numbers (tokens/s, seconds) go to stderr and MLflow only.

Step checkpoints go to ``train.resume_dir`` (default models/.resume/terminal-agent): not a DVC
out on purpose, because DVC deletes a stage's outs before rerunning it. A run killed mid-way (or
a ``dvc repro`` after a crash) resumes from the newest compatible checkpoint there.
dvclive logs the loss per log point and the final metrics into ``--live`` (declared as metrics
and plots in dvc.yaml); it writes no dvc.yaml, makes no experiment commit and no report.

Also runs under `accelerate launch --config_file configs/accelerate/<setup>.yaml stages/train.py ...`;
only the main process writes the metrics, the plot and the MLflow run.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from termcorpus.params import load_section
from termcorpus.runtime import stage_main


def write_loss_csv(path: Path, curve: list[tuple[int, float]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["step", "loss"])
        for step, loss in curve:
            w.writerow([step, repr(loss)])


@stage_main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, required=True, help="Read the curated dataset from this directory.")
    ap.add_argument("--out", type=Path, required=True, help="Write the checkpoint into this directory.")
    ap.add_argument("--metrics", type=Path, required=True, help="Write the training metrics JSON here.")
    ap.add_argument("--detail", type=Path, default=None, help="Write the detail JSON (drops, loss curve, sizes) here.")
    ap.add_argument("--plots", type=Path, required=True, help="Write the loss curve CSV (step,loss) here.")
    ap.add_argument("--live", type=Path, default=None, help="Log loss and metrics with dvclive into this directory.")
    args = ap.parse_args()

    params = load_section("train", "params.yaml")
    tracking = load_section("mlflow", "params.yaml")
    # Imported here so a bad params file fails before torch loads; tracking is imported before
    # training so a broken install fails in seconds, not after minutes of training.
    from termcorpus.tracking import log_training_run
    from termcorpus.records import write_json
    from termcorpus.train.loop import train, update_meta

    from accelerate import PartialState

    main_process = PartialState().is_main_process
    live = None
    if args.live is not None and main_process:
        from dvclive import Live

        # save_dvc_exp/dvcyaml off: dvclive must neither commit an experiment nor rewrite dvc.yaml;
        # the directory is declared there by hand. A fresh Live empties it, and train() replays
        # the loss points restored from a checkpoint, so a resumed run logs the whole curve.
        live = Live(dir=str(args.live), save_dvc_exp=False, dvcyaml=None, report=None, monitor_system=False)

    def on_log(step: int, loss: float) -> None:
        live.step = step
        live.log_metric("loss", loss)
        live.next_step()

    result = train(
        corpus_dir=args.corpus,
        out_dir=args.out,
        params=params,
        checkpoint_dir=Path(params.resume_dir) if params.resume_dir else None,
        on_log=on_log if live is not None else None,
    )

    if not main_process:
        return
    metrics = result.metrics()
    timings = result.timings()
    write_json(args.metrics, metrics)
    if args.detail is not None:
        write_json(args.detail, result.detail())
    print(
        f"train: {result.steps} steps, {result.train_tokens:,} tokens, {timings['tokens_per_sec']:,.0f} tok/s, "
        f"{timings['train_seconds']:.0f} s, real-token share {result.real_token_share:.1%}, "
        f"{result.dropped_too_long} episodes too long",
        file=sys.stderr,
    )
    if live is not None:
        for k, v in sorted(metrics.items()):
            if v is not None:
                live.log_metric(k, v, plot=False)
        live.end()
    write_loss_csv(args.plots, result.loss_curve)
    info = log_training_run(
        model_dir=args.out,
        corpus_dir=args.corpus,
        corpus_digest=result.corpus_digest,
        params=params,
        metrics={**metrics, **timings},
        loss_curve=result.loss_curve,
        tracking=tracking,
        register=params.register_model,
    )
    # The evaluate stage reads run_id / model_version / registered_model from here.
    update_meta(args.out, **{k: str(v) for k, v in sorted(info.items())})


if __name__ == "__main__":
    main()
