"""Generators of plain text: word lines with an exact count of matches, key=value files, word-set
pairs, messy text to clean, e-mail lists (data processing)."""

from __future__ import annotations

import random

from termcorpus.generate.datagen._common import _distinct_words, _filler, _WORD_POOLS, _words
from termcorpus.generate.pools import NOUNS, USERS


def gen_lines(rng: random.Random, avoid: frozenset[str], *, n: int, pool: str = "noun", words: int = 1,
              include: str = "", k: int = 0, dups: int = 0) -> str:
    """``n`` lines of ``words`` pool words; exactly ``k`` lines contain ``include``; ``dups`` repeats."""
    if pool not in _WORD_POOLS:
        raise ValueError(f"pool must be one of {', '.join(sorted(_WORD_POOLS))}")
    if k > n or dups >= n:
        raise ValueError("k must be <= n and dups < n")
    src = _WORD_POOLS[pool]
    lines: list[str] = []
    for i in range(n - dups):
        ws = _words(rng, avoid, words, include, src)
        if i < k:
            ws.insert(rng.randint(0, len(ws)), include)
        lines.append(" ".join(ws))
    # duplicates copy lines that do not hold `include`, so the count of matches stays exactly k
    plain = lines[k:] or lines
    lines.extend(rng.choice(plain) for _ in range(dups))
    rng.shuffle(lines)
    return "\n".join(lines) + "\n"


def gen_kv(rng: random.Random, avoid: frozenset[str], *, keys: list, sep: str = "=", shuffle: bool = False) -> str:
    """``key<sep>value`` config lines for the given keys (values: numbers or words); with
    ``shuffle`` the lines come in random order (so a key's position is not part of the template)."""
    out = []
    for key in keys:
        val = str(rng.randint(1, 9999)) if rng.random() < 0.5 else _filler(rng, NOUNS, avoid)
        out.append(f"{key}{sep}{val}")
    if shuffle:
        rng.shuffle(out)
    return "\n".join(out) + "\n"


def gen_join_pair(rng: random.Random, avoid: frozenset[str], *, a: str, b: str, n: int, k: int) -> dict[str, str]:
    """Two files of ``key value`` lines (space-separated, unsorted): ``a`` maps keys to users, ``b``
    to numbers; each has ``n`` keys and exactly ``k`` keys occur in both."""
    if k > n:
        raise ValueError("k must be <= n")
    keys = _distinct_words(rng, avoid, 2 * n - k)
    ka, kb = keys[:n], keys[:k] + keys[n:]
    rng.shuffle(ka)
    rng.shuffle(kb)
    nums = rng.sample(range(10, 1000), len(kb))
    return {a: "".join(f"{x} {rng.choice(USERS)}\n" for x in ka),
            b: "".join(f"{x} {v}\n" for x, v in zip(kb, nums))}


def gen_word_sets(rng: random.Random, avoid: frozenset[str], *, a: str, b: str, n: int, k: int, dups: int = 0) -> dict[str, str]:
    """Two word lists (one word per line, unsorted) ``a`` and ``b`` of ``n`` distinct words each,
    exactly ``k`` words in both; ``dups`` words of each list appear twice."""
    if k > n or dups > n:
        raise ValueError("k and dups must be <= n")
    words = _distinct_words(rng, avoid, 2 * n - k)
    wa, wb = words[:n], words[:k] + words[n:]
    wa = wa + rng.sample(wa, dups)
    wb = wb + rng.sample(wb, dups)
    rng.shuffle(wa)
    rng.shuffle(wb)
    return {a: "\n".join(wa) + "\n", b: "\n".join(wb) + "\n"}


def gen_messy(rng: random.Random, avoid: frozenset[str], *, n: int, blank: int = 0, comments: int = 0,
              trailing: int = 0, spaces: int = 0) -> str:
    """``n`` lines of 2-4 words plus ``blank`` empty lines and ``comments`` lines starting with
    '#'; ``trailing`` content lines end in spaces/tabs; ``spaces`` lines have runs of spaces."""
    if trailing > n or spaces > n:
        raise ValueError("trailing and spaces must be <= n")
    lines = [_words(rng, avoid, rng.randint(2, 4)) for _ in range(n)]
    text = []
    spaced = set(rng.sample(range(n), spaces))
    trail = set(rng.sample(range(n), trailing))
    for i, ws in enumerate(lines):
        line = (" " * rng.randint(2, 4)).join(ws) if i in spaced else " ".join(ws)
        if i in trail:
            line += rng.choice(("  ", " ", "\t", " \t", "   "))
        text.append(line)
    for _ in range(comments):
        text.insert(rng.randint(0, len(text)), "# " + " ".join(_words(rng, avoid, 3)))
    for _ in range(blank):
        text.insert(rng.randint(1, len(text)), "")
    return "\n".join(text) + "\n"


def gen_emails(rng: random.Random, avoid: frozenset[str], *, n: int, k: int) -> str:
    """``n`` lines of text; exactly ``k`` of them contain one e-mail address."""
    lines = []
    for i in range(n):
        ws = _words(rng, avoid, rng.randint(3, 6))
        if i < k:
            ws.insert(rng.randint(0, len(ws)), f"{rng.choice(USERS)}.{rng.choice(NOUNS)}@{rng.choice(NOUNS)}.example")
        lines.append(" ".join(ws))
    rng.shuffle(lines)
    return "\n".join(lines) + "\n"
