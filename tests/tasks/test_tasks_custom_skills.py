"""Custom skills: a skill file's `template:` becomes a task family without any Python.

The shipped example (data/skills/custom_example.yaml) is loaded from a temp skills dir, turned
into tasks by generate_tasks, and those tasks are solved by their reference solution and failed
by doing nothing (plain bash in a temp dir, tasks.check.run_local). Mistakes in such a file stop
with one line naming the file, the line and the field.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from termcorpus.agents.shortcut import CopyValuesAgent, EmptyFilesAgent
from termcorpus.errors import DataError
from termcorpus.generate.pipeline import generate_tasks
from termcorpus.generate.catalog import Catalog, read_taxonomy, write_catalog
from termcorpus.tasks.check import run_local
from termcorpus.generate.catalog import load_taxonomy

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "data" / "skills" / "custom_example.yaml"


def _skills_dir(tmp_path: Path, text: str | None = None) -> Path:
    d = tmp_path / "skills"
    d.mkdir(exist_ok=True)
    (d / "custom_example.yaml").write_text(EXAMPLE.read_text() if text is None else text)
    return d


@pytest.fixture
def taxonomy(tmp_path):
    return load_taxonomy(_skills_dir(tmp_path))


def test_example_loads_as_a_custom_skill(taxonomy):
    [skill] = taxonomy.skills
    assert skill.id == "line_joining" and skill.domain == "data_processing"
    # the worked example is both a custom task family and a YAML-only composable block
    assert skill.template is not None and skill.block is not None and skill.block.consumes


def test_generate_tasks_makes_a_custom_family_with_train_and_heldout_variants(taxonomy):
    result = generate_tasks([], taxonomy, seed=7, n_variants=5, n_heldout_variants=2, custom_skills=True)
    assert len(result.tasks) == 5 and len(result.heldout) == 2
    for t in result.tasks + result.heldout:
        assert (t.family, t.source, t.skills, t.domain) == (
            "custom-line_joining", "skill", ["line_joining"], "data_processing")
        assert t.id.startswith("custom-line_joining-v")
    assert not {t.instruction for t in result.heldout} & {t.instruction for t in result.tasks}
    m = result.metrics()
    assert m["n_custom_skills"] == 1 and m["tasks_by_source"] == {"skill": 5}


def test_custom_tasks_pass_the_oracle_and_fail_null_and_shortcut_agents(taxonomy):
    tasks = generate_tasks([], taxonomy, seed=11, n_variants=3, n_heldout_variants=0, custom_skills=True).tasks
    for task in tasks:
        oracle = run_local(task, oracle=True)
        assert oracle.passed and oracle.reward == "1", oracle.output
        null = run_local(task, oracle=False)
        assert not null.passed and null.reward == "0"
        for agent in (EmptyFilesAgent(), CopyValuesAgent()):
            keys = agent.first_action(task).commands[0].keystrokes.strip()
            assert not run_local(task.model_copy(update={"solution": [keys]}), oracle=True).passed, agent.name


def test_same_seed_same_tasks_and_the_switch_turns_them_off(taxonomy):
    a = generate_tasks([], taxonomy, seed=3, n_variants=4, n_heldout_variants=1, custom_skills=True)
    b = generate_tasks([], taxonomy, seed=3, n_variants=4, n_heldout_variants=1, custom_skills=True)
    assert len(a.tasks) == 4
    assert [t.model_dump_json() for t in a.tasks + a.heldout] == [t.model_dump_json() for t in b.tasks + b.heldout]
    off = generate_tasks([], taxonomy, seed=3, n_variants=4, n_heldout_variants=1, custom_skills=False)
    assert off.tasks == [] and off.heldout == []
    other = generate_tasks([], taxonomy, seed=3, n_variants=4, n_heldout_variants=1, domains=["security"],
                           custom_skills=True)
    assert other.tasks == []


def test_max_seeds_counts_custom_skills_like_seeds(taxonomy):
    from termcorpus.generate.catalog import build_catalog

    seeds = build_catalog(seeds_dir=REPO / "data" / "seeds", skills_dir=REPO / "data" / "skills").seeds
    dp = [s for s in seeds if s.domain == "data_processing"]
    quick = generate_tasks(dp, taxonomy, seed=1, n_variants=1, n_heldout_variants=0, max_seeds=3, custom_skills=True)
    assert quick.n_seeds + quick.n_custom_skills == 3 and len(quick.tasks) == 3
    full = generate_tasks(dp, taxonomy, seed=1, n_variants=1, n_heldout_variants=0, custom_skills=True)
    assert (full.n_seeds, full.n_custom_skills) == (len(dp), 1)
    assert [t.family for t in full.tasks].count("custom-line_joining") == 1


def test_template_survives_taxonomy_json_and_generates_the_same_tasks(taxonomy, tmp_path):
    # the DVC path: the seed stage writes data/taxonomy.json, the generate stage reads it back
    write_catalog(Catalog(seeds=[], taxonomy=taxonomy), seeds_out=tmp_path / "seeds.jsonl",
                  taxonomy_out=tmp_path / "taxonomy.json")
    assert "template" in json.loads((tmp_path / "taxonomy.json").read_text())["skills"][0]
    again = read_taxonomy(tmp_path / "taxonomy.json")
    a = generate_tasks([], taxonomy, seed=5, n_variants=3, n_heldout_variants=1, custom_skills=True)
    b = generate_tasks([], again, seed=5, n_variants=3, n_heldout_variants=1, custom_skills=True)
    assert len(a.tasks) == 3
    assert [t.model_dump_json() for t in a.tasks + a.heldout] == [t.model_dump_json() for t in b.tasks + b.heldout]


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize(
    "old, new, at, expected",
    [
        ("f: {pool: stem}  ", "f: {pool: stems}  ", "{pool: stems}",
         r"skill 'line_joining': field 'template\.slots\.f': unknown pool 'stems'; known: adj"),
        ("write that line to {{out}}.txt.", "write that line to {{outt}}.txt.", "instruction: >-",
         r"skill 'line_joining': field 'template\.instruction': names \{\{outt\}\}"),
        ("gen: lines ", "gen: linez ", "gen: linez",
         r"skill 'line_joining': field 'template\.files\.0\.gen': unknown generator 'linez'"),
        ('args: {n: "{{n}}", pool: adj}', 'args: {n: "{{n}}", pool: adj, colour: red}', "colour: red",
         r"skill 'line_joining': field 'template\.files\.0\.args\.colour': generator lines has no argument 'colour'"),
        ("n: {int: [4, 12]}", "n: {int: [12, 4]}", "{int: [12, 4]}",
         r"field 'skills\.0\.template\.slots\.n': int range \[12, 4\] is empty"),
        ("n: {int: [4, 12]}", "n: {int: [4, 12]}\n        spare: {pool: verb}", "spare: {pool: verb}",
         r"skill 'line_joining': field 'template\.slots\.spare': slot is never used"),
        ("      test: |", "      colour: red\n      test: |", "colour: red",
         r"field 'skills\.0\.template\.colour': unknown field"),
        ("        - paste -s", "        - |\n          cat x\n          paste -s", "- |",
         r"field 'skills\.0\.template\.solution': each solution command must be one non-empty line"),
    ],
    ids=["unknown-pool", "undefined-name", "unknown-generator", "bad-generator-arg", "empty-int-range",
         "unused-slot", "unknown-field", "multi-line-command"],
)
def test_a_malformed_custom_skill_stops_with_file_line_and_field(tmp_path, old, new, at, expected):
    text = EXAMPLE.read_text()
    assert old in text
    bad = text.replace(old, new, 1)
    d = _skills_dir(tmp_path, bad)
    with pytest.raises(DataError) as err:
        load_taxonomy(d)
    msg = str(err.value)
    assert "\n" not in msg
    line = _line_of(bad, at)
    assert msg.startswith(f"{d / 'custom_example.yaml'}:{line}: "), msg
    assert __import__("re").search(expected, msg), msg


def test_missing_template_field_is_named(tmp_path):
    bad = EXAMPLE.read_text().replace("      solution:\n        - paste -s -d '{{sep_char}}' {{f}}.txt > {{out}}.txt\n", "")
    with pytest.raises(DataError, match=r"custom_example\.yaml:\d+: field 'skills\.0\.template\.solution': required field is missing"):
        load_taxonomy(_skills_dir(tmp_path, bad))


@pytest.mark.integration
def test_seed_stage_reports_a_bad_custom_skill_in_one_line(tmp_path):
    skills = tmp_path / "skills"
    skills.mkdir()
    for p in (REPO / "data" / "skills").glob("*.yaml"):
        (skills / p.name).write_text(p.read_text())
    (skills / "custom_example.yaml").write_text(EXAMPLE.read_text().replace("gen: lines ", "gen: linez "))
    proc = subprocess.run(
        [sys.executable, "stages/seed.py", "--seeds", str(REPO / "data" / "seeds"), "--skills", str(skills),
         "--out", str(tmp_path / "s.jsonl"), "--taxonomy-out", str(tmp_path / "t.json"),
         "--metrics", str(tmp_path / "m.json")],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{skills / 'custom_example.yaml'}:" in lines[0]
    assert "field 'template.files.0.gen': unknown generator 'linez'" in lines[0]
