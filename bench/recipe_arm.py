"""One training-recipe arm: train with ``train.*`` overrides, then score the fine-tuned agent alone.

    python bench/recipe_arm.py NAME [key=value ...] [--tasks 30] [--corpus data/corpus] [--data data/tasks]
                               [--subsets seed_based,skill_based,dataset_adapters]

Trains on the DVC-tracked corpus with params.yaml's ``train`` section plus the overrides (values
are parsed as YAML: ``lr=3e-3``, ``packing=false``) into ``bench/arms/NAME/model``, then runs the
fine-tuned agent greedily in the configured sandbox on ``--tasks`` tasks of every generated
evaluation set (the evaluate stage's sampler, seed and gate), and writes
``bench/arms/NAME/result.json`` (final / validation loss, steps, train seconds, success, trace
match and valid JSON per set). The retrieval and base agents are not run: they do not depend on
the recipe (``metrics/eval/<agent>.json`` has them). The tables in docs/EXPERIMENTS.md come from this
script. ``--subsets a,b`` is ``subsets=[a,b]`` (``train.subsets``: the train split restricted to
those subsets, the paper's seed-only / skill-only / mixed arms; the validation split stays whole),
at the same steps and batch: the same token budget, more passes over fewer episodes. The same
arms run as DVC experiments with ``dvc exp run -S 'train.subsets=[seed_based]'``.

What an arm does not show: one seed, ``--tasks`` per set (0 of 30 bounds the rate below ~10% at
95% confidence), and the wall time of a machine that may be busy; it is not a ``dvc exp`` run.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent


def _override(spec: str) -> tuple[str, object]:
    key, sep, value = spec.partition("=")
    if not sep or not key:
        raise SystemExit(f"recipe_arm: override {spec!r}: expected key=value (a key of the train section)")
    return key.strip(), yaml.safe_load(value)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("name", help="Arm name (directory under bench/arms/).")
    ap.add_argument("overrides", nargs="*", help="train.* overrides as key=value.")
    ap.add_argument("--tasks", type=int, default=30, help="Tasks per evaluation set.")
    ap.add_argument("--corpus", type=Path, default=REPO / "data/corpus")
    ap.add_argument("--data", type=Path, default=REPO / "data/tasks", help="Directory with heldout.jsonl.")
    ap.add_argument("--gate", type=Path, default=REPO / "data/trajectories/gate.jsonl")
    ap.add_argument("--params", type=Path, default=REPO / "params.yaml")
    ap.add_argument("--subsets", default="", help="Comma-separated corpus subsets to train on (default: all).")
    args = ap.parse_args(argv)

    from termcorpus.evaluate import build_agents
    from termcorpus.evaluate.metrics import summarize
    from termcorpus.evaluate.runner import run_lockstep
    from termcorpus.evaluate.sets import select_eval_sets
    from termcorpus.execute.episode import Episode
    from termcorpus.params import load_section
    from termcorpus.records import Lineage
    from termcorpus.sandbox import SandboxConfig
    from termcorpus.train.loop import train

    raw = yaml.safe_load(args.params.read_text(encoding="utf-8"))
    changes = dict(_override(s) for s in args.overrides)
    if args.subsets:
        changes["subsets"] = args.subsets.split(",")  # sugar for subsets=[...] (train.subsets)
    unknown = sorted(set(changes) - set(raw["train"]))
    if unknown:
        raise SystemExit(f"recipe_arm: {args.params}: train has no key {unknown[0]!r}")
    raw["train"].update(changes, resume_dir="")
    out = REPO / "bench/arms" / args.name
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as fh:
        yaml.safe_dump(raw, fh)
    tparams = load_section("train", fh.name)
    eparams = load_section("evaluate", fh.name)
    execute = load_section("execute", fh.name)

    start = time.perf_counter()
    result = train(corpus_dir=args.corpus, out_dir=out / "model", params=tparams)
    train_sec = time.perf_counter() - start
    finetuned, _base = build_agents(out / "model", eparams)
    sets, _info = select_eval_sets(tasks_dir=args.data, corpus_dir=args.corpus, max_tasks=args.tasks,
                                   seed=eparams.seed, gate_path=args.gate)
    sandbox = SandboxConfig.from_params(execute)
    report: dict[str, object] = {"arm": args.name, "overrides": changes, "subsets": args.subsets or "all",
                                 **result.metrics(),
                                 "train_sec": round(train_sec, 1), "sets": {}}
    for name, tasks in sets.items():
        if not tasks:
            continue

        def open_episode(task):
            return Episode(task, sandbox, max_turns=eparams.max_turns, prompt_style=execute.prompt_style,
                           agent_name="finetuned", model_name=args.name, lineage=Lineage(task_digest=task.digest()))

        res = run_lockstep(finetuned, tasks, open_episode=open_episode, batch_size=eparams.batch_size,
                           max_turns=eparams.max_turns, max_parse_errors=eparams.max_parse_errors,
                           sandbox_workers=eparams.sandbox_workers)
        m = summarize(tasks, res)
        report["sets"][name] = {k: m[k] for k in ("n", "success_rate", "trace_match", "valid_json_rate")}
        print(f"{args.name}: {name} {m['success_rate']:.1%} of {m['n']}", file=sys.stderr)
    (out / "result.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
