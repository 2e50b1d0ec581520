"""DVC stage `evaluate`: the fine-tuned agent vs its base and a retrieval baseline on held-out tasks, in the sandbox.

Reads params sections `evaluate`, `execute` (sandbox limits, prompt style) and `mlflow`; writes
the metrics JSON, the per-domain plot CSV and the base-vs-fine-tuned success PNG named on the
command line, then mirrors the metrics to MLflow against the model version recorded in the
checkpoint's termcorpus.json. Task dirs in `evaluate.extra_tasks` are user paths: list them as
deps of this stage in dvc.yaml for DVC to rerun it when they change.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from termcorpus.runtime import stage_main


@stage_main
def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, required=True, help="Checkpoint directory (save_pretrained + termcorpus.json).")
    ap.add_argument("--corpus", type=Path, required=True, help="Corpus dataset directory (train/validation split by family).")
    ap.add_argument("--tasks", type=Path, required=True, help="Task directory holding tasks.jsonl and heldout.jsonl.")
    ap.add_argument("--gate", type=Path, default=None,
                    help="Skip the held-out tasks this gate.jsonl (from execute) did not keep.")
    ap.add_argument("--metrics", type=Path, required=True, help="Metrics JSON to write (success and trace match per set).")
    ap.add_argument("--detail", type=Path, default=None,
                    help="Write per set / domain / number of steps / skill detail and the set sizes here (JSON).")
    ap.add_argument("--plots", type=Path, required=True, help="Per-domain success CSV to write.")
    ap.add_argument("--success-plot", type=Path, required=True, help="Success-rate bar plot PNG to write.")
    ap.add_argument("--params", type=Path, default=Path("params.yaml"), help="Params file.")
    args = ap.parse_args(argv)

    from termcorpus.evaluate import AGENTS, evaluate_model, write_plot_csv, write_success_plot
    from termcorpus.evaluate.metrics import split_detail
    from termcorpus.params import load_section
    from termcorpus.records import write_json
    from termcorpus.sandbox import SandboxConfig
    from termcorpus.tracking import log_evaluation

    params = load_section("evaluate", args.params)
    execute = load_section("execute", args.params)
    tracking = load_section("mlflow", args.params)

    metrics = evaluate_model(
        model_dir=args.model,
        corpus_dir=args.corpus,
        tasks_dir=args.tasks,
        params=params,
        sandbox=SandboxConfig.from_params(execute),
        prompt_style=execute.prompt_style,
        gate_path=args.gate,
    )
    elapsed = metrics.pop("elapsed_sec", None)  # wall clock: console and MLflow only
    headline, detail = split_detail(metrics, AGENTS)
    write_json(args.metrics, headline)
    if args.detail is not None:
        write_json(args.detail, detail)
    write_plot_csv(args.plots, metrics)
    write_success_plot(args.success_plot, metrics)
    log_evaluation(model_dir=args.model, metrics=metrics, tracking=tracking)
    for agent in AGENTS:
        line = ", ".join(
            f"{s} {m['success_rate']:.1%}" + (f" ± {m['success_stderr']:.1%}" if m.get("trials", 1) > 1 else "")
            + f" of {m['n']}"
            for s, m in metrics.get(agent, {}).items() if "success_rate" in m
        )
        print(f"{agent}: {line}", file=sys.stderr)
    print(f"evaluate: {elapsed} s", file=sys.stderr)


if __name__ == "__main__":
    main()
