"""Data generators keep the promises tests rely on: exact counts, one maximum, typed columns."""

from __future__ import annotations

import json
import random

import pytest

from termcorpus.generate.datagen import run_generator


def gen(name, rng_seed=0, avoid=frozenset(), **args):
    return run_generator(name, {k: str(v) for k, v in args.items()}, random.Random(rng_seed), frozenset(avoid))


@pytest.mark.parametrize("seed", range(20))
def test_lines_hold_the_word_exactly_k_times_as_a_substring(seed):
    text = gen("lines", seed, avoid={"star"}, n=12, words=4, include="star", k=3)
    assert sum("star" in line for line in text.splitlines()) == 3


@pytest.mark.parametrize("seed", range(20))
def test_log_has_exactly_k_lines_at_the_level_and_ki_with_the_word(seed):
    text = gen("log", seed, avoid={"star"}, n=20, level="ERROR", k=4, include="star", ki=5)
    lines = text.splitlines()
    assert sum(l.split()[2] == "ERROR" for l in lines) == 4
    assert sum("star" in l for l in lines) == 5


@pytest.mark.parametrize("seed", range(20))
def test_access_log_has_one_busiest_client(seed):
    counts = {}
    for line in gen("access_log", seed, n=15).splitlines():
        counts[line.split()[0]] = counts.get(line.split()[0], 0) + 1
    top = sorted(counts.values(), reverse=True)
    assert len(top) == 1 or top[0] > top[1]


def test_csv_numeric_columns_are_distinct_and_place_moves_a_column():
    text = gen("csv", header="id,score,name", types="id,int:1:50,name", rows=10, place="score", at=3)
    rows = [l.split(",") for l in text.splitlines()]
    assert rows[0] == ["id", "name", "score"]
    scores = [r[2] for r in rows[1:]]
    assert len(set(scores)) == 10


def test_maybe_int_column_has_holes_and_values():
    text = gen("csv", header="id,v", types="id,maybe_int:1:99", rows=8)
    vals = [l.split(",")[1] for l in text.splitlines()[1:]]
    assert "" in vals and any(vals)


def test_records_keep_numbers_as_numbers():
    objs = json.loads(gen("records", fields="id,n", types="id,int:1:9", n=3))
    assert all(isinstance(o["n"], int) for o in objs)


def test_tree_marks_exactly_k_files_and_makes_empty_ones():
    files = gen("tree", ext="py", k=3, n=4, empty=2, marker="TODO", marked=2, depth=2)
    assert sum(p.endswith(".py") for p in files) >= 3
    assert sum(t == "" for t in files.values()) == 2
    assert sum("TODO" in t for t in files.values()) == 2


def test_checksums_list_has_exactly_one_mismatch():
    import hashlib

    files = gen("checksums", dir="d", n=5, sums="s.sha256")
    bad = [p for h, p in (l.split() for l in files["s.sha256"].splitlines())
           if hashlib.sha256(files[p].encode()).hexdigest() != h]
    assert len(bad) == 1


def test_bad_arguments_are_one_line_value_errors():
    with pytest.raises(ValueError, match="must be an integer"):
        gen("lines", n="x")
    with pytest.raises(ValueError, match="unknown argument 'colour'"):
        gen("lines", n=3, colour="red")
    with pytest.raises(ValueError, match="missing argument 'n'"):
        gen("lines")
    with pytest.raises(ValueError, match="header has 2 names but types has 1"):
        gen("csv", header="a,b", types="id", rows=2)
