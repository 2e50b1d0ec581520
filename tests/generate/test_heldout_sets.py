"""The held-out sets generate writes: each set's defining property, and clean splits for every set,
on the generated output of a small config of the real seeds (issue 16, points 5 and 6)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from termcorpus.curate.decontam import DecontamIndex, items_from_tasks
from termcorpus.generate.heldout import (
    NAME_POOLS,
    choose_heldout_families,
    clean_split,
    name_parts,
    name_values,
    task_pieces,
    training_words,
)
from termcorpus.generate.pipeline import generate_tasks
from termcorpus.generate.pools import ADJECTIVES, COLUMNS, DIRS, NOUNS, VERBS
from termcorpus.records import HELDOUT_SETS, Task
from termcorpus.generate.catalog import build_catalog

REPO = Path(__file__).resolve().parents[2]
SMALL = dict(seed=1234, n_variants=3, n_heldout_variants=1, max_seeds=40, custom_skills=True,
             heldout_families=4, heldout_family_variants=3, novel_names=15)


@pytest.fixture(scope="module")
def catalog():
    return build_catalog(seeds_dir=REPO / "data/seeds", skills_dir=REPO / "data/skills")


@pytest.fixture(scope="module")
def result(catalog):
    return generate_tasks(catalog.seeds, catalog.taxonomy, **SMALL)


def by_set(result, name: str) -> list[Task]:
    return [t for t in result.heldout if t.eval_set == name]


def test_every_heldout_task_names_its_set_and_training_tasks_none(result):
    assert {t.eval_set for t in result.heldout} <= set(HELDOUT_SETS)
    assert all(t.eval_set == "" for t in result.tasks)
    assert len({t.id for t in result.tasks + result.heldout}) == len(result.tasks) + len(result.heldout)
    sizes = Counter(t.eval_set for t in result.heldout)
    assert sizes["heldout_variants"] > 0 and sizes["heldout_families"] == 4 * 3 and sizes["novel_names"] == 15


def test_heldout_variants_are_new_draws_of_trained_templates(result):
    trained = {t.family for t in result.tasks}
    train_ids = {t.id for t in result.tasks}
    for t in by_set(result, "heldout_variants"):
        assert t.family in trained and t.id not in train_ids


def test_heldout_families_never_enter_training_and_are_chosen_deterministically(result, catalog):
    held = {t.family for t in by_set(result, "heldout_families")}
    assert len(held) == 4 and not held & {t.family for t in result.tasks}
    assert not held & {t.family for t in by_set(result, "heldout_variants") + by_set(result, "novel_names")}
    again = generate_tasks(catalog.seeds, catalog.taxonomy, **SMALL)
    assert held == {t.family for t in by_set(again, "heldout_families")}
    # spread over domains, and never more than a quarter of the seeds
    assert len({t.domain for t in by_set(result, "heldout_families")}) == 4
    assert len(choose_heldout_families(catalog.seeds[:8], 12, 0)) == 2


def test_novel_names_are_made_up_and_no_part_occurs_in_training_text(result, catalog):
    seeds = {s.id: s for s in catalog.seeds}
    words = training_words(result.tasks)
    known = set(NOUNS) | set(ADJECTIVES) | set(VERBS) | set(DIRS) | set(COLUMNS)
    novel = by_set(result, "novel_names")
    assert novel
    for t in novel:
        names = name_values(seeds[t.family], t)
        assert names, t.id  # a template with name slots
        for name in names:
            parts = name_parts(name)
            assert parts and not set(parts) & words, (t.id, name)
            assert not set(parts) & known, (t.id, name)
            assert name not in " ".join(x.instruction for x in result.tasks)


def test_novel_names_is_a_set_of_its_own_from_trained_templates(result):
    novel = by_set(result, "novel_names")
    variants = by_set(result, "heldout_variants")
    assert not {t.id for t in novel} & {t.id for t in variants}
    assert not {t.instruction for t in novel} & {t.instruction for t in variants}
    assert {t.family for t in novel} <= {t.family for t in result.tasks}
    assert all(t.id.split("-")[-1].startswith("n") for t in novel)


def test_name_parts_split_at_underscore_dash_dot_and_digits():
    assert name_parts("Tavoki_pelu-07.csv") == ["tavoki", "pelu", "csv"]
    assert name_parts("spare_jungle") == ["spare", "jungle"]  # two seen words joined are not new
    assert "spare" in training_words([Task(id="x", family="x", source="seed", domain="file_operations",
                                           instruction="Use spare2.txt", tests={"test.sh": "true"})])


@pytest.mark.parametrize("name", HELDOUT_SETS)
def test_no_set_shares_an_instruction_solution_or_test_with_training(result, name):
    train_instr = {t.instruction for t in result.tasks}
    train_sol = {"\n".join(t.solution) for t in result.tasks}
    train_tests = {text for t in result.tasks for text in t.tests.values()}
    for t in by_set(result, name):
        assert t.instruction not in train_instr, t.id
        assert "\n".join(t.solution) not in train_sol, t.id
        assert not set(t.tests.values()) & train_tests, t.id


@pytest.mark.parametrize("name", HELDOUT_SETS)
def test_14_gram_decontamination_holds_for_every_set(result, name):
    held = by_set(result, name)
    if not held:
        pytest.skip(f"no {name} task in this config")
    index = DecontamIndex(items_from_tasks(held), 14)
    assert not [(t.id, [i.id for i in index.matches(task_pieces(t))]) for t in result.tasks
                if index.matches(task_pieces(t))]


def test_generate_enforces_clean_splits_with_counted_reasons():
    def t(i, instruction, solution, test="#!/bin/bash\ntrue\n", slots=None):  # type: ignore[no-untyped-def]
        return Task(id=f"t{i}", family="f", source="seed", domain="file_operations", instruction=instruction,
                    solution=[solution], tests={"test.sh": test}, slots=slots or {})

    long = "Read the file {v} and write every line that mentions the word error to the file out.txt now please"
    train = [t(0, "Count lines.", "wc -l a"), t(1, long.format(v="zorbu.log"), "grep error zorbu.log > out.txt",
                                                  "#!/bin/bash\ntest -s zorbu\n", {"f": "zorbu.log"})]
    held = [t(2, "Count lines.", "wc -l b", "#!/bin/bash\nx\n"),            # same instruction
            t(3, "Count words.", "wc -l a", "#!/bin/bash\ny\n"),            # same solution
            t(4, "Count bytes.", "wc -c a", "#!/bin/bash\ntest -s zorbu\n"),  # same test file
            t(5, long.format(v="zorbu.log") + " again", "grep -i error zorbu.log", "#!/bin/bash\nz\n",
              {"f": "zorbu.log"}),                                          # a 14-gram instance
            t(6, long.format(v="pelim.log"), "grep error pelim.log > out.txt", "#!/bin/bash\nw\n",
              {"f": "pelim.log"})]                                          # a sibling: kept
    drops: Counter = Counter()
    kept = clean_split(train, held, drops)
    assert [x.id for x in kept] == ["t6"]
    assert drops == {"heldout_shares_instruction": 1, "heldout_shares_solution": 1, "heldout_shares_test": 1,
                     "heldout_contaminated": 1}


def test_same_params_give_the_same_bytes(result, catalog):
    again = generate_tasks(catalog.seeds, catalog.taxonomy, **SMALL)
    assert [x.model_dump_json() for x in again.heldout] == [x.model_dump_json() for x in result.heldout]
    assert [x.model_dump_json() for x in again.tasks] == [x.model_dump_json() for x in result.tasks]


def test_default_params_give_at_least_60_tasks_per_generated_set(catalog):
    from termcorpus.params import load_section

    p = load_section("generate", REPO / "params.yaml")
    res = generate_tasks(catalog.seeds, catalog.taxonomy, seed=p.seed, n_variants=p.n_variants,
                         n_heldout_variants=p.n_heldout_variants, skill_tasks=p.skill_tasks, min_skills=p.min_skills,
                         max_skills=p.max_skills, domains=p.domains, max_seeds=p.max_seeds, seed_tasks=p.seed_tasks,
                         custom_skills=p.custom_skills, heldout_families=p.heldout_families,
                         heldout_family_variants=p.heldout_family_variants, novel_names=p.novel_names)
    sizes = Counter(t.eval_set for t in res.heldout)
    for name in ("heldout_variants", "heldout_families", "novel_names"):
        assert sizes[name] >= 60, (name, sizes)
    assert NAME_POOLS  # the pools novel_names makes up
