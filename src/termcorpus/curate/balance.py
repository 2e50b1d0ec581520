"""Per-skill balancing of the training split: a cap on common skills, repeats of rare ones.

A trajectory counts once for each of its skills (a skill-composed task exercises several), and a
trajectory without skills counts for the pseudo-skill ``(none)``.

- ``SkillCapFilter`` (``balance.per_skill_cap``): keep at most ``cap`` trajectories per skill. It
  keeps a trajectory only if every one of its skills is still under the cap, so the cap is a true
  maximum. Candidates are taken rarest-skill first (then in seeded-hash order), so a trajectory
  that carries a rare skill is not crowded out by the common skills it also has.
- ``upsample_rare_skills`` (``balance.upsample_min``): repeat trajectories of a skill seen fewer
  than ``min_count`` times until it reaches ``min_count``. Copies get ids ``<id>#r1``, ``#r2``, ...
  and are counted as ``upsampled``. It runs after the cap, and a copy also counts for its other
  skills, so a co-occurring skill can end up slightly above the cap; that is the price of not
  splitting composed trajectories.

Both choose by a seeded hash of the ids (``stable_rank``): same input and seed, same corpus.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Iterable

from termcorpus.curate.filters import Filter, FilterResult, stable_rank
from termcorpus.records import Trajectory

NO_SKILL = "(none)"
REPEAT_SEP = "#r"


def skills_of(t: Trajectory) -> list[str]:
    return sorted(set(t.skills)) or [NO_SKILL]


def skill_counts(records: Iterable[Trajectory]) -> dict[str, int]:
    """Trajectories per skill (a trajectory counts for each of its skills), sorted by skill."""
    c: Counter[str] = Counter(s for t in records for s in skills_of(t))
    return dict(sorted(c.items()))


def domain_counts(records: Iterable[Trajectory]) -> dict[str, int]:
    return dict(sorted(Counter(t.domain for t in records).items()))


class SkillCapFilter(Filter):
    """Keep at most ``cap`` trajectories per skill (see module doc). Call ``fit`` first."""

    name = "skill_cap"
    reasons = ("skill_cap",)

    def __init__(self, cap: int, seed: int) -> None:
        super().__init__()
        self.cap, self.seed = cap, seed
        self.keep_ids: set[str] | None = None

    def fit(self, records: Iterable[Trajectory]) -> "SkillCapFilter":
        records = list(records)
        freq = skill_counts(records)
        order = sorted(records, key=lambda t: (min(freq[s] for s in skills_of(t)), stable_rank(self.seed, t.id), t.id))
        used: Counter[str] = Counter()
        keep: set[str] = set()
        for t in order:
            sk = skills_of(t)
            if all(used[s] < self.cap for s in sk):
                keep.add(t.id)
                used.update(sk)
        self.keep_ids = keep
        return self

    def filter(self, record: Trajectory) -> FilterResult:
        if self.keep_ids is None:
            raise RuntimeError("SkillCapFilter.fit must run before filter")
        if record.id in self.keep_ids:
            return True
        return False, "skill_cap", f"cap of {self.cap} reached for {', '.join(skills_of(record))}"


def upsample_rare_skills(records: list[Trajectory], min_count: int, seed: int) -> tuple[list[Trajectory], int]:
    """``records`` followed by repeats of rare-skill trajectories; returns (records, copies added).

    Skills are served rarest first (ties by name); each takes copies of its own trajectories
    round-robin in seeded-hash order until its count reaches ``min_count``.
    """
    if min_count <= 0 or not records:
        return list(records), 0
    counts: Counter[str] = Counter(skill_counts(records))
    by_skill: dict[str, list[Trajectory]] = defaultdict(list)
    for t in records:
        for s in skills_of(t):
            by_skill[s].append(t)
    taken = {t.id for t in records}
    n_copies: Counter[str] = Counter()
    extra: list[Trajectory] = []
    for skill in sorted(counts, key=lambda s: (counts[s], s)):
        pool = sorted(by_skill[skill], key=lambda t: (stable_rank(seed, t.id), t.id))
        i = 0
        while counts[skill] < min_count:
            src = pool[i % len(pool)]
            i += 1
            n_copies[src.id] += 1
            while f"{src.id}{REPEAT_SEP}{n_copies[src.id]}" in taken:  # an input id may already end in #rN
                n_copies[src.id] += 1
            new_id = f"{src.id}{REPEAT_SEP}{n_copies[src.id]}"
            taken.add(new_id)
            extra.append(src.model_copy(update={"id": new_id}))
            counts.update(skills_of(src))
    return list(records) + extra, len(extra)
