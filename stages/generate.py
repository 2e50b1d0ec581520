"""DVC stage `generate`: seed-based mutation (+ skill composition) into training and held-out tasks.

    python stages/generate.py --seeds data/seeds.jsonl --taxonomy data/taxonomy.json \
        --out data/tasks --metrics metrics/generate.json

Writes ``OUT/tasks.jsonl`` (training pool) and ``OUT/heldout.jsonl`` (the held-out evaluation
sets, each task labelled with its ``eval_set``: generate/heldout.py).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from termcorpus.generate.pipeline import generate_tasks
from termcorpus.params import load_section
from termcorpus.records import Task, read_jsonl, write_json, write_jsonl
from termcorpus.runtime import stage_main
from termcorpus.tasks.catalog import read_seeds, read_taxonomy
from termcorpus.tracking.metrics import write_stage_metrics


@stage_main
def main() -> None:
    ap = argparse.ArgumentParser(description="Generate task variants from the normalized seeds.")
    ap.add_argument("--seeds", required=True, help="Normalized seeds (JSONL) from the seed stage.")
    ap.add_argument("--taxonomy", required=True, help="Skill taxonomy (JSON) from the seed stage.")
    ap.add_argument("--adapter-tasks", default="", help="Dataset-adapter tasks (JSONL) from the seed stage, added to the training pool.")
    ap.add_argument("--out", required=True, help="Directory for tasks.jsonl and heldout.jsonl.")
    ap.add_argument("--metrics", required=True, help="Metrics JSON to write.")
    ap.add_argument("--detail", default="", help="Per-skill detail JSON to write (reports/generate_detail.json).")
    args = ap.parse_args()
    p = load_section("generate", "params.yaml")

    taxonomy = read_taxonomy(args.taxonomy)
    seeds = read_seeds(args.seeds, taxonomy)
    start = time.perf_counter()
    result = generate_tasks(
        seeds, taxonomy, seed=p.seed, n_variants=p.n_variants, n_heldout_variants=p.n_heldout_variants,
        skill_tasks=p.skill_tasks, min_skills=p.min_skills, max_skills=p.max_skills,
        domains=p.domains, max_seeds=p.max_seeds, seed_tasks=p.seed_tasks, custom_skills=p.custom_skills,
        heldout_compositions=p.heldout_compositions, heldout_novel_pairs=p.heldout_novel_pairs,
        reserved_pair_pct=p.reserved_pair_pct,
        adapter_tasks=read_jsonl(args.adapter_tasks, Task) if args.adapter_tasks else (),
        heldout_families=p.heldout_families, heldout_family_variants=p.heldout_family_variants,
        novel_names=p.novel_names,
    )
    elapsed = time.perf_counter() - start
    if p.llm_base_url and p.llm_tasks:
        # LLM synthesis (optional): new tasks over the selected seeds; like every task they meet
        # the validity gate in the execute stage (execute/gate.py).
        from termcorpus.agents.openai_agent import OpenAIChatAgent
        from termcorpus.generate.llm import synthesize_tasks
        from termcorpus.generate.pipeline import select_seeds

        client = OpenAIChatAgent(base_url=p.llm_base_url, model=p.llm_model, api_key_env=p.llm_api_key_env,
                                 temperature=p.llm_temperature, max_tokens=p.llm_max_tokens, name="synthesis",
                                 role="synthesis")
        llm_tasks, llm_drops = synthesize_tasks(
            select_seeds(seeds, domains=p.domains, max_seeds=p.max_seeds), client=client, n=p.llm_tasks,
            seed=p.seed, existing=result.tasks + result.heldout,
        )
        result.tasks.extend(llm_tasks)
        result.drops.update({f"llm_{reason}": k for reason, k in llm_drops.items()})
    out = Path(args.out)
    write_jsonl(out / "tasks.jsonl", result.tasks)
    write_jsonl(out / "heldout.jsonl", result.heldout)
    # headline counts (per domain and per number of steps included) to the metrics file; the
    # per-skill counts and everything else to the detail file (tracking/metrics.py)
    write_stage_metrics("generate", result.metrics(), args.metrics)
    if args.detail:
        write_json(args.detail, {**result.metrics(), **result.detail()})
    # the rate goes to the console only: metrics files hold no wall-clock numbers
    n = len(result.tasks) + len(result.heldout)
    print(f"generate: {len(result.tasks)} tasks + {len(result.heldout)} held-out from {result.n_seeds} seeds "
          f"({n / max(elapsed, 1e-9):.0f} tasks/s)", file=sys.stderr)


if __name__ == "__main__":
    main()
