"""The batch stream of training: corpus loading, assistant-only labels, order, packing, collation.

A chat is tokenized by the tokenizer's own chat template (``apply_chat_template``), the same
text inference renders; the template's ``{% generation %}`` block (assistant content plus its
closing ``<|im_end|>``) gives ``return_assistant_tokens_mask``, and every other token is -100.

Everything the loop needs to turn a split into batches lives here, in the order it happens:
``index_stream`` (stored curriculum order, then seeded shuffles) -> ``example_stream`` (optional
fresh-name renaming) -> ``row_stream`` (one episode per row, or episodes packed up to
``max_seq_len``) -> ``collate`` (padded rows with an attention mask, or, packed, every episode
of the batch in one flat sequence: transformers' DataCollatorWithFlattening, position ids
restarting per episode and ``cu_seq_lens`` at the boundaries, which model.VARLEN_ATTENTION
turns into one causal SDPA call per episode). Episodes never attend to each other
(tests/train/test_train_packing.py: an episode's logits alone equal its logits in the pack).

Why flat + per-episode SDPA rather than packed rows with a block-diagonal mask: measured in
tokens per CPU-second on the real corpus (docs/EXPERIMENTS.md), the mask path computes the
whole max_seq_len x max_seq_len square and lost to padding; per-episode causal SDPA computes
only each episode's own triangle and has no padding at all.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import torch

from termcorpus.errors import DataError
from termcorpus.generate.pools import fresh_name
from termcorpus.train.chat import as_chat_dicts, render_chat

IGNORE = -100
ROLES = ("system", "user", "assistant")


@dataclass(frozen=True)
class Chat:
    """One corpus row as the trainer needs it."""

    messages: tuple[tuple[str, str], ...]
    slot_values: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()  # the corpus row's skills (a composition's, in step order)
    origin: str = "corpus"  # or the augmentation that made it: "copy" (copy_episodes), "splice" (splice)

    @property
    def text(self) -> str:
        return render_chat(self.as_dicts())

    def as_dicts(self) -> list[dict[str, str]]:
        return [{"role": r, "content": c} for r, c in self.messages]


@dataclass(frozen=True)
class Example:
    input_ids: list[int]
    labels: list[int]


@dataclass
class Encoded:
    """A split after tokenization: kept examples plus the counted drops (``chats[i]`` is the
    chat ``examples[i]`` was encoded from)."""

    examples: list[Example] = field(default_factory=list)
    dropped_too_long: int = 0
    dropped_no_assistant: int = 0
    chats: list[Chat] = field(default_factory=list)


# A slot value is renamed only when it looks like a name: lowercase letters/digits with '_' or
# '-' between parts, at least 3 characters, not a number. Extensions, numbers, paths and values
# with spaces keep their meaning in the commands and are left alone.
_RENAMABLE = re.compile(r"^[a-z][a-z0-9]*(?:[_-][a-z0-9]+)*$")
_KEEP = frozenset("txt log csv md json py cfg dat ini xml yaml bak tmp out sh conf toml sql html".split())


def renamable(value: str, chat: Chat) -> bool:
    """A name-like slot value that the instruction (first user message) mentions."""
    if len(value) < 3 or value in _KEEP or not _RENAMABLE.match(value):
        return False
    first_user = next((c for r, c in chat.messages if r == "user"), "")
    return _word(value).search(first_user) is not None


def _word(value: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9_]){re.escape(value)}(?![A-Za-z0-9_])")


def rename_slots(chat: Chat, rng: random.Random) -> Chat:
    """The same episode with each name-like slot value replaced, everywhere in the chat (whole
    words only), by a fresh name (``pools.fresh_name``) that no generator pool can produce, so
    no evaluation task's name is ever trained on by way of the renaming.

    Why: a small model memorises the names of a few thousand episodes before it learns to copy
    names from the instruction; fresh names make copying the only way to predict them (the
    ``train.fresh_names`` augmentation, docs/EXPERIMENTS.md). The corpus itself is not changed.
    """
    values = sorted({v for v in chat.slot_values if renamable(v, chat)}, key=lambda v: (-len(v), v))
    if not values:
        return chat
    taken = set(chat.slot_values)
    mapping: dict[str, str] = {}
    for v in values:
        for _ in range(50):
            new = fresh_name(rng)
            if new not in taken:
                break
        taken.add(new)
        mapping[v] = new
    pattern = re.compile("|".join(_word(v).pattern for v in values))
    messages = tuple((role, pattern.sub(lambda m: mapping[m.group(0)], content)) for role, content in chat.messages)
    return replace(chat, messages=messages, slot_values=tuple(mapping.get(v, v) for v in chat.slot_values))


def _chat_from_row(row: dict, where: str) -> Chat:
    msgs = row.get("messages")
    if not isinstance(msgs, list) or not msgs:
        raise DataError("'messages' must be a non-empty list of {role, content}", where=where)
    out = []
    for j, m in enumerate(msgs):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str) or not isinstance(m.get("content"), str):
            raise DataError(f"messages[{j}] must be {{role: str, content: str}}, got {m!r:.80}", where=where)
        if m["role"] not in ROLES:
            raise DataError(f"messages[{j}].role must be one of {ROLES}, got {m['role']!r}", where=where)
        out.append((m["role"], m["content"]))
    slots = row.get("slot_values") or []
    if not isinstance(slots, list) or not all(isinstance(s, str) for s in slots):
        raise DataError("'slot_values' must be a list of strings", where=where)
    skills = row.get("skills") or []
    if not isinstance(skills, list) or not all(isinstance(s, str) for s in skills):
        raise DataError("'skills' must be a list of strings", where=where)
    return Chat(messages=tuple(out), slot_values=tuple(slots), skills=tuple(skills))


def encode_names(chats: Sequence[Chat], codec) -> list[Chat]:
    """Each chat with its names replaced by placeholders (``names.NameCodec``, one mapping per
    chat); slot values are mapped the same way."""
    out = []
    for chat in chats:
        messages, mapping = codec.encode_messages(chat.as_dicts())
        out.append(replace(
            chat,
            messages=tuple((m["role"], m["content"]) for m in messages),
            slot_values=tuple(codec.encode(v, mapping) for v in chat.slot_values),
        ))
    return out


def load_corpus(corpus_dir: Path, subsets: Sequence[str] = ()) -> dict[str, list[Chat]]:
    """Read the curated Hugging Face DatasetDict (splits 'train' and 'validation') in stored order.

    ``subsets`` (``train.subsets``): the train split keeps only rows of these subsets (the
    ``subset`` column: seed_based, skill_based, dataset_adapters); empty keeps all. Validation
    stays whole, so arms on different subsets are scored on the same validation loss."""
    import datasets

    corpus_dir = Path(corpus_dir)
    if not corpus_dir.exists():
        raise DataError("corpus directory not found (run the balance stage first)", where=str(corpus_dir))
    try:
        dd = datasets.load_from_disk(str(corpus_dir))
    except (FileNotFoundError, ValueError) as e:
        raise DataError(f"not a dataset saved with save_to_disk ({e})", where=str(corpus_dir))
    if not isinstance(dd, datasets.DatasetDict):
        raise DataError("expected a DatasetDict with splits 'train' and 'validation', got one Dataset", where=str(corpus_dir))
    if "train" not in dd:
        raise DataError(f"no 'train' split (found: {', '.join(dd.keys()) or 'none'})", where=str(corpus_dir))
    out: dict[str, list[Chat]] = {}
    for split in ("train", "validation"):
        if split not in dd:
            out[split] = []
            continue
        ds = dd[split]
        if split == "train" and subsets:
            ds = _keep_subsets(ds, subsets, f"{corpus_dir}[train]")
        if "messages" not in ds.column_names:
            raise DataError(f"split '{split}' has no 'messages' column", where=str(corpus_dir))
        cols = [c for c in ("messages", "slot_values", "skills") if c in ds.column_names]
        out[split] = [
            _chat_from_row(row, f"{corpus_dir}[{split}][{i}]") for i, row in enumerate(ds.select_columns(cols))
        ]
    return out


def _keep_subsets(ds, subsets: Sequence[str], where: str):  # type: ignore[no-untyped-def]
    if "subset" not in ds.column_names:
        raise DataError("train.subsets is set but the split has no 'subset' column", where=where)
    rows = ds["subset"]
    unknown = sorted(set(subsets) - set(rows))
    if unknown:
        raise DataError(f"train.subsets: no '{unknown[0]}' rows (the split has: {', '.join(sorted(set(rows)))})",
                        where=where)
    wanted = set(subsets)
    return ds.select([i for i, s in enumerate(rows) if s in wanted])


def encode_chat(tokenizer, messages: Sequence[object]) -> Example:
    """Tokenize a chat with the tokenizer's chat template; labels are the token ids of the
    template's ``{% generation %}`` spans (assistant content + ``<|im_end|>``), else -100."""
    out = tokenizer.apply_chat_template(
        as_chat_dicts(messages), tokenize=True, return_dict=True, return_assistant_tokens_mask=True
    )
    ids = list(out["input_ids"])
    labels = [i if m else IGNORE for i, m in zip(ids, out["assistant_masks"])]
    return Example(input_ids=ids, labels=labels)


def with_prompt_loss(ex: Example) -> Example:
    """The example with every token labelled (``train.prompt_loss``): the instruction and the
    observations are predicted too, which adds training signal at no extra compute. An episode's
    first token is still never a target (nothing before it predicts it: the shifted loss, and the
    flat collator's -100 at each episode start)."""
    return Example(input_ids=ex.input_ids, labels=list(ex.input_ids))


def encode_split(tokenizer, chats: Sequence[Chat], max_seq_len: int) -> Encoded:
    """Encode a split in order, dropping (and counting) chats that are too long or train nothing."""
    enc = Encoded()
    for chat in chats:
        ex = encode_chat(tokenizer, chat.as_dicts())
        if len(ex.input_ids) > max_seq_len:
            enc.dropped_too_long += 1
        elif all(lab == IGNORE for lab in ex.labels[1:]):
            enc.dropped_no_assistant += 1
        else:
            enc.examples.append(ex)
            enc.chats.append(chat)
    return enc


def epoch_order(n: int, epoch: int, seed: int) -> list[int]:
    """Example order of one epoch: stored (curriculum) order first, a seeded shuffle after."""
    if epoch == 0:
        return list(range(n))
    return np.random.default_rng([seed, epoch]).permutation(n).tolist()


def index_stream(n: int, seed: int) -> Iterator[int]:
    """Endless example indices, epoch after epoch."""
    if n == 0:
        return
    epoch = 0
    while True:
        yield from epoch_order(n, epoch, seed)
        epoch += 1


def ordered(examples: Sequence[Example], seed: int) -> Iterator[Example]:
    """Endless examples in training order (index_stream)."""
    for i in index_stream(len(examples), seed):
        yield examples[i]


def collate_padded(examples: Sequence[Example], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-pad to the longest example; padded label positions are -100 and masked out."""
    width = max(len(e.input_ids) for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for r, e in enumerate(examples):
        n = len(e.input_ids)
        ids[r, :n] = torch.tensor(e.input_ids)
        labels[r, :n] = torch.tensor(e.labels)
        mask[r, :n] = 1
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}


# Packing looks this many examples ahead for ones that fill a row's tail. Greedy packing of
# consecutive episodes left ~9% of the batch as padding (measured on ~200-token episodes, seq 512,
# bench/bench_train.py); this look-ahead leaves ~4%, and an example still enters a row within
# this many rows of its place in the (curriculum) order, because each row starts with the oldest.
PACK_LOOKAHEAD = 64


def example_stream(enc: Encoded, seed: int, max_seq_len: int, tokenizer, fresh_names: float,
                   prompt_loss: bool = False) -> Iterator[Example]:
    """Examples in training order (index_stream), each draw renamed with fresh slot names with
    probability ``fresh_names`` (rename_slots), every token labelled with ``prompt_loss``
    (with_prompt_loss). The k-th draw's coin and names come from ``Random((seed, k))``: a pure
    function of (examples, seed, k), so resuming can fast-forward."""
    label = with_prompt_loss if prompt_loss else (lambda ex: ex)
    if fresh_names <= 0.0:
        yield from ordered([label(ex) for ex in enc.examples] if prompt_loss else enc.examples, seed)
        return
    for k, i in enumerate(index_stream(len(enc.examples), seed)):
        ex = enc.examples[i]
        rng = random.Random(f"{seed}:{k}")
        if rng.random() < fresh_names:
            renamed = encode_chat(tokenizer, rename_slots(enc.chats[i], rng).as_dicts())
            if len(renamed.input_ids) <= max_seq_len:
                ex = renamed
        yield label(ex)


def row_stream(examples: Iterator[Example], max_seq_len: int, packing: bool) -> Iterator[list[Example]]:
    """Training rows forever: one example per row, or examples packed up to max_seq_len.

    Packed rows start with the oldest waiting example, then take the largest waiting example that
    still fits, until none does. Deterministic: a pure function of the example stream, so a
    resumed run can fast-forward it.
    """
    stream = examples
    if not packing:
        for ex in stream:
            yield [ex]
        return
    waiting: list[Example] = []

    def refill() -> None:
        while len(waiting) < PACK_LOOKAHEAD:
            waiting.append(next(stream))

    while True:
        refill()
        row = [waiting.pop(0)]
        room = max_seq_len - len(row[0].input_ids)
        while True:
            refill()
            best = -1
            for j, e in enumerate(waiting):
                n = len(e.input_ids)
                if n <= room and (best < 0 or n > len(waiting[best].input_ids)):
                    best = j
            if best < 0:
                break
            e = waiting.pop(best)
            row.append(e)
            room -= len(e.input_ids)
        yield row


def training_rows(enc: Encoded, tokenizer, params) -> Iterator[list[Example]]:
    """The loop's endless row stream for an encoded split (order, fresh names, packing);
    ``params`` is a TrainParams."""
    examples = example_stream(enc, params.seed, params.max_seq_len, tokenizer, params.fresh_names, params.prompt_loss)
    return row_stream(examples, params.max_seq_len, params.packing)


def collate_flat(rows: Sequence[Sequence[Example]]) -> dict[str, torch.Tensor]:
    """Every episode of the batch's rows concatenated into one sequence (no padding at all), by
    transformers' DataCollatorWithFlattening: position ids restart per episode, ``cu_seq_lens``
    mark the boundaries for the varlen attention (model.VARLEN_ATTENTION), and each episode's
    first label is -100 so no episode predicts the next one's first token."""
    from transformers import DataCollatorWithFlattening

    flat = DataCollatorWithFlattening(return_flash_attn_kwargs=True)
    batch = flat([{"input_ids": e.input_ids, "labels": e.labels} for r in rows for e in r], return_tensors="pt")
    # Tensors only (the loop moves the batch to the device); max_length_* are not needed here.
    return {k: batch[k] for k in ("input_ids", "labels", "position_ids", "cu_seq_lens_q", "cu_seq_lens_k")}


def collate(rows: Sequence[Sequence[Example]], pad_id: int, packing: bool) -> dict[str, torch.Tensor]:
    """One batch of rows as model inputs: packed rows flattened (collate_flat), or padded."""
    if packing:
        return collate_flat(rows)
    return collate_padded([r[0] for r in rows], pad_id)


def real_tokens(rows: Sequence[Sequence[Example]]) -> int:
    """Non-pad tokens of a batch of rows."""
    return sum(len(e.input_ids) for r in rows for e in r)
