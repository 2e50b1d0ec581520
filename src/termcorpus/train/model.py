"""Model presets: a tiny Qwen3 built from scratch, or a pretrained base to fine-tune.

``tiny`` is the Qwen3 architecture (RMSNorm, q/k-norm, GQA, SwiGLU, RoPE) at a size two CPU cores
can train in minutes; its sizes come from ``TrainParams``. Anything else in ``train.model`` is a
pretrained base (train/pretrained.py): the offline ``smollm2-135m`` preset, a local
``save_pretrained`` directory, or a hub id such as ``Qwen/Qwen3-8B`` for users with a hub.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from transformers import AttentionInterface, AutoModelForCausalLM, AutoTokenizer, GenerationConfig, Qwen3Config, Qwen3ForCausalLM

from termcorpus.errors import ConfigError
from termcorpus.params import TrainParams
from termcorpus.train.chat import CHAT_TEMPLATE, IM_END, IM_START, PAD
from termcorpus.train.pretrained import resolve

TINY = "tiny"

# Packed training batches are one flat sequence of whole episodes (train/data.py collate_flat,
# transformers' DataCollatorWithFlattening with cu_seq_lens). This attention runs SDPA with
# is_causal on each episode's span: no episode sees another, no mask is built, no padding is
# computed. Without cu_seq_lens (generation, padded batches) it is plain sdpa.
VARLEN_ATTENTION = "termcorpus_varlen_sdpa"


def varlen_sdpa(module, query, key, value, attention_mask, dropout=0.0, scaling=None, cu_seq_lens_q=None, **kwargs):
    """Attention over concatenated episodes: ``cu_seq_lens_q`` holds their boundaries (batch of 1)."""
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    if cu_seq_lens_q is None:
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout, scaling=scaling, **kwargs)
    # split, not one slice per episode: a slice's backward zero-fills a gradient of the whole
    # flat sequence per episode, split's backward is one concatenation (the attention's fwd+bwd
    # 13 ms against 17-18 ms for a batch of 12 episodes; the training loop 1.15x, bench/RESULTS.md
    # "train").
    lengths = torch.diff(cu_seq_lens_q).tolist()
    outs = [
        F.scaled_dot_product_attention(q, k, v, dropout_p=dropout, scale=scaling, is_causal=True, enable_gqa=True)
        for q, k, v in zip(query.split(lengths, dim=2), key.split(lengths, dim=2), value.split(lengths, dim=2))
    ]
    return torch.cat(outs, dim=2).transpose(1, 2).contiguous(), None


def _varlen_mask(*args, **kwargs):
    """No mask for a flat batch (the block-diagonal one transformers would build from the restarting
    position ids is what cu_seq_lens already give, at no cost); sdpa's mask when a padding mask is
    passed (padded batches, generation)."""
    from transformers.masking_utils import sdpa_mask

    return None if kwargs.get("attention_mask") is None else sdpa_mask(*args, **kwargs)


def _register_varlen() -> None:
    from transformers.masking_utils import AttentionMaskInterface

    AttentionInterface.register(VARLEN_ATTENTION, varlen_sdpa)
    AttentionMaskInterface.register(VARLEN_ATTENTION, _varlen_mask)


_register_varlen()


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
    """Greedy, stopping at the end of the assistant turn (``<|im_end|>``)."""
    eos = tokenizer.convert_tokens_to_ids(IM_END)
    return GenerationConfig(eos_token_id=eos, pad_token_id=tokenizer.pad_token_id, do_sample=False)


def load_pretrained(model: str, field: str = "train.model"):
    """Model and tokenizer of a pretrained base (preset, local checkpoint or hub id) for
    fine-tuning with the same loop. The tokenizer gets our chat template: the model is trained
    and evaluated on exactly that layout (ChatML, which SmolLM2 and Qwen3 already speak).
    ``field`` names the setting in error messages."""
    source = resolve(model, field)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        net = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32, attn_implementation="sdpa")
    except (OSError, ValueError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ConfigError(f"cannot load '{field}' {model!r} from {source}: {first}")
    tokenizer.chat_template = CHAT_TEMPLATE
    missing = [t for t in (IM_START, IM_END) if t not in tokenizer.get_vocab()]
    if missing:
        # Add the ChatML markers as special tokens so they stay single tokens; new rows are learned.
        tokenizer.add_special_tokens({"additional_special_tokens": missing})
        net.resize_token_embeddings(len(tokenizer))
    if tokenizer.pad_token is None:
        # Padding positions are masked and unlabelled, any id works; eos is always there.
        tokenizer.pad_token = tokenizer.eos_token
    net.generation_config = generation_config(tokenizer)
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
