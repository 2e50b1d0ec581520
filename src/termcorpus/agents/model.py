"""The local-checkpoint agent: a Hugging Face causal LM answering Terminus-2 turns in batches.

Evaluation steps many episodes at once, and on a CPU the generation of the replies is nearly all
of its cost, so the agent's main entry is ``act_batch``: every chat is rendered with the
tokenizer's ChatML template (the same text as ``train.chat.render_chat(...,
add_generation_prompt=True)``, the layout the model was trained on), the prompts are left-padded
into one tensor and one ``generate`` call (KV cache, greedy when ``temperature`` is 0) answers
them all, each reply stopping at ``<|im_end|>``. Left padding plus position ids taken from the
attention mask make a batched reply the same as the reply the prompt would get alone.

Context limit: a reply never runs past the model's ``max_position_embeddings`` (each reply is
cut at ``max_positions - prompt_tokens`` new tokens). A caller that steps episodes should end an
episode whose next prompt leaves less than ``MIN_REPLY_TOKENS`` of room (``prompt_room``); the
evaluator does so and counts it. ``act_batch`` itself, given such a prompt anyway, keeps only the
prompt's most recent tokens (cut from the left) so it can still answer: a safety net for direct
callers, not something evaluation relies on, since the cut drops the instruction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from termcorpus.train.chat import as_chat_dicts
from termcorpus.errors import DataError
from termcorpus.train.chat import EOS, IM_END
from termcorpus.train.names import NameCodec, load_codec

# Fewer free positions than this cannot hold even a short Terminus-2 action.
MIN_REPLY_TOKENS = 16




def load_checkpoint(model_dir: Path) -> tuple[Any, Any]:
    """Load ``(model, tokenizer)`` from a ``save_pretrained`` directory, in eval mode, fp32."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model_dir = Path(model_dir)
    if not (model_dir / "config.json").is_file():
        raise DataError("not a model checkpoint (no config.json); expected a save_pretrained directory",
                        where=str(model_dir))
    from safetensors import SafetensorError  # a truncated or corrupt weights file

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32)
    except (OSError, ValueError, SafetensorError) as e:
        raise DataError(f"cannot load checkpoint: {str(e).splitlines()[0][:200]}", where=str(model_dir))
    model.eval()
    return model, tokenizer


class HFModelAgent:
    """A Terminus-2 agent backed by a local causal LM (a checkpoint directory or a loaded model).

    ``name`` is the agent's role in a comparison (e.g. 'finetuned', 'base'); ``model`` names the
    weights (the checkpoint directory's name unless given). Same seed and inputs, same replies.
    A loaded model passed in is put in eval mode and moved to ``device`` (CUDA when available).
    ``codec``: the checkpoint's name codec (train/names.py; loaded with a checkpoint directory):
    prompts are rendered with names as placeholders and replies carry the names back.
    """

    def __init__(
        self,
        model_dir_or_model: Any,
        tokenizer: Any = None,
        *,
        max_new_tokens: int,
        temperature: float = 0.0,
        seed: int = 0,
        name: str = "model",
        model_name: str | None = None,
        device: str | None = None,
        codec: NameCodec | None = None,
    ):
        import torch

        if isinstance(model_dir_or_model, (str, Path)):
            lm, tok = load_checkpoint(Path(model_dir_or_model))
            tokenizer = tokenizer if tokenizer is not None else tok
            model_name = model_name or Path(model_dir_or_model).name
            codec = codec if codec is not None else load_codec(Path(model_dir_or_model))
        else:
            lm = model_dir_or_model
            if tokenizer is None:
                raise TypeError("HFModelAgent: a tokenizer is required when passing a loaded model")
            model_name = model_name or getattr(getattr(lm, "config", None), "_name_or_path", "") or "model"
        if max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {max_new_tokens}")
        self.name = name
        self.model = str(model_name)
        self.lm = lm.eval()
        self.tokenizer = tokenizer
        self.codec = codec
        self.max_new_tokens = int(max_new_tokens)
        self.temperature = float(temperature)
        self.seed = int(seed)
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.lm.to(self.device)
        self.max_positions = int(getattr(lm.config, "max_position_embeddings", 0) or 1_000_000)
        self.stop_ids = sorted(
            {i for i in (tokenizer.convert_tokens_to_ids(t) for t in (IM_END, EOS))
             if isinstance(i, int) and i >= 0 and i != tokenizer.unk_token_id}
        )
        if not self.stop_ids:
            raise DataError(f"tokenizer has no {IM_END} token: not a ChatML tokenizer")
        pad = tokenizer.pad_token_id
        self.pad_id = int(pad if pad is not None else self.stop_ids[0])
        self._calls = 0  # per-call sampling seed: replies do not depend on earlier sampling draws

    def reseed(self, seed: int) -> None:
        """Sample from ``seed`` again: the next replies are those a fresh agent with it would give."""
        self.seed = int(seed)
        self._calls = 0

    # -- prompts ---------------------------------------------------------------------------
    def _coded(self, messages: Sequence[Any]) -> tuple[list[dict[str, str]], dict[str, str]]:
        """The chat as the model sees it, and the name mapping its reply is decoded with."""
        chat = as_chat_dicts(messages)
        return self.codec.encode_messages(chat) if self.codec is not None else (chat, {})

    def render(self, messages: Sequence[Any]) -> str:
        """The prompt text: the chat plus an open assistant turn (``render_chat`` layout)."""
        return self.tokenizer.apply_chat_template(
            self._coded(messages)[0], tokenize=False, add_generation_prompt=True
        )

    def encode(self, messages: Sequence[Any]) -> list[int]:
        return list(self.tokenizer(self.render(messages), add_special_tokens=False)["input_ids"])

    def prompt_room(self, messages: Sequence[Any]) -> int:
        """Positions left for the reply after this chat's prompt (may be negative)."""
        return self.max_positions - len(self.encode(messages))

    # -- generation ------------------------------------------------------------------------
    def _fit(self, ids: list[int]) -> list[int]:
        # Safety net for direct callers (see the module docstring): keep the most recent tokens
        # and leave up to max_new_tokens (at most half the context) for the reply.
        if self.max_positions - len(ids) >= MIN_REPLY_TOKENS:
            return ids
        keep = self.max_positions - min(self.max_new_tokens, self.max_positions // 2)
        return ids[-keep:]

    def act_batch(self, chats: Sequence[Sequence[Any]]) -> list[str]:
        """One reply per chat, all from one batched ``generate`` call (names decoded)."""
        replies = [self.tokenizer.decode(ids, skip_special_tokens=True) for ids in self.generate_ids(chats)]
        if self.codec is None:
            return replies
        return [self.codec.decode(r, self._coded(c)[1]) for r, c in zip(replies, chats)]

    def generate_ids(self, chats: Sequence[Sequence[Any]]) -> list[list[int]]:
        """The new token ids of each reply, without the stop token (``act_batch`` decodes them)."""
        import torch
        from transformers import GenerationConfig

        if not chats:
            return []
        prompts = [self._fit(self.encode(c)) for c in chats]
        width = max(len(p) for p in prompts)
        input_ids = torch.full((len(prompts), width), self.pad_id, dtype=torch.long)
        attention = torch.zeros((len(prompts), width), dtype=torch.long)
        for i, p in enumerate(prompts):  # left padding: every prompt ends at the last column
            input_ids[i, width - len(p):] = torch.tensor(p, dtype=torch.long)
            attention[i, width - len(p):] = 1
        # Each row may use at most the positions its own prompt leaves free; generate for the
        # roomiest row and cut the others afterwards (greedy rows do not depend on each other).
        limits = [min(self.max_new_tokens, self.max_positions - len(p)) for p in prompts]
        sample = self.temperature > 0
        cfg = GenerationConfig(
            max_new_tokens=max(limits),
            do_sample=sample,
            temperature=self.temperature if sample else None,
            top_k=0 if sample else None,
            top_p=1.0 if sample else None,
            eos_token_id=self.stop_ids,
            pad_token_id=self.pad_id,
            use_cache=True,
        )
        if sample:
            torch.manual_seed(self.seed * 1_000_003 + self._calls)
        self._calls += 1
        with torch.inference_mode():
            out = self.lm.generate(
                input_ids=input_ids.to(self.device),
                attention_mask=attention.to(self.device),
                generation_config=cfg,
            )
        replies = []
        for row, limit in zip(out[:, width:].tolist(), limits):
            row = row[:limit]
            for j, t in enumerate(row):
                if t in self.stop_ids:
                    row = row[:j]
                    break
            replies.append(row)
        return replies

    def act(self, task: Any, messages: Sequence[Any]) -> str:
        """The Agent protocol: the next assistant turn for one chat."""
        return self.act_batch([messages])[0]
