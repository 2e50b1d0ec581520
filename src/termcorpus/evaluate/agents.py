"""The three agents an evaluation compares, built from a checkpoint and its corpus: the
fine-tuned checkpoint, its untrained base (a seeded fresh initialisation, or the checkpoint named
by ``base_model`` in ``termcorpus.json``) and the retrieval baseline over the train split."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from termcorpus.checkpoint_meta import META_FILE, read_meta  # read_meta and META_FILE re-exported
from termcorpus.errors import DataError
from termcorpus.params import EvaluateParams

AGENTS: tuple[str, ...] = ("finetuned", "retrieval", "base")


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
    from termcorpus.train.names import load_codec

    model_dir = Path(model_dir)
    meta = read_meta(model_dir)
    gen = dict(max_new_tokens=params.max_new_tokens, temperature=params.temperature, seed=params.seed)
    version = str(meta.get("model_version", "") or "")
    ft_name = f"{meta.get('registered_model', model_dir.name)}/{version}" if version else model_dir.name
    ft_model, tokenizer = load_checkpoint(model_dir)
    codec = load_codec(model_dir)
    finetuned = HFModelAgent(ft_model, tokenizer, name="finetuned", model_name=ft_name, codec=codec, **gen)

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
        # The same tokenizer and name codec: the base sees exactly the fine-tuned model's prompts.
        base_agent = HFModelAgent(
            base_model, tokenizer, name="base", model_name=f"tiny-init-seed{seed}", codec=codec, **gen
        )
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
