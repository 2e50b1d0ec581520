"""One evaluation: every agent on every held-out set, episodes stepped in lockstep batches in
the sandbox, each distinct task once per trial and agent, summarized per set."""

from __future__ import annotations

import contextlib
import hashlib
import time
from pathlib import Path
from typing import Any, Iterator

from termcorpus.evaluate.agents import build_agents, build_retrieval
from termcorpus.evaluate.metrics import EpisodeResult, episode_record, summarize
from termcorpus.evaluate.runner import run_lockstep
from termcorpus.evaluate.sets import select_eval_sets
from termcorpus.params import EvaluateParams


def n_trials(params: EvaluateParams) -> int:
    """Runs per task: ``params.trials`` when sampling, 1 for greedy decoding (reruns are identical)."""
    return params.trials if params.temperature > 0 else 1


def trial_seed(seed: int, trial: int) -> int:
    """The sampling seed of trial ``trial``: ``seed`` itself for the first (one trial = the plain
    run), then a hash of both, so trials of one seed never share a stream with another seed's."""
    if trial == 0:
        return int(seed)
    return int.from_bytes(hashlib.sha256(f"{seed}:{trial}".encode()).digest()[:4], "big") >> 1


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Use ``n`` intra-op threads inside the block (0: leave torch's setting), then restore.

    Why 1 by default: a tiny model's ops are too small to split well, and when the cores are
    shared the threads wait on each other. Measured (d128, 4 layers, batch 32): on the 2-core dev
    machine while another process trained, 1 thread ~2,100-3,300 tok/s, 2 threads ~180 tok/s;
    on an idle 16-core machine, 1 thread 1,840 tok/s, 2 threads 2,620, 16 threads 5,880.
    """
    import torch

    before = torch.get_num_threads()
    if n > 0:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def evaluate_model(
    *,
    model_dir: Path,
    corpus_dir: Path,
    tasks_dir: Path,
    params: EvaluateParams,
    sandbox: Any,
    prompt_style: str,
    gate_path: Path | None = None,
) -> dict[str, Any]:
    """Evaluate every agent (``AGENTS``) on every held-out set; ``metrics.split_detail`` splits the
    result into ``metrics/eval/<agent>.json`` (headline) and ``reports/eval_detail.json``.

    Layout: ``{agent: {set: {n, trials, success_rate, success_stderr, [success_by_trial],
    mean_reward, valid_json_rate, trace_match, turn_match_rate, first_miss, mean_turns, context_ended, parse_ended,
    by_domain / by_steps / by_skill: {key: {n, success_rate, trace_match}}}}},
    "sets": {set: {available_tasks, available_families, n_tasks, n_families, skipped_gate,
    not_trained}} (``extra``: ``import_notes`` instead of the skips),
    "models": {agent: name}, "episodes": [metrics.episode_record per agent, trial and distinct task],
    "elapsed_sec": float, "agent_sec": {agent: float}}``. Everything but the two wall-clock entries
    is the same for the same inputs and params.
    """
    with torch_threads(params.threads):
        return _evaluate(
            model_dir=Path(model_dir), corpus_dir=Path(corpus_dir), tasks_dir=Path(tasks_dir), params=params,
            sandbox=sandbox, prompt_style=prompt_style, gate_path=gate_path,
        )


def _evaluate(*, model_dir: Path, corpus_dir: Path, tasks_dir: Path, params: EvaluateParams, sandbox: Any,
              prompt_style: str, gate_path: Path | None = None) -> dict[str, Any]:
    from tqdm import tqdm

    from termcorpus.execute.episode import Episode
    from termcorpus.records import Lineage

    start = time.perf_counter()
    # The model first: a missing or corrupt checkpoint is the likelier mistake and is named as such.
    finetuned, base = build_agents(Path(model_dir), params)
    agents = (finetuned, build_retrieval(Path(corpus_dir)), base)
    sets, info = select_eval_sets(
        tasks_dir=Path(tasks_dir), corpus_dir=Path(corpus_dir), max_tasks=params.max_tasks, seed=params.seed,
        extra_tasks=params.extra_tasks, gate_path=gate_path,
    )
    if params.extra_tasks:
        # One set per real-task folder, oracle/null-checked first: broken tasks are flagged in
        # info, never scored as model failures.
        from termcorpus.evaluate.extra import extra_sets
        from termcorpus.evaluate.sets import sample_tasks

        more, more_info = extra_sets(params.extra_tasks, sandbox, sample=lambda pool, name: sample_tasks(
            pool, params.max_tasks, f"{params.seed}:{name}"))
        sets.update(more)
        info.update(more_info)
    trials = n_trials(params)
    metrics: dict[str, Any] = {"sets": info, "models": {a.name: a.model for a in agents}}
    # One queue of distinct tasks per trial and agent (a task in two sets runs once), so the
    # batch stays full across set boundaries. Keyed by content digest: ids of imported tasks
    # could clash with generated ones.
    queue: dict[str, Any] = {}
    sets_of: dict[str, list[str]] = {}  # digest -> the sets the task is in
    for name in sets:
        for t in sets[name]:
            digest = t.digest()
            queue.setdefault(digest, t)
            sets_of.setdefault(digest, []).append(name)
    keys = list(queue)
    episodes: list[dict[str, Any]] = []
    total = len(agents) * trials * len(keys)
    seconds: dict[str, float] = {}
    with tqdm(total=total, desc="evaluate", unit="episode", disable=None) as bar:
        for agent in agents:

            def open_episode(task, agent=agent):
                return Episode(
                    task, sandbox, max_turns=params.max_turns, prompt_style=prompt_style,
                    agent_name=agent.name, model_name=agent.model,
                    lineage=Lineage(task_digest=task.digest()),
                )

            by_key: list[dict[str, EpisodeResult]] = []
            agent_start = time.perf_counter()
            for trial in range(trials):
                bar.set_postfix_str(agent.name if trials == 1 else f"{agent.name} trial {trial + 1}/{trials}")
                if hasattr(agent, "reseed"):
                    agent.reseed(trial_seed(params.seed, trial))
                results = run_lockstep(
                    agent, [queue[k] for k in keys], open_episode=open_episode, batch_size=params.batch_size,
                    max_turns=params.max_turns, max_parse_errors=params.max_parse_errors,
                    sandbox_workers=params.sandbox_workers, progress=bar,
                )
                by_key.append(dict(zip(keys, results, strict=True)))
            seconds[agent.name] = round(time.perf_counter() - agent_start, 1)
            episodes += [episode_record(agent.name, trial, queue[k], sets_of[k], run[k])
                         for trial, run in enumerate(by_key) for k in keys]
            metrics[agent.name] = {}
            for name in sets:
                digests = [t.digest() for t in sets[name]]
                metrics[agent.name][name] = summarize(
                    sets[name], [run[d] for run in by_key for d in digests],
                    trials=trials, sampled=params.temperature > 0,
                )
    metrics["episodes"] = episodes
    metrics["elapsed_sec"] = round(time.perf_counter() - start, 1)
    metrics["agent_sec"] = seconds
    return metrics
