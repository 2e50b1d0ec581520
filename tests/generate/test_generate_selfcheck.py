"""Validity gate: for EVERY seed, the reference solution passes its test and doing nothing fails.

Runs each variant with plain bash in a temp dir standing in for /app (tasks.check.run_local);
the same tasks later run in the real sandbox, where the e2e test checks the oracle's pass rate.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from termcorpus.generate.mutate import render_variant, variant_seed
from termcorpus.generate.catalog import build_catalog
from termcorpus.tasks.check import run_local

REPO = Path(__file__).resolve().parents[2]
CATALOG = build_catalog(seeds_dir=REPO / "data/seeds", skills_dir=REPO / "data/skills")
VARIANTS = (0, 1)


@pytest.mark.integration
@pytest.mark.parametrize("seed", CATALOG.seeds, ids=lambda s: s.id)
def test_oracle_passes_and_null_fails(seed):
    for index in VARIANTS:
        vs = variant_seed(1234, seed.id, index)
        task = render_variant(seed, random.Random(vs), variant_id=f"{seed.id}-v{index:04d}", gen_seed=vs)
        oracle = run_local(task, oracle=True)
        assert oracle.passed and oracle.reward == "1", f"{task.id} oracle failed:\n{oracle.output}"
        null = run_local(task, oracle=False)
        assert not null.passed and null.reward == "0", f"{task.id} passes without doing anything"
