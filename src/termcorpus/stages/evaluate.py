"""Stage `evaluate`: the fine-tuned agent vs its base and a retrieval baseline on held-out tasks,
in the sandbox.

Reads params sections `evaluate`, `execute` (sandbox limits, prompt style) and `mlflow`; writes
one headline metrics JSON per agent (``metrics/eval/<agent>.json``), the detail JSON, one JSONL
line per episode (``reports/eval_episodes.jsonl``: which task each agent solved, with its commands), the
per-domain plot CSV and the base-vs-fine-tuned success PNG, then mirrors
the metrics to MLflow against the model version recorded in the checkpoint's termcorpus.json.
Task dirs in `evaluate.extra_tasks` are user paths: list them as deps of this stage in dvc.yaml
for DVC to rerun it when they change.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from termcorpus.params import EvaluateParams, ExecuteParams, TrackingParams


# The path options of stages/evaluate.py (runtime.run_stage): parameter of run -> help text.
PATHS: dict[str, str] = {
    "model": "Checkpoint directory (save_pretrained + termcorpus.json).",
    "corpus": "Corpus dataset directory (train/validation split by family).",
    "tasks": "Task directory holding tasks.jsonl and heldout.jsonl.",
    "gate": "Skip the held-out tasks this gate.jsonl (from execute) did not keep.",
    "metrics": "Directory of the headline metrics: one <agent>.json each (success per set, valid JSON).",
    "detail": "Write per set / domain / number of steps / skill detail and the set sizes here (JSON).",
    "episodes": "Write one line per evaluated episode here (JSONL: agent, task id, sets, outcome, the commands of each turn).",
    "plots": "Per-domain success CSV to write.",
    "success_plot": "Success-rate bar plot PNG to write.",
}


def run(*, model: Path, corpus: Path, tasks: Path, metrics: Path, plots: Path, success_plot: Path,
        gate: Path | None = None, detail: Path | None = None, episodes: Path | None = None,
        params: EvaluateParams, execute: ExecuteParams,
        tracking: TrackingParams) -> dict[str, Any]:
    """Evaluate, write the metrics, detail and plots, log to MLflow; return the headline metrics."""
    # Imported here so a bad params file fails before torch loads.
    from termcorpus.evaluate import AGENTS, evaluate_model, write_plot_csv, write_success_plot
    from termcorpus.evaluate.metrics import split_detail
    from termcorpus.records import write_json, write_jsonl
    from termcorpus.sandbox import SandboxConfig
    from termcorpus.tracking import log_evaluation

    result = evaluate_model(
        model_dir=model,
        corpus_dir=corpus,
        tasks_dir=tasks,
        params=params,
        sandbox=SandboxConfig.from_params(execute),
        prompt_style=execute.prompt_style,
        gate_path=gate,
    )
    # wall clock: console only (the metrics files must be the same bytes for the same inputs)
    elapsed = result.pop("elapsed_sec", None)
    agent_sec = result.pop("agent_sec", {})
    records = result.pop("episodes", [])
    headlines, detail_ = split_detail(result, AGENTS)
    for agent, headline in headlines.items():
        write_json(Path(metrics) / f"{agent}.json", headline)
    if detail is not None:
        write_json(detail, detail_)
    if episodes is not None:
        write_jsonl(episodes, records)
    write_plot_csv(plots, result)
    write_success_plot(success_plot, result)
    log_evaluation(model_dir=model, metrics=result, tracking=tracking)
    for agent in AGENTS:
        line = ", ".join(
            f"{s} {m['success_rate']:.1%}" + (f" ± {m['success_stderr']:.1%}" if m.get("trials", 1) > 1 else "")
            + f" of {m['n']}"
            for s, m in result.get(agent, {}).items() if "success_rate" in m
        )
        print(f"{agent}: {line}", file=sys.stderr)
    per_agent = ", ".join(f"{a} {t} s" for a, t in agent_sec.items())
    print(f"evaluate: {elapsed} s ({per_agent})", file=sys.stderr)
    return headlines
