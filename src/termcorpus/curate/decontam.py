"""N-gram decontamination of the training split against the evaluation material.

Evaluation material (``EvalItem``): the held-out task variants (``data/tasks/heldout.jsonl``,
instruction + reference solution) and the validation split's trajectories (their tasks are the
``heldout_families`` evaluation set; instruction + keystrokes). A training trajectory is dropped
(``dropped_contaminated``) when it contains a concrete evaluation instance, detected as shared
n-grams of whitespace tokens (``balance.decontam_ngram``, 14 by default).

Why not every shared 14-gram: held-out variants are, by design, fresh variants of families the
model trains on. They share long template phrases with their training siblings ("Some rows of
X.csv (header row, comma-separated) have an empty ... field"), so plain 14-gram matching would
delete whole training families (measured on the repo's seeds: 172 of 732 training trajectories,
20 families) and the held-out-variant evaluation would measure nothing. What must not leak is an
*instance*: the template filled with the evaluation task's own slot values. So:

- an evaluation n-gram is indexed only if one of its tokens carries a slot value of that item
  (``Task.slots`` / ``Trajectory.slots``, matched as whole words): pure template text is not;
- a training trajectory contains an item when the n-grams it shares with one of the item's texts
  (its instruction, or its solution) carry *every* slot value that text's n-grams carry. Sharing
  some values is not enough: names and numbers come from small pools, so a sibling may well reuse
  the column ``height`` and the index ``2`` (measured: requiring one or two shared values still
  removed 36 and 13 training siblings; requiring all removes none and still catches every copy);
- an evaluation text shorter than n tokens (a 9-word instruction) is one n-gram of its own length,
  if it has at least ``MIN_SHORT_TOKENS`` tokens;
- an item without slot values in its texts (an imported or synthesized task) has no siblings, so
  each of its n-grams counts and one shared n-gram is enough: classic n-gram decontamination.

Text of a training trajectory: its instruction, all its keystrokes in order, and every message
(the JSON-escaped assistant replies and the observations, where an evaluation solution could also
hide). N-grams never span two of these pieces. Tokens are compared exactly (case and punctuation
included): this detects copies, not paraphrases.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

from termcorpus.curate.dedup import value_pattern
from termcorpus.curate.filters import Filter, FilterResult, keystrokes_of
from termcorpus.records import Task, Trajectory

_TOKEN = re.compile(r"\S+")

# An evaluation text shorter than n tokens is matched as a whole when it has at least this many
# (a 9-word instruction is still a concrete instance); shorter ones (a 4-token `sort a > b`) are
# too generic to call a copy.
MIN_SHORT_TOKENS = 8


@dataclass(frozen=True)
class EvalItem:
    """One piece of evaluation material: where it comes from, its texts and its slot values."""

    id: str
    kind: str  # "heldout_task" or "validation_trajectory"
    pieces: tuple[str, ...]
    slots: Mapping[str, str] = field(default_factory=dict)


def items_from_tasks(tasks: Iterable[Task]) -> list[EvalItem]:
    return [
        EvalItem(id=t.id, kind="heldout_task", pieces=(t.instruction, "\n".join(t.solution)), slots=dict(t.slots))
        for t in tasks
    ]


def items_from_trajectories(records: Iterable[Trajectory]) -> list[EvalItem]:
    return [
        EvalItem(id=t.id, kind="validation_trajectory", pieces=(t.instruction, keystrokes_of(t)), slots=dict(t.slots))
        for t in records
    ]


def training_pieces(t: Trajectory) -> tuple[str, ...]:
    return (t.instruction, keystrokes_of(t), *(m.content for m in t.messages))


def slot_tokens(text: str, slots: Mapping[str, str]) -> tuple[list[str], list[frozenset[str]]]:
    """The whitespace tokens of ``text`` and, for each, the names of the slots whose value it carries."""
    spans = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
    starts = [a for a, _ in spans]
    marks: list[set[str]] = [set() for _ in spans]
    for name, value in sorted(slots.items()):
        value = value.strip()
        if not value:
            continue
        for m in re.finditer(value_pattern(value), text):
            # tokens overlapping the match: from the one holding its first character onwards
            i = max(bisect_right(starts, m.start()) - 1, 0)
            while i < len(spans) and spans[i][0] < m.end():
                if spans[i][1] > m.start():
                    marks[i].add(name)
                i += 1
    return [text[a:b] for a, b in spans], [frozenset(s) for s in marks]


class DecontamIndex:
    """The evaluation n-grams that count, each mapped to (item, piece, slots it carries)."""

    def __init__(self, items: Sequence[EvalItem], n: int) -> None:
        self.n = n
        self.items = list(items)
        # per (item, piece): the slots its indexed n-grams carry; a training text must reproduce
        # all of them (empty: a slotless piece, where any one shared n-gram is enough)
        self.need: dict[tuple[int, int], frozenset[str]] = {}
        self.index: dict[tuple[str, ...], list[tuple[int, int, frozenset[str]]]] = defaultdict(list)
        self.widths: set[int] = {n}
        for idx, item in enumerate(self.items):
            analysed = [slot_tokens(p, item.slots) for p in item.pieces]
            slotted = any(m for _, marks in analysed for m in marks)
            for pno, (tokens, marks) in enumerate(analysed):
                grams: dict[tuple[str, ...], frozenset[str]] = {}
                # a piece shorter than n tokens (a short instruction) is one n-gram of its own length
                width = len(tokens) if min(n, MIN_SHORT_TOKENS) <= len(tokens) < n else n
                if width < n:
                    self.widths.add(width)
                for i in range(len(tokens) - width + 1):
                    carried = frozenset().union(*marks[i : i + width])
                    if slotted and not carried:
                        continue  # pure template text: shared with every sibling variant
                    key = tuple(tokens[i : i + width])
                    grams[key] = grams.get(key, frozenset()) | carried
                if grams:
                    self.need[idx, pno] = frozenset().union(*grams.values())
                for key, carried in grams.items():
                    self.index[key].append((idx, pno, carried))
        # first tokens of all indexed n-grams: most training windows are skipped on one set lookup
        self.first = frozenset(key[0] for key in self.index)

    def __len__(self) -> int:
        return len(self.index)

    def match(self, pieces: Iterable[str]) -> EvalItem | None:
        """The first evaluation item (in index order) whose instance the pieces contain, or None."""
        found = self.matches(pieces)
        return found[0] if found else None

    def matches(self, pieces: Iterable[str]) -> list[EvalItem]:
        """Every evaluation item whose instance the pieces contain, in index order."""
        covered: dict[tuple[int, int], set[str]] = {}
        for piece in pieces:
            tokens = piece.split()
            for i, tok in enumerate(tokens):
                if tok not in self.first:
                    continue
                for width in self.widths:
                    if i + width > len(tokens):
                        continue
                    for idx, pno, carried in self.index.get(tuple(tokens[i : i + width]), ()):
                        covered.setdefault((idx, pno), set()).update(carried)
        hits = sorted({unit[0] for unit in covered if covered[unit] >= self.need[unit]})
        return [self.items[i] for i in hits]


class DecontamFilter(Filter):
    """Drop training trajectories that contain a concrete evaluation instance (see module doc)."""

    name = "contaminated"
    reasons = ("contaminated",)

    def __init__(self, items: Sequence[EvalItem], n: int = 14) -> None:
        super().__init__()
        self.index = DecontamIndex(items, n)

    def filter(self, record: Trajectory) -> FilterResult:
        hit = self.index.match(training_pieces(record))
        if hit is None:
            return True
        return False, "contaminated", f"shares {self.index.n}-grams with {hit.kind} {hit.id}"
