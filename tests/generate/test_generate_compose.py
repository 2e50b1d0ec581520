"""Skill-based composition: chains of 3-5 blocks where each step reads the previous output."""

from __future__ import annotations

from pathlib import Path

import pytest

from termcorpus.generate.compose import OPS, compose_task
from termcorpus.generate.pipeline import generate_tasks
from termcorpus.tasks.check import run_local
from termcorpus.tasks.skills import load_taxonomy

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def taxonomy():
    return load_taxonomy(REPO / "data/skills")


def test_composed_task_chains_files_and_names_its_family(taxonomy):
    t = compose_task(taxonomy.skills, index=0, gen_seed=1, min_skills=3, max_skills=5)
    assert t is not None and t.source == "skill"
    assert 3 <= len(t.skills) <= 5 and len(t.solution) == len(t.skills)
    assert t.family == "+".join(sorted(t.skills))
    outs = [t.slots[f"s{i}_out"] for i in range(1, len(t.skills) + 1)]
    # each step's command reads the file the previous step wrote
    for i, cmd in enumerate(t.solution[1:], 1):
        assert outs[i - 1] in cmd
    assert all(o in t.instruction for o in outs)


def test_only_the_last_step_may_be_terminal(taxonomy):
    by_id = taxonomy.by_id()
    r = generate_tasks([], taxonomy, seed=2, n_variants=1, n_heldout_variants=0, skill_tasks=40)
    assert len(r.tasks) == 40
    for t in r.tasks:
        assert not any(OPS[by_id[s].block.op].terminal for s in t.skills[:-1])


@pytest.mark.integration
@pytest.mark.parametrize("index", range(6))
def test_composed_tasks_pass_with_the_solution_and_fail_without(taxonomy, index):
    t = compose_task(taxonomy.skills, index=index, gen_seed=11, min_skills=3, max_skills=5)
    assert run_local(t, oracle=True).passed
    assert not run_local(t, oracle=False).passed
