"""Model presets: a tiny Qwen3 built from scratch, or a local Hugging Face checkpoint to fine-tune.

``tiny`` is the Qwen3 architecture (RMSNorm, q/k-norm, GQA, SwiGLU, RoPE) at a size two CPU cores
can train in minutes; its sizes come from ``TrainParams``. Anything else in ``train.model`` must
be a local directory written by ``save_pretrained`` (no hub access: the pipeline runs offline).
"""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig, Qwen3Config, Qwen3ForCausalLM

from termcorpus.errors import ConfigError
from termcorpus.params import TrainParams
from termcorpus.train.chat import IM_END, PAD

TINY = "tiny"


def is_preset(model: str) -> bool:
    return model == TINY


def tiny_config(params: TrainParams, tokenizer) -> Qwen3Config:
    """The Qwen3Config of the tiny preset for this tokenizer."""
    if params.num_heads % params.num_kv_heads:
        raise ConfigError(
            f"'train.num_heads' ({params.num_heads}) must be a multiple of 'train.num_kv_heads' ({params.num_kv_heads})"
        )
    eos = tokenizer.convert_tokens_to_ids(IM_END)
    pad = tokenizer.convert_tokens_to_ids(PAD)
    return Qwen3Config(
        vocab_size=len(tokenizer),
        hidden_size=params.hidden_size,
        intermediate_size=params.intermediate_size,
        num_hidden_layers=params.num_layers,
        num_attention_heads=params.num_heads,
        num_key_value_heads=params.num_kv_heads,
        # Explicit: Qwen3's default head_dim (128) would not follow hidden_size / num_heads.
        head_dim=params.head_dim,
        max_position_embeddings=params.max_seq_len,
        tie_word_embeddings=True,
        eos_token_id=eos,
        pad_token_id=pad,
        bos_token_id=None,
        use_cache=True,
    )


def build_tiny(params: TrainParams, tokenizer) -> Qwen3ForCausalLM:
    """A freshly initialised tiny Qwen3; the same seed gives the same weights."""
    config = tiny_config(params, tokenizer)
    config._attn_implementation = "sdpa"  # eager attention is ~4x slower on CPU (FACTS.md)
    torch.manual_seed(params.seed)
    model = Qwen3ForCausalLM(config)
    model.generation_config = generation_config(tokenizer)
    return model


def generation_config(tokenizer) -> GenerationConfig:
    eos = tokenizer.convert_tokens_to_ids(IM_END)
    pad = tokenizer.convert_tokens_to_ids(PAD)
    return GenerationConfig(eos_token_id=eos, pad_token_id=pad, do_sample=False)


def checkpoint_dir(model: str) -> Path:
    """The local checkpoint directory named by ``train.model``, checked."""
    path = Path(model)
    if not path.is_dir():
        raise ConfigError(
            f"'train.model' must be 'tiny' or a local checkpoint directory; {model!r} is neither"
            " (hub names are not fetched: the pipeline runs offline)"
        )
    if not (path / "config.json").exists():
        raise ConfigError(f"'train.model' {model!r} has no config.json (not a save_pretrained directory)")
    return path


def load_pretrained(model: str):
    """Model and tokenizer of a local checkpoint, for fine-tuning with the same loop."""
    path = checkpoint_dir(model)
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path))
        net = AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32, attn_implementation="sdpa")
    except (OSError, ValueError) as e:
        raise ConfigError(f"cannot load checkpoint {model!r}: {e}")
    if tokenizer.pad_token is None:
        # Padding positions are masked and unlabelled, any id works; eos is always there.
        tokenizer.pad_token = tokenizer.eos_token
    return net, tokenizer


def count_params(model: torch.nn.Module) -> int:
    """Trainable parameters, tied weights counted once."""
    seen: set[int] = set()
    n = 0
    for p in model.parameters():
        if p.requires_grad and id(p) not in seen:
            seen.add(id(p))
            n += p.numel()
    return n
