"""Held-out evaluation: the fine-tuned agent against its untrained base, in the sandbox.

The sets (see ``sets``): new variants of trained templates, compositions of unseen skill
sequences, families never trained on, trained templates with made-up names, and user task dirs
(``extra``); a held-out task that failed the execute stage's validity gate is skipped. Three
agents: ``finetuned`` (the checkpoint), ``retrieval`` (agents/retrieval.py: replays the training
episode whose instruction is nearest by TF-IDF, with the new instruction's words substituted; a
baseline that is not noise) and ``base`` (the same model before training). When the
checkpoint was trained from scratch (``termcorpus.json`` ``base_model: "tiny"``) the base is a
fresh initialisation from its config, seeded like training; when ``base_model`` names a
checkpoint directory, the base is that checkpoint. Every episode runs in a real sandbox session
and is scored by the task's verifier; episodes are stepped in lockstep batches (``runner``).
A task that is in two sets runs once and counts in both. With ``temperature > 0`` every task
runs ``trials`` times, trial ``k`` sampling from its own seed (``trial_seed``), and success is
reported as the mean over trials with its standard error. Metrics: ``metrics``; plot: ``plots``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from pathlib import Path
from typing import Any, Iterator

from termcorpus.errors import DataError
from termcorpus.evaluate.metrics import PLOT_COLUMNS, EpisodeResult, domain_rows, summarize
from termcorpus.evaluate.plots import write_success_plot
from termcorpus.evaluate.runner import run_lockstep
from termcorpus.evaluate.sets import EVAL_SETS, select_eval_sets
from termcorpus.params import EvaluateParams

AGENTS: tuple[str, ...] = ("finetuned", "retrieval", "base")
META_FILE = "termcorpus.json"

__all__ = ["AGENTS", "EVAL_SETS", "build_agents", "build_retrieval", "evaluate_model", "n_trials", "read_meta", "torch_threads",
           "trial_seed", "write_plot_csv", "write_success_plot"]


def n_trials(params: EvaluateParams) -> int:
    """Runs per task: ``params.trials`` when sampling, 1 for greedy decoding (reruns are identical)."""
    return params.trials if params.temperature > 0 else 1


def trial_seed(seed: int, trial: int) -> int:
    """The sampling seed of trial ``trial``: ``seed`` itself for the first (one trial = the plain
    run), then a hash of both, so trials of one seed never share a stream with another seed's."""
    if trial == 0:
        return int(seed)
    return int.from_bytes(hashlib.sha256(f"{seed}:{trial}".encode()).digest()[:4], "big") >> 1


def read_meta(model_dir: Path) -> dict[str, Any]:
    """The checkpoint's ``termcorpus.json`` (training metadata), or {} when it has none."""
    path = Path(model_dir) / META_FILE
    if not path.exists():
        return {}
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DataError(f"invalid JSON ({e})", where=str(path))
    if not isinstance(meta, dict):
        raise DataError("expected a JSON object", where=str(path))
    return meta


def _base_source(model_dir: Path, base: str) -> str:
    """``base_model`` as load_pretrained takes it: a checkpoint directory relative to the model
    becomes its path; anything else (preset, directory, hub id) is resolved there."""
    rel = Path(model_dir) / base
    if not (Path(base) / "config.json").is_file() and (rel / "config.json").is_file():
        return str(rel)
    return base


def build_agents(model_dir: Path, params: EvaluateParams) -> tuple[Any, Any]:
    """``(finetuned, base)`` HFModelAgents for the checkpoint in ``model_dir``."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    from termcorpus.agents.model import HFModelAgent, load_checkpoint

    model_dir = Path(model_dir)
    meta = read_meta(model_dir)
    gen = dict(max_new_tokens=params.max_new_tokens, temperature=params.temperature, seed=params.seed)
    version = str(meta.get("model_version", "") or "")
    ft_name = f"{meta.get('registered_model', model_dir.name)}/{version}" if version else model_dir.name
    ft_model, tokenizer = load_checkpoint(model_dir)
    finetuned = HFModelAgent(ft_model, tokenizer, name="finetuned", model_name=ft_name, **gen)

    base = str(meta.get("base_model", "tiny"))
    if base == "tiny":
        # Trained from scratch: the base is what training started from, a random init of the same
        # architecture, seeded with the training seed when the metadata has it (else the
        # evaluation seed), so the base's replies are reproducible.
        train_params = meta.get("params") if isinstance(meta.get("params"), dict) else {}
        seed = int(train_params.get("seed", params.seed))
        config = AutoConfig.from_pretrained(str(model_dir))
        torch.manual_seed(seed)
        base_model = AutoModelForCausalLM.from_config(config, dtype=torch.float32).eval()
        base_agent = HFModelAgent(base_model, tokenizer, name="base", model_name=f"tiny-init-seed{seed}", **gen)
    else:
        from termcorpus.errors import ConfigError
        from termcorpus.train.model import load_pretrained

        # Loaded like training loads it (same chat template), so the base sees the same prompts.
        try:
            base_model, base_tok = load_pretrained(_base_source(model_dir, base), field="base_model")
        except ConfigError as e:
            raise DataError(str(e), where=str(model_dir / META_FILE)) from None
        base_agent = HFModelAgent(base_model.eval(), base_tok, name="base", model_name=base, **gen)
    return finetuned, base_agent


def build_retrieval(corpus_dir: Path) -> Any:
    """The retrieval baseline over the corpus's TRAIN split (instructions read from the chats only)."""
    from termcorpus.agents.retrieval import Episode, RetrievalAgent, instruction_of
    from termcorpus.train.data import load_corpus

    episodes = []
    for chat in load_corpus(Path(corpus_dir))["train"]:
        first_user = next((c for r, c in chat.messages if r == "user"), "")
        turns = tuple(c for r, c in chat.messages if r == "assistant")
        if first_user and turns:
            episodes.append(Episode(instruction_of(first_user), turns))
    if not episodes:
        raise DataError("the train split has no chat with a user and an assistant turn", where=str(corpus_dir))
    return RetrievalAgent(episodes)


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
    result into ``metrics/eval.json`` (headline) and ``reports/eval_detail.json``.

    Layout: ``{agent: {set: {n, trials, success_rate, success_stderr, [success_by_trial],
    mean_reward, valid_json_rate, trace_match, turn_match_rate, mean_turns, context_ended, parse_ended,
    by_domain / by_steps / by_skill: {key: {n, success_rate, trace_match}}}}},
    "sets": {set: {available_tasks, available_families, n_tasks, n_families, skipped_gate,
    not_trained}} (``extra``: ``import_notes`` instead of the skips),
    "models": {agent: name}, "elapsed_sec": float}``. Everything but ``elapsed_sec`` is the same
    for the same inputs and params.
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
    for name in sets:
        for t in sets[name]:
            queue.setdefault(t.digest(), t)
    keys = list(queue)
    total = len(agents) * trials * len(keys)
    with tqdm(total=total, desc="evaluate", unit="episode", disable=None) as bar:
        for agent in agents:

            def open_episode(task, agent=agent):
                return Episode(
                    task, sandbox, max_turns=params.max_turns, prompt_style=prompt_style,
                    agent_name=agent.name, model_name=agent.model,
                    lineage=Lineage(task_digest=task.digest()),
                )

            by_key: list[dict[str, EpisodeResult]] = []
            for trial in range(trials):
                bar.set_postfix_str(agent.name if trials == 1 else f"{agent.name} trial {trial + 1}/{trials}")
                if hasattr(agent, "reseed"):
                    agent.reseed(trial_seed(params.seed, trial))
                results = run_lockstep(
                    agent, [queue[k] for k in keys], open_episode=open_episode, batch_size=params.batch_size,
                    max_turns=params.max_turns, max_parse_errors=params.max_parse_errors, progress=bar,
                )
                by_key.append(dict(zip(keys, results, strict=True)))
            metrics[agent.name] = {}
            for name in sets:
                digests = [t.digest() for t in sets[name]]
                metrics[agent.name][name] = summarize(
                    sets[name], [run[d] for run in by_key for d in digests],
                    trials=trials, sampled=params.temperature > 0,
                )
    metrics["elapsed_sec"] = round(time.perf_counter() - start, 1)
    return metrics


def write_plot_csv(path: Path, metrics: dict[str, Any]) -> int:
    """Write ``plots/eval_by_domain.csv`` (domain,agent,set,success_rate); returns the row count."""
    rows = domain_rows(metrics, AGENTS, EVAL_SETS)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(",".join(PLOT_COLUMNS) + "\n")
        for domain, agent, set_name, rate in rows:
            fh.write(f"{domain},{agent},{set_name},{rate}\n")
    tmp.replace(path)
    return len(rows)
