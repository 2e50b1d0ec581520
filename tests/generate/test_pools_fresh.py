"""Train-time fresh names never coincide with a name the task generator can draw."""

import random
import re

from termcorpus.generate.pools import POOLS, fresh_name

_SYLLABLE_VOWELS = re.compile(r"[aeiou]")


def test_fresh_names_are_disjoint_from_every_generator_pool():
    rng = random.Random(7)
    generated = {POOLS[pool](rng) for pool in POOLS for _ in range(3000)}
    fresh = {fresh_name(rng) for _ in range(20000)}
    assert len(fresh) > 19000  # a big space: draws almost never repeat
    assert not generated & fresh
    # and no generated value contains a fresh word as one of its '_'-separated parts
    parts = {p for v in generated for p in re.split(r"[_\-.]", v)}
    assert not parts & {p for f in fresh for p in f.split("_")}


def test_fresh_names_look_like_names_and_are_deterministic():
    a = [fresh_name(random.Random(f"1:{k}")) for k in range(200)]
    b = [fresh_name(random.Random(f"1:{k}")) for k in range(200)]
    assert a == b
    for name in a:
        assert re.fullmatch(r"[a-z]{8}(_[a-z]{8})?", name), name
        assert all(len(_SYLLABLE_VOWELS.findall(w)) == 4 for w in name.split("_"))
