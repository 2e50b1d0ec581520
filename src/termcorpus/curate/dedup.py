"""Near-duplicate removal with MinHash LSH (datasketch), keeping the first of each group.

A near duplicate is the same task instance written again with cosmetic differences: re-spaced
text, a different ``sleep 2``, a re-run of one task. What is compared: the instruction plus every
keystroke the agent typed (observations are the sandbox's business, and the JSON around the
keystrokes is boilerplate), with runs of whitespace collapsed to one space and digit runs masked
as ``0``, cut into word 3-gram shingles.

Variants of one template are *not* near duplicates, and the slot values say which is which.
Generated variants of a seed differ only in their slot values (names such as ``panda72.sh``,
thresholds, word lists), and a long template with one name in it stays above a 0.9 Jaccard
similarity however the name changes (measured on the repo's seeds: ``dbg_bash_arithmetic``
siblings share 85% of their shingles, and a 64-permutation MinHash estimate put some at 0.9).
Deleting them would remove exactly the name diversity the trainer needs to learn copying
(FACTS.md). So two trajectories whose slot values differ are different instances and never
compared; trajectories with equal slot values, or without slots (imported and synthesized tasks,
whose text is all there is), are compared on their text.

LSH proposes candidates among the kept records; the exact Jaccard index of the shingle sets
decides (the 64-permutation estimate alone is off by ~0.05). Records are processed in the order
given (build_corpus sorts them by id), only kept records enter the index, and the permutations
come from a fixed seed, so the same input always drops the same records.
"""

from __future__ import annotations

import re
from typing import Iterable, Mapping

from termcorpus.curate.filters import Filter, FilterResult, keystrokes_of
from termcorpus.records import Trajectory

SHINGLE_WORDS = 3
MINHASH_SEED = 1  # fixed: which records are dropped must not depend on any other parameter
MINHASH_SCHEME = "affine32"  # pinned so a datasketch default change cannot move the result

_WS = re.compile(r"\s+")
_DIGITS = re.compile(r"\d+")


def value_pattern(value: str) -> str:
    """Regex for a slot value that does not match inside a longer word (``a`` in ``cat``, ``5`` in ``53``)."""
    pat = re.escape(value)
    if re.match(r"\w", value):
        pat = r"(?<!\w)" + pat
    if re.search(r"\w$", value):
        pat = pat + r"(?!\w)"
    return pat


def normalize(text: str) -> str:
    """Collapse whitespace and mask digit runs as ``0``."""
    return _WS.sub(" ", _DIGITS.sub("0", text)).strip()


def dedup_text(t: Trajectory) -> str:
    """What near-duplicate detection compares: the instruction, then everything typed."""
    return t.instruction + "\n" + keystrokes_of(t)


def shingles(text: str, k: int = SHINGLE_WORDS) -> frozenset[str]:
    """Word k-grams of ``text`` (a text of k words or fewer is one shingle)."""
    words = text.split(" ") if text else []
    if len(words) <= k:
        return frozenset({" ".join(words)})
    return frozenset(" ".join(words[i : i + k]) for i in range(len(words) - k + 1))


def instance_key(slots: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The slot values that identify a task instance (empty: unknown, compare on text alone)."""
    return tuple(sorted((k, v.strip()) for k, v in slots.items()))


def same_instance(a: tuple[tuple[str, str], ...], b: tuple[tuple[str, str], ...]) -> bool:
    """Could two trajectories be the same task instance? Not when both name different slot values."""
    return not a or not b or a == b


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


class NearDupFilter(Filter):
    """Drop a trajectory whose shingles overlap an earlier kept one's by >= threshold (Jaccard)."""

    name = "near_duplicate"
    reasons = ("near_duplicate",)

    def __init__(self, threshold: float = 0.9, num_perm: int = 64) -> None:
        from datasketch import MinHash, MinHashLSH

        super().__init__()
        self.threshold = threshold
        self._minhash = MinHash
        self._template = MinHash(num_perm=num_perm, seed=MINHASH_SEED, scheme=MINHASH_SCHEME)
        self._lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        # kept id -> (arrival number, instance key, shingles); arrival number -> id
        self._kept: dict[str, tuple[int, tuple[tuple[str, str], ...], frozenset[str]]] = {}
        self._ids: list[str] = []

    def _signature(self, sh: frozenset[str]):
        m = self._minhash(num_perm=len(self._template.hashvalues), seed=MINHASH_SEED, scheme=MINHASH_SCHEME,
                          permutations=self._template.permutations)
        m.update_batch([s.encode("utf-8") for s in sorted(sh)])
        return m

    def filter(self, record: Trajectory) -> FilterResult:
        sh = shingles(normalize(dedup_text(record)))
        key = instance_key(record.slots)
        sig = self._signature(sh)
        matches = sorted(
            self._kept[k][0] for k in self._lsh.query(sig)
            if same_instance(key, self._kept[k][1]) and jaccard(sh, self._kept[k][2]) >= self.threshold
        )
        if matches:
            # query() returns a set: name the earliest kept match, so the detail is stable
            return False, "near_duplicate", f"near duplicate of {self._ids[matches[0]]}"
        if record.id not in self._kept:  # MinHashLSH refuses a key twice; ids are unique after load
            self._kept[record.id] = (len(self._ids), key, sh)
            self._ids.append(record.id)
            self._lsh.insert(record.id, sig)
        return True


def near_duplicate_pairs(records: Iterable[Trajectory], threshold: float = 0.9,
                         num_perm: int = 64) -> list[tuple[str, str]]:
    """``(dropped id, kept id)`` for every record the filter would drop (for reports and tests)."""
    f = NearDupFilter(threshold, num_perm)
    f.run(records)
    return [(r.id, r.detail.removeprefix("near duplicate of ")) for r in f.rejects]
