"""Names as placeholders: the tiny model sees ``<n0>``, ``<n1>``... where a chat has its names.

Why: a model trained from scratch on a few thousand episodes learns the commands of a template
long before it learns to spell an unseen file name out of BPE pieces, so on a task whose names
it never saw it writes names it did see (docs/EXPERIMENTS.md, the ``name_codec`` arms). Copying
a placeholder token is one step, the same for every name: the model learns *where* the
instruction's first, second... name goes, and the codec puts the real names back.

What counts as a name is learnt from the train split only: a word (a run of letters, digits and
``_``) is vocabulary when the text uses it and it is a slot value in at most half of the
instructions that mention it (``ls``, ``grep``, ``csv``, ``lines``). Every other word of a chat,
including every word training never saw, becomes a placeholder, numbered by first appearance in
the chat (instruction first, so a name keeps its number over the whole episode). Backslash
escapes (``\\n`` inside JSON replies) are never part of a word. Encoding is lossless: ``decode``
with the chat's mapping gives back the original text, and a chat with more than
``N_PLACEHOLDERS`` distinct names keeps the later ones spelled out.

The codec is saved beside the weights as ``name_codec.json``; ``HFModelAgent`` loads it with the
checkpoint, encodes every prompt and decodes every reply, so the sandbox, the corpus and the
user only ever see real names.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from termcorpus.errors import DataError

CODEC_FILE = "name_codec.json"
N_PLACEHOLDERS = 96
PLACEHOLDERS = tuple(f"<n{i}>" for i in range(N_PLACEHOLDERS))
# An escape first, so that the 'n' of '\n' never starts a word.
_WORDS = re.compile(r"\\.|[A-Za-z0-9_]+")
_PLACEHOLDER = re.compile(r"<n(\d+)>")
# A word that is a slot value in more than this share of the instructions that mention it is a name.
NAME_SHARE = 0.5


def words(text: str) -> Iterable[str]:
    """The words of ``text`` (escapes skipped)."""
    return (m.group(0) for m in _WORDS.finditer(text) if not m.group(0).startswith("\\"))


def _instruction(messages: Sequence[tuple[str, str]]) -> str:
    return next((c for r, c in messages if r == "user"), "")


@dataclass(frozen=True)
class NameCodec:
    """The vocabulary of words kept as they are; every other word is a name."""

    vocabulary: frozenset[str]

    @classmethod
    def learn(cls, chats: Sequence) -> "NameCodec":
        """Learn from chats (``train.data.Chat``: ``messages`` and ``slot_values``)."""
        seen: set[str] = set()
        mentioned: Counter[str] = Counter()
        as_slot: Counter[str] = Counter()
        for chat in chats:
            for _, content in chat.messages:
                seen.update(words(content))
            in_instruction = set(words(_instruction(chat.messages)))
            slot_words = {w for v in chat.slot_values for w in words(v)}
            mentioned.update(in_instruction)
            as_slot.update(in_instruction & slot_words)
        vocab = {w for w in seen if as_slot[w] <= NAME_SHARE * mentioned[w]}
        return cls(frozenset(vocab))

    # -- one chat -------------------------------------------------------------------------
    def mapping(self, texts: Iterable[str]) -> dict[str, str]:
        """name -> placeholder for the names of ``texts``, numbered by first appearance."""
        out: dict[str, str] = {}
        for text in texts:
            for w in words(text):
                if w not in self.vocabulary and w not in out and len(out) < N_PLACEHOLDERS:
                    out[w] = PLACEHOLDERS[len(out)]
        return out

    @staticmethod
    def encode(text: str, mapping: dict[str, str]) -> str:
        if not mapping:
            return text
        return _WORDS.sub(lambda m: mapping.get(m.group(0), m.group(0)), text)

    @staticmethod
    def decode(text: str, mapping: dict[str, str]) -> str:
        """Placeholders back to names; a placeholder the chat never bound stays as it is."""
        back = {p: w for w, p in mapping.items()}
        return _PLACEHOLDER.sub(lambda m: back.get(m.group(0), m.group(0)), text)

    def encode_messages(self, messages: Sequence[dict]) -> tuple[list[dict], dict[str, str]]:
        """A chat in ``{role, content}`` dicts with its names replaced, and the mapping used."""
        mapping = self.mapping([str(m["content"]) for m in messages])
        return [{**m, "content": self.encode(str(m["content"]), mapping)} for m in messages], mapping

    # -- persistence ----------------------------------------------------------------------
    def save(self, model_dir: Path) -> None:
        body = {"placeholders": N_PLACEHOLDERS, "name_share": NAME_SHARE, "vocabulary": sorted(self.vocabulary)}
        (Path(model_dir) / CODEC_FILE).write_text(json.dumps(body, indent=0) + "\n", encoding="utf-8")


def load_codec(model_dir: Path) -> NameCodec | None:
    """The codec saved with a checkpoint, or None when it was trained without one."""
    path = Path(model_dir) / CODEC_FILE
    if not path.is_file():
        return None
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        vocab = body["vocabulary"]
        if not isinstance(vocab, list) or not all(isinstance(w, str) for w in vocab):
            raise ValueError("'vocabulary' must be a list of strings")
        if body.get("placeholders") != N_PLACEHOLDERS:
            raise ValueError(f"'placeholders' must be {N_PLACEHOLDERS}, got {body.get('placeholders')!r}")
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise DataError(f"unreadable name codec: {e}", where=str(path)) from None
    return NameCodec(frozenset(vocab))
