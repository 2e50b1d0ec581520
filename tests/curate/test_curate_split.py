"""The split by task family and the curriculum order."""

from __future__ import annotations

import pytest

from termcorpus.curate.samples import make_trajectory
from termcorpus.curate.split import choose_validation_families, curriculum_order, family_domains


def fam_domains(n_per_domain: dict[str, int]) -> dict[str, str]:
    return {f"{d}-{i}": d for d, n in n_per_domain.items() for i in range(n)}


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_validation_share_and_stratification(seed):
    fd = fam_domains({"a": 10, "b": 10, "c": 20})
    val = choose_validation_families(fd, val_fraction=0.2, seed=seed)
    assert len(val) == 8
    per = {d: sum(fd[f] == d for f in val) for d in "abc"}
    assert per == {"a": 2, "b": 2, "c": 4}


def test_split_is_deterministic_and_seeded():
    fd = fam_domains({"a": 6, "b": 6})
    v0 = choose_validation_families(fd, val_fraction=0.25, seed=0)
    assert v0 == choose_validation_families(dict(reversed(list(fd.items()))), val_fraction=0.25, seed=0)
    assert any(choose_validation_families(fd, val_fraction=0.25, seed=s) != v0 for s in range(1, 6))


@pytest.mark.parametrize("n, frac, expected", [(2, 0.01, 1), (3, 0.9, 2), (1, 0.5, 0), (5, 0.0, 0), (10, 0.15, 2)])
def test_at_least_one_family_each_side(n, frac, expected):
    val = choose_validation_families(fam_domains({"a": n}), val_fraction=frac, seed=0)
    assert len(val) == expected


def test_family_domain_is_the_majority():
    recs = [make_trajectory("1", family="f"), make_trajectory("2", family="f"),
            make_trajectory("3", family="f", domain="security", skills=["chmod"])]
    assert family_domains(recs) == {"f": "file_operations"}


def test_curriculum_puts_single_step_first():
    long2 = make_trajectory("a", commands=[["ls"], ["cat a_much_longer_file_name.txt"]])
    short2 = make_trajectory("b", commands=[["ls"], ["pwd"]])
    one = make_trajectory("c", commands=[["echo a fairly long single command line here"]])
    assert [t.id for t in curriculum_order([long2, short2, one])] == ["c", "b", "a"]
