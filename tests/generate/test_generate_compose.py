"""Skill-based composition: typed chains of 3-5 blocks, every step checked, observation-dependent
steps the oracle derives, and held-out composition sets that training never shows."""

from __future__ import annotations

import json
import random
import shutil
from collections import Counter
from pathlib import Path

import pytest

from termcorpus.agents.oracle import OracleAgent, derive
from termcorpus.generate.blocks import BLOCK_DOMAINS, BLOCKS
from termcorpus.generate.compose import Composer, _walk, compose_split, composable, compose_task
from termcorpus.generate.pipeline import generate_tasks
from termcorpus.params import load_section
from termcorpus.records import DOMAINS, Derivation, Message
from termcorpus.tasks.check import run_local
from termcorpus.generate.catalog import load_taxonomy

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def taxonomy():
    return load_taxonomy(REPO / "data/skills")


@pytest.fixture(scope="module")
def split(taxonomy):
    return compose_split(taxonomy.skills, gen_seed=7, n_train=400, n_heldout=30, n_novel_pairs=15, min_skills=3,
                         max_skills=5, reserve_pct=10, drops=Counter())


def test_90_plus_skills_in_all_nine_domains_are_composable(taxonomy):
    pool = composable(taxonomy.skills)
    assert len(pool) >= 90
    assert {s.domain for s in pool} == set(DOMAINS)
    # every Python block lives in the module of its skill's domain, and no module is oversized
    by_id = taxonomy.by_id()
    assert all(BLOCK_DOMAINS[b] == by_id[b].domain for b in BLOCKS)
    for f in (REPO / "src/termcorpus/generate/blocks").glob("*.py"):
        assert len(f.read_text().splitlines()) <= 600, f


def test_every_step_reads_what_the_previous_step_left(taxonomy):
    comp = Composer(taxonomy.skills, gen_seed=3, min_skills=3, max_skills=5)
    chains = 0
    for i in range(200):
        ch = _walk(comp.pool, comp.blocks, random.Random(i), 4, lambda a, b: True, Counter())
        if ch is None:
            continue
        chains += 1
        for prev, step, skill in zip(ch.steps, ch.steps[1:], ch.skills[1:]):
            assert prev.out.kind in comp.blocks[skill.id].consumes
            said = " ".join(step.commands + list(step.files.values()) + [step.phrase])
            assert prev.out.path in said, (skill.id, prev.out.path, said)
    assert chains > 150


def test_test_sh_checks_the_effect_of_every_step(split):
    train, _ = split
    for t in train[:100]:
        test = t.tests["test.sh"]
        for i in range(1, len(t.skills) + 1):
            out = t.slots[f"s{i}_out"]
            assert out in test, (t.id, t.skills[i - 1], out)


def test_chains_have_3_to_5_steps_and_the_family_is_the_ordered_sequence(split):
    train, held = split
    for t in train + held:
        assert 3 <= len(t.skills) <= 5 and len(set(t.skills)) == len(t.skills)
        assert t.family == "+".join(t.skills)
    assert {len(t.skills) for t in train} == {3, 4, 5}


def test_same_params_give_the_same_bytes(taxonomy, split):
    again = compose_split(taxonomy.skills, gen_seed=7, n_train=400, n_heldout=30, n_novel_pairs=15, min_skills=3,
                          max_skills=5, reserve_pct=10, drops=Counter())
    assert [t.model_dump_json() for t in split[0] + split[1]] == [t.model_dump_json() for t in again[0] + again[1]]


def test_singles_are_opening_steps_alone_and_leave_chains_and_held_out_sets_as_they_were(taxonomy, split):
    train, held = split
    with_singles = compose_split(taxonomy.skills, gen_seed=7, n_train=400, n_heldout=30, n_novel_pairs=15,
                                 min_skills=3, max_skills=5, reserve_pct=10, drops=Counter(), n_singles=60)
    chains = [t for t in with_singles[0] if len(t.skills) > 1]
    singles = [t for t in with_singles[0] if len(t.skills) == 1]
    assert [t.model_dump_json() for t in chains] == [t.model_dump_json() for t in train]
    assert [t.model_dump_json() for t in with_singles[1]] == [t.model_dump_json() for t in held]
    assert len(singles) >= 50 and len({t.skills[0] for t in singles}) >= 30
    for t in singles:
        assert t.family == t.skills[0] and t.difficulty == "easy" and t.id.startswith("skill-s")
        assert t.instruction.startswith("In /app, keeping every file you make: 1) ") and " 2) " not in t.instruction
        assert t.slots["s1_out"] in t.tests["test.sh"]


def test_a_quarter_of_tasks_hold_an_observation_dependent_step(split):
    train, _ = split
    dep = [t for t in train if t.obs_dependent_steps]
    assert len(dep) >= 0.25 * len(train)
    for t in dep:
        assert len(t.derivations) == len(t.obs_dependent_steps)
        for d in t.derivations:
            assert 1 <= d.turn < len(t.solution) and d.patterns and "{{" in d.template


def test_oracle_builds_the_command_from_the_real_observation():
    d = Derivation(turn=1, patterns={"c0": r"^(\d+):score$"}, template="cut -d, -f{{c0}} a.csv > b.txt")
    obs = "$ head -1 a.csv | tr , '\\n' | grep -n -x -e score\n4:score"
    assert derive(d, obs) == ("cut -d, -f4 a.csv > b.txt", {"c0": "4"})
    assert derive(d, "$ head -1 a.csv\n[exit 1]") is None


def test_oracle_plays_look_then_derived_command_and_falls_back_without_a_match(split):
    t = next(t for t in split[0] if t.derivations)
    d = t.derivations[0]
    oracle = OracleAgent()
    look = oracle.action_for(t, d.turn - 1)
    assert look.plan.startswith("Look first") and look.commands[0].keystrokes == t.solution[d.turn - 1] + "\n"
    # no usable observation: the literal solution command
    assert oracle.action_for(t, d.turn, "").commands[0].keystrokes == t.solution[d.turn] + "\n"
    msgs = [Message(role="user", content="x")] + [Message(role=r, content="y") for r in ("assistant", "user") * d.turn]
    assert json.loads(oracle.act(t, msgs))["commands"][0]["keystrokes"] == t.solution[d.turn] + "\n"


def test_heldout_compositions_never_occur_in_training_and_use_trained_skills(split):
    train, held = split
    sequences = {tuple(t.skills) for t in train}
    pairs = {p for t in train for p in zip(t.skills, t.skills[1:])}
    skills = {s for t in train for s in t.skills}
    sets = Counter(t.eval_set for t in held)
    assert sets == {"heldout_compositions": 30, "heldout_compositions_novel_pairs": 15}
    for t in held:
        assert tuple(t.skills) not in sequences and set(t.skills) <= skills
        assert t.family not in {x.family for x in train}
    for t in held:
        novel = [p not in pairs for p in zip(t.skills, t.skills[1:])]
        if t.eval_set == "heldout_compositions_novel_pairs":
            assert all(novel), t.skills
        else:
            assert any(novel) and not all(novel), t.skills


def test_default_params_make_40_percent_composed_tasks_from_all_domains_and_60_plus_heldout(taxonomy):
    p = load_section("generate", REPO / "params.yaml")
    assert p.heldout_compositions + p.heldout_novel_pairs >= 60 and p.heldout_compositions >= 60
    from termcorpus.generate.catalog import build_catalog

    cat = build_catalog(seeds_dir=REPO / "data/seeds", skills_dir=REPO / "data/skills")
    r = generate_tasks(cat.seeds, cat.taxonomy, seed=p.seed, n_variants=p.n_variants,
                       n_heldout_variants=p.n_heldout_variants, skill_tasks=p.skill_tasks, min_skills=p.min_skills,
                       max_skills=p.max_skills, custom_skills=p.custom_skills,
                       heldout_compositions=p.heldout_compositions, heldout_novel_pairs=p.heldout_novel_pairs,
                       reserved_pair_pct=p.reserved_pair_pct)
    m = r.metrics()["composed"]
    assert m["fraction_of_training"] >= 0.40
    assert set(m["by_domain"]) == set(DOMAINS) and set(m["by_n_steps"]) == {"3", "4", "5"}
    assert m["obs_dependent_fraction"] >= 0.25
    assert m["heldout_by_set"]["heldout_compositions"] >= 60
    assert sum(r.detail()["composed_tasks_by_skill"].values()) == sum(int(k) * v for k, v in m["by_n_steps"].items())


def test_a_custom_yaml_block_joins_compositions_as_the_last_step(taxonomy):
    comp = Composer(taxonomy.skills, gen_seed=1, min_skills=3, max_skills=5)
    found = [t for i in range(400) if (t := comp.compose("skill", i, pair_ok=lambda a, b: True))
             and "line_joining" in t.skills]
    assert found and all(t.skills[-1] == "line_joining" for t in found)
    assert run_local(found[0], oracle=True).passed and not run_local(found[0], oracle=False).passed


@pytest.mark.integration
@pytest.mark.parametrize("index", range(4))
def test_composed_tasks_pass_with_the_solution_and_fail_without(taxonomy, index):
    t = compose_task(taxonomy.skills, index=index, gen_seed=11, min_skills=3, max_skills=5)
    assert run_local(t, oracle=True).passed
    assert not run_local(t, oracle=False).passed


KUBE = '''domain: software_engineering
skills:
  - id: kube_pods
    description: List pods with a kubectl-like CLI.
    block:
      consumes: [rows, words]
      instruction: list the pods named in {{src}} with kubectl into {{dst}}
      command: bash kubectl get pods $(cut -d" " -f1 {{src}}) > {{dst}}
      check: '[ "$(wc -l < {{dst}})" = "$(wc -l < {{src}})" ]'
      files:
        kubectl: "#!/bin/bash\\nfor p in \\"${@:3}\\"; do echo \\"pod/$p Running\\"; done\\n"
'''


def test_the_documented_kubectl_yaml_block_composes_and_verifies(tmp_path):
    d = tmp_path / "skills"
    shutil.copytree(REPO / "data/skills", d)
    (d / "team.yaml").write_text(KUBE)
    comp = Composer(load_taxonomy(d).skills, gen_seed=4, min_skills=3, max_skills=5)
    t = next(t for i in range(600) if (t := comp.compose("skill", i, pair_ok=lambda a, b: True))
             and "kube_pods" in t.skills)
    assert t.skills[-1] == "kube_pods" and "kubectl" in t.files
    assert run_local(t, oracle=True).passed and not run_local(t, oracle=False).passed
