"""DVC stage `train`: train the terminal agent on the curated corpus and register it.

    python stages/train.py --corpus data/corpus --out models/terminal-agent \
        --metrics metrics/train.json --plots plots/train_loss.csv

Also runs under `accelerate launch --config_file configs/accelerate/<setup>.yaml stages/train.py ...`;
only the main process writes the metrics, the plot and the MLflow run.
"""

from __future__ import annotations

import argparse
import csv
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
    ap.add_argument("--plots", type=Path, required=True, help="Write the loss curve CSV (step,loss) here.")
    args = ap.parse_args()

    params = load_section("train", "params.yaml")
    tracking = load_section("mlflow", "params.yaml")
    # Imported here so a bad params file fails before torch loads; tracking is imported before
    # training so a broken install fails in seconds, not after minutes of training.
    from termcorpus.tracking import log_training_run
    from termcorpus.records import write_json
    from termcorpus.train.loop import train, update_meta

    result = train(corpus_dir=args.corpus, out_dir=args.out, params=params)

    from accelerate import PartialState

    if not PartialState().is_main_process:
        return
    metrics = result.metrics()
    write_json(args.metrics, metrics)
    write_loss_csv(args.plots, result.loss_curve)
    info = log_training_run(
        model_dir=args.out,
        corpus_dir=args.corpus,
        corpus_digest=result.corpus_digest,
        params=params,
        metrics=metrics,
        loss_curve=result.loss_curve,
        tracking=tracking,
        register=params.register_model,
    )
    # The evaluate stage reads run_id / model_version / registered_model from here.
    update_meta(args.out, **{k: str(v) for k, v in sorted(info.items())})


if __name__ == "__main__":
    main()
