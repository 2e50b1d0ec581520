"""The packed row stream: rows fit max_seq_len, nothing is lost or repeated, order roughly kept."""

from __future__ import annotations

import itertools
import random

from termcorpus.train import data as D
from termcorpus.train.loop import PACK_LOOKAHEAD, _row_stream


def _examples(n: int, seed: int = 0) -> list[D.Example]:
    rng = random.Random(seed)
    return [D.Example(input_ids=[i] * rng.randint(20, 200), labels=[i] * 3) for i in range(n)]


def _first_epoch(rows, n):
    seen: list[int] = []
    for row in rows:
        seen.extend(e.input_ids[0] for e in row)
        if len(seen) >= n:
            return seen[:n]


def test_packed_rows_fit_and_fill():
    ex = _examples(500)
    rows = list(itertools.islice(_row_stream(D.ordered(ex, 0), max_seq_len=512, packing=True), 100))
    assert all(sum(len(e.input_ids) for e in r) <= 512 for r in rows)
    fill = sum(len(e.input_ids) for r in rows for e in r) / (512 * len(rows))
    assert fill > 0.97


def test_packing_keeps_each_example_once_and_close_to_its_place():
    n = 300
    ex = _examples(n, seed=1)
    # The first epoch is the stored order; the look-ahead window delays no example past its end.
    order = _first_epoch(_row_stream(D.ordered(ex, 0), max_seq_len=512, packing=True), n - PACK_LOOKAHEAD)
    assert len(set(order)) == len(order)
    assert all(i < n for i in order)
    # An example can be pulled forward only from inside the look-ahead window.
    assert all(pos >= i - PACK_LOOKAHEAD for pos, i in enumerate(order))
    # And no example is held back forever: the first 100 are all placed within 250 placements.
    assert set(range(100)) <= set(order[:250])


def test_packed_stream_is_deterministic():
    ex = _examples(200, seed=2)
    a = list(itertools.islice(_row_stream(D.ordered(ex, 3), max_seq_len=512, packing=True), 150))
    b = list(itertools.islice(_row_stream(D.ordered(ex, 3), max_seq_len=512, packing=True), 150))
    assert a == b
