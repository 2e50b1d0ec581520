"""The scale of the shipped task sources: 200+ seeds and 60+ skills over all nine domains, every
seed's variants distinct, texts short enough for the small model's context."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from termcorpus.generate.pipeline import variants_of
from termcorpus.records import DOMAINS
from termcorpus.generate.catalog import build_catalog

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def catalog():
    return build_catalog(seeds_dir=REPO / "data" / "seeds", skills_dir=REPO / "data" / "skills")


def test_200_plus_seeds_cover_every_domain(catalog):
    per_domain = Counter(s.domain for s in catalog.seeds)
    assert len(catalog.seeds) >= 200
    assert set(per_domain) == set(DOMAINS)
    assert min(per_domain.values()) >= 15, per_domain


def test_60_plus_skills_cover_every_domain_with_a_custom_example(catalog):
    skills = catalog.taxonomy.skills
    assert len(skills) >= 60
    assert {s.domain for s in skills} == set(DOMAINS)
    assert any(s.template is not None for s in skills)


def test_every_plain_skill_is_used_by_some_seed(catalog):
    # a skill with neither a block nor a template only exists as a label: an unused one is drift
    used = {k for s in catalog.seeds for k in s.skills}
    unused = [s.id for s in catalog.taxonomy.skills if s.block is None and s.template is None and s.id not in used]
    assert not unused


def test_variants_of_every_seed_are_95_percent_distinct(catalog):
    for seed in catalog.seeds:
        drops: Counter = Counter()
        train, held = variants_of(seed, gen_seed=99, n_variants=20, n_heldout=0, drops=drops)
        texts = [t.instruction for t in train + held]
        assert not drops and len(set(texts)) >= 0.95 * len(texts), f"{seed.id}: {len(set(texts))}/{len(texts)} distinct"


def test_instructions_and_solutions_stay_short(catalog):
    for seed in catalog.seeds:
        train, _ = variants_of(seed, gen_seed=5, n_variants=5, n_heldout=0, drops=Counter())
        assert max(len(t.instruction) for t in train) <= 330, seed.id
        assert max(sum(len(c) for c in t.solution) for t in train) <= 330, seed.id
