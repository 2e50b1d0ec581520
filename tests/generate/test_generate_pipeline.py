"""Seed-based mutation and the generate stage: deterministic, distinct, complete records."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from termcorpus.generate.pipeline import generate_tasks, select_seeds
from termcorpus.records import CANARY, DOMAINS, Task, read_jsonl, write_jsonl
from termcorpus.generate.catalog import build_catalog, write_catalog

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def catalog():
    return build_catalog(seeds_dir=REPO / "data/seeds", skills_dir=REPO / "data/skills")


@pytest.fixture(scope="module")
def result(catalog):
    return generate_tasks(catalog.seeds, catalog.taxonomy, seed=1234, n_variants=12, n_heldout_variants=2)


def test_same_params_give_the_same_bytes(catalog, result, tmp_path):
    again = generate_tasks(catalog.seeds, catalog.taxonomy, seed=1234, n_variants=12, n_heldout_variants=2)
    write_jsonl(tmp_path / "a.jsonl", result.tasks + result.heldout)
    write_jsonl(tmp_path / "b.jsonl", again.tasks + again.heldout)
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert json.dumps(result.metrics()) == json.dumps(again.metrics())


def test_another_seed_gives_other_variants(catalog, result):
    other = generate_tasks(catalog.seeds[:3], catalog.taxonomy, seed=99, n_variants=12, n_heldout_variants=0)
    mine = {t.instruction for t in result.tasks}
    assert sum(t.instruction in mine for t in other.tasks) < len(other.tasks) // 4


def test_every_seed_yields_all_its_variants_with_ids_and_family(catalog, result):
    assert len(result.tasks) == 12 * sum(s.weight for s in catalog.seeds)
    assert any(s.weight > 1 for s in catalog.seeds)  # weighted seeds get weight x n_variants
    assert len(result.heldout) == 2 * len(catalog.seeds)
    by_family = {s.id: sum(t.family == s.id for t in result.tasks) for s in catalog.seeds}
    assert all(by_family[s.id] == 12 * s.weight for s in catalog.seeds)
    ids = [t.id for t in result.tasks + result.heldout]
    assert len(set(ids)) == len(ids)
    t = result.tasks[0]
    assert t.id == f"{t.family}-v0000" and t.source == "seed" and t.generator.name == "seed_mutation"
    assert result.heldout[0].id.endswith("-v0012")


def test_heldout_instructions_never_appear_in_training(result):
    train = {t.instruction for t in result.tasks}
    assert not any(t.instruction in train for t in result.heldout)


def test_variants_are_distinct_and_record_their_slots(result):
    m = result.metrics()
    assert m["distinct_variant_ratio"] >= 0.97
    for t in result.tasks:
        assert t.slots and all(isinstance(v, str) for v in t.slots.values())


def test_tests_carry_the_canary_and_no_task_id(result):
    for t in result.tasks + result.heldout:
        assert CANARY in t.tests["test.sh"]
        assert t.id not in t.tests["test.sh"]


def test_instructions_and_solutions_stay_short(result):
    for t in result.tasks + result.heldout:
        assert len(t.instruction) <= 300, t.id
        assert sum(len(c) for c in t.solution) <= 300, t.id
        assert 1 <= len(t.solution) <= 4


def test_metrics_count_domains_skills_and_sources(catalog, result):
    m = result.metrics()
    assert sum(m["tasks_by_domain"].values()) == m["n_tasks"]
    assert set(m["tasks_by_domain"]) <= set(DOMAINS)
    assert m["tasks_by_source"] == {"seed": m["n_tasks"]}
    assert m["tasks_by_skill"]["symlinks"] == 12 * sum(s.weight for s in catalog.seeds if "symlinks" in s.skills)
    assert m["drops"] == {}


def test_max_seeds_takes_seeds_round_robin_over_domains(catalog):
    chosen = select_seeds(catalog.seeds, max_seeds=9)
    assert len({s.domain for s in chosen}) == 9


def test_domains_param_restricts_generation(catalog):
    r = generate_tasks(catalog.seeds, catalog.taxonomy, seed=1, n_variants=2, n_heldout_variants=1, domains=["security"])
    assert {t.domain for t in r.tasks + r.heldout} == {"security"}


def test_generation_is_fast(catalog):
    # the goal is >= 2,000 tasks/s on one core; assert a margin that survives a busy shared machine
    start = time.perf_counter()
    r = generate_tasks(catalog.seeds, catalog.taxonomy, seed=5, n_variants=20, n_heldout_variants=0)
    rate = len(r.tasks) / (time.perf_counter() - start)
    assert rate > 500, f"{rate:.0f} tasks/s"


def test_generate_stage_writes_tasks_heldout_and_metrics(catalog, tmp_path):
    write_catalog(catalog, seeds_out=tmp_path / "data/seeds.jsonl", taxonomy_out=tmp_path / "data/taxonomy.json")
    (tmp_path / "params.yaml").write_text(
        "generate:\n  seed: 3\n  n_variants: 2\n  n_heldout_variants: 1\n  skill_tasks: 5\n  max_seeds: 10\n"
        "  heldout_families: 2\n  heldout_family_variants: 2\n  novel_names: 3\n"
        "  heldout_compositions: 0\n  heldout_novel_pairs: 0\n"
    )
    cmd = [sys.executable, str(REPO / "stages/generate.py"), "--seeds", "data/seeds.jsonl", "--taxonomy",
           "data/taxonomy.json", "--out", "data/tasks", "--metrics", "metrics/generate.json",
           "--detail", "reports/generate_detail.json"]
    outs = []
    for _ in range(2):
        proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        outs.append(b"".join((tmp_path / "data/tasks" / n).read_bytes() for n in ("tasks.jsonl", "heldout.jsonl")))
    assert outs[0] == outs[1]
    tasks = read_jsonl(tmp_path / "data/tasks/tasks.jsonl", Task)
    held = read_jsonl(tmp_path / "data/tasks/heldout.jsonl", Task)
    # 2 of the 10 seeds are held out whole (2 variants each); 3 novel-names tasks
    assert len(tasks) == 8 * 2 + 5 and len(held) == 8 + 2 * 2 + 3
    head = json.loads((tmp_path / "metrics/generate.json").read_text())
    m = json.loads((tmp_path / "reports/generate_detail.json").read_text())
    assert head == {"tasks": 21, "composed": m["composed"]["fraction_of_training"]}
    assert m["tasks_by_source"] == {"seed": 16, "skill": 5}
    assert m["heldout_by_set"] == {"heldout_families": 4, "heldout_variants": 8, "novel_names": 3}


def test_generate_stage_reports_a_missing_input_in_one_line(tmp_path):
    (tmp_path / "params.yaml").write_text("generate:\n  seed: 3\n")
    proc = subprocess.run(
        [sys.executable, str(REPO / "stages/generate.py"), "--seeds", "nope.jsonl", "--taxonomy", "nope.json",
         "--out", "out", "--metrics", "m.json"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "nope.json" in proc.stderr
