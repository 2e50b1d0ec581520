"""Stage `generate`: seed-based mutation (+ skill composition, + optional LLM synthesis) into
training and held-out tasks.

Writes ``out/tasks.jsonl`` (training pool) and ``out/heldout.jsonl`` (the held-out evaluation
sets, each task labelled with its ``eval_set``: generate/heldout.py). Generation runs nothing:
every task meets the validity gate in the execute stage (execute/gate.py).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, Sequence

from termcorpus.generate.pipeline import generate_tasks, select_seeds
from termcorpus.params import GenerateParams
from termcorpus.records import Task, read_jsonl, write_json, write_jsonl
from termcorpus.generate.catalog import read_seeds, read_taxonomy
from termcorpus.tracking.metrics import write_stage_metrics


# The path options of stages/generate.py (runtime.run_stage): parameter of run -> help text.
PATHS: dict[str, str] = {
    "seeds": "Normalized seeds (JSONL) from the seed stage.",
    "taxonomy": "Skill taxonomy (JSON) from the seed stage.",
    "adapter_tasks": "Dataset-adapter tasks (JSONL) from the seed stage, added to the training pool.",
    "out": "Directory for tasks.jsonl and heldout.jsonl.",
    "metrics": "Metrics JSON to write.",
    "detail": "Per-skill detail JSON to write (reports/generate_detail.json).",
}


def generate_from_params(seeds: list, taxonomy: Any, p: GenerateParams,
                         adapter_tasks: Sequence[Task] = ()) -> Any:
    """``generate_tasks`` with every knob of the ``generate`` section (the stage and bench/bench_gate.py)."""
    return generate_tasks(
        seeds, taxonomy, seed=p.seed, n_variants=p.n_variants, n_heldout_variants=p.n_heldout_variants,
        skill_tasks=p.skill_tasks, skill_singles=p.skill_singles, min_skills=p.min_skills, max_skills=p.max_skills,
        domains=p.domains, max_seeds=p.max_seeds, seed_tasks=p.seed_tasks, custom_skills=p.custom_skills,
        heldout_compositions=p.heldout_compositions, heldout_novel_pairs=p.heldout_novel_pairs,
        reserved_pair_pct=p.reserved_pair_pct, adapter_tasks=adapter_tasks,
        heldout_families=p.heldout_families, heldout_family_variants=p.heldout_family_variants,
        novel_names=p.novel_names,
    )


def synthesize(seeds: list, p: GenerateParams, existing: list[Task]) -> tuple[list[Task], dict[str, int]]:
    """LLM-synthesized tasks over the selected seeds (generate.llm_*), with their drop counts."""
    from termcorpus.agents.openai_agent import OpenAIChatAgent
    from termcorpus.generate.llm import synthesize_tasks

    client = OpenAIChatAgent(base_url=p.llm_base_url, model=p.llm_model, api_key_env=p.llm_api_key_env,
                             temperature=p.llm_temperature, max_tokens=p.llm_max_tokens, name="synthesis",
                             role="synthesis")
    return synthesize_tasks(select_seeds(seeds, domains=p.domains, max_seeds=p.max_seeds), client=client,
                            n=p.llm_tasks, seed=p.seed, existing=existing)


def run(*, seeds: Path, taxonomy: Path, out: Path, metrics: Path, adapter_tasks: Path | None = None,
        detail: Path | None = None, params: GenerateParams) -> dict[str, Any]:
    """Write tasks.jsonl, heldout.jsonl, the metrics and the detail; return the metrics."""
    p = params
    taxonomy_ = read_taxonomy(taxonomy)
    seeds_ = read_seeds(seeds, taxonomy_)
    start = time.perf_counter()
    result = generate_from_params(
        seeds_, taxonomy_, p, adapter_tasks=read_jsonl(adapter_tasks, Task) if adapter_tasks else ())
    elapsed = time.perf_counter() - start
    if p.llm_base_url and p.llm_tasks:
        llm_tasks, llm_drops = synthesize(seeds_, p, existing=result.tasks + result.heldout)
        result.tasks.extend(llm_tasks)
        result.drops.update({f"llm_{reason}": k for reason, k in llm_drops.items()})
    write_jsonl(out / "tasks.jsonl", result.tasks)
    write_jsonl(out / "heldout.jsonl", result.heldout)
    # headline counts (per domain and per number of steps included) to the metrics file; the
    # per-skill counts and everything else to the detail file (tracking/metrics.py)
    write_stage_metrics("generate", result.metrics(), metrics)
    if detail:
        write_json(detail, {**result.metrics(), **result.detail()})
    # the rate goes to the console only: metrics files hold no wall-clock numbers
    n = len(result.tasks) + len(result.heldout)
    print(f"generate: {len(result.tasks)} tasks + {len(result.heldout)} held-out from {result.n_seeds} seeds "
          f"({n / max(elapsed, 1e-9):.0f} tasks/s)", file=sys.stderr)
    return result.metrics()
