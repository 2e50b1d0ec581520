"""Helpers the generators share: pool words that avoid the slot values, clock times, IPs, versions."""

from __future__ import annotations

import random

from termcorpus.generate.pools import ADJECTIVES, CATEGORIES, DIRS, NOUNS, USERS, VERBS


def _filler(rng: random.Random, pool: tuple[str, ...], avoid: frozenset[str], include: str = "") -> str:
    """A pool word that is not a slot value and does not contain ``include`` as a substring."""
    while True:
        w = rng.choice(pool)
        if w not in avoid and not (include and include in w):
            return w


_WORD_POOLS: dict[str, tuple[str, ...]] = {
    "noun": NOUNS, "adj": ADJECTIVES, "verb": VERBS, "user": USERS, "category": CATEGORIES, "dir": DIRS,
}


def _words(rng: random.Random, avoid: frozenset[str], n: int, include: str = "", pool: tuple[str, ...] = NOUNS) -> list[str]:
    return [_filler(rng, pool, avoid, include) for _ in range(n)]


def _distinct_words(rng: random.Random, avoid: frozenset[str], n: int, pool: tuple[str, ...] = NOUNS) -> list[str]:
    return rng.sample([w for w in pool if w not in avoid], n)


def _clock(rng: random.Random, n: int) -> list[str]:
    t = rng.randint(0, 20000)
    out = []
    for _ in range(n):
        t += rng.randint(1, 300)
        out.append(f"2024-03-{1 + t // 86400:02d} {t // 3600 % 24:02d}:{t // 60 % 60:02d}:{t % 60:02d}")
    return out


def _ips(rng: random.Random, k: int) -> list[str]:
    ips: set[str] = set()
    while len(ips) < k:
        ips.add(f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}")
    return sorted(ips)


def _version(rng: random.Random, avoid: frozenset[str] = frozenset()) -> str:
    while True:
        v = f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 20)}"
        if v not in avoid:
            return v
