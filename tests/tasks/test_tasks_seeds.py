"""Seed templates: the shipped seeds load and teach copying; bad seeds stop with file:line:field."""

from __future__ import annotations

from pathlib import Path

import pytest

from termcorpus.errors import DataError
from termcorpus.generate.template import refs
from termcorpus.generate.catalog import load_seeds
from termcorpus.generate.catalog import load_taxonomy

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "data" / "seeds"
SKILLS = REPO / "data" / "skills"


@pytest.fixture(scope="module")
def taxonomy():
    return load_taxonomy(SKILLS)


@pytest.fixture(scope="module")
def seeds(taxonomy):
    return load_seeds(SEEDS, taxonomy)


def test_shipped_seeds_are_40_plus_over_7_plus_domains(seeds):
    assert len(seeds) >= 40
    assert len({s.domain for s in seeds}) >= 7
    assert all(1 <= len(s.solution) <= 4 for s in seeds)


def test_every_name_a_solution_uses_is_in_the_instruction(seeds):
    # the tiny model must learn to copy: a slot the solution needs must be visible in the task text
    for s in seeds:
        shown = set(refs(s.instruction))
        for cmd in s.solution:
            for name in refs(cmd):
                derived_case = any(spec.cases and name.startswith(f"{slot}_") for slot, spec in s.slots.items())
                assert name in shown or derived_case, f"{s.id}: solution uses {{{{{name}}}}}, instruction does not"


GOOD = """\
domain: file_operations
seeds:
  - id: demo
    skills: [symlinks]
    slots:
      name: {pool: noun}
    instruction: Link {{name}}.
    solution:
      - ln -s /etc/hostname {{name}}
    test: |
      [ -L {{name}} ] || fail "no link"
"""


def _load(tmp_path: Path, taxonomy, *texts: str):
    d = tmp_path / "seeds"
    d.mkdir(exist_ok=True)
    for i, t in enumerate(texts):
        (d / f"s{i}.yaml").write_text(t)
    return load_seeds(d, taxonomy)


def test_a_minimal_seed_loads_with_its_origin(tmp_path, taxonomy):
    [seed] = _load(tmp_path, taxonomy, GOOD)
    assert seed.origin == "s0.yaml:3" and seed.domain == "file_operations"


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ("skills: [symlinks]", "skills: [teleportation]", r"s0\.yaml:4: seed 'demo': field 'skills\.0': unknown skill id 'teleportation'"),
        ("domain: file_operations", "domain: astrology", r"s0\.yaml:1: field 'domain': unknown domain 'astrology'"),
        ("      name: {pool: noun}", "      name: {pool: nouns}", r"s0\.yaml:6: seed 'demo': field 'slots\.name': unknown pool 'nouns'"),
        ("      name: {pool: noun}", "      name: {int: 5}", r"s0\.yaml:6: field 'seeds\.0\.slots\.name\.int': Input should be a valid list"),
        ("    instruction: Link {{name}}.\n", "", r"field 'seeds\.0\.instruction': required field is missing"),
        ("Link {{name}}.", "Link {{nmae}}.", r"s0\.yaml:7: seed 'demo': field 'instruction': names \{\{nmae\}\}"),
        ("      name: {pool: noun}", "      name: {pool: noun}\n      spare: {pool: verb}", r"s0\.yaml:7: seed 'demo': field 'slots\.spare': slot is never used"),
        ("    instruction:", "    colour: red\n    instruction:", r"s0\.yaml:7: field 'seeds\.0\.colour': unknown field"),
        ("      - ln -s", "      - |\n        ln -s x y\n        ln -s", r"s0\.yaml:9: field 'seeds\.0\.solution': each solution command must be one non-empty line"),
        ("      name: {pool: noun}", "      name: {pool: noun}\n      name: {pool: verb}", r"s0\.yaml:7: key 'name' appears twice"),
        ("    test: |", "    test: [", r"s0\.yaml:\d+: invalid YAML"),
    ],
)
def test_bad_seed_stops_with_file_line_and_field(tmp_path, taxonomy, old, new, expected):
    assert old in GOOD
    with pytest.raises(DataError, match=expected):
        _load(tmp_path, taxonomy, GOOD.replace(old, new))


def test_unknown_generator_argument_is_named(tmp_path, taxonomy):
    text = GOOD.replace("    solution:", '    files:\n      - path: a.txt\n        gen: lines\n        args: {n: 3, colour: red}\n    solution:')
    with pytest.raises(DataError, match=r"field 'files\.0\.args\.colour': generator lines has no argument 'colour'"):
        _load(tmp_path, taxonomy, text)


def test_generator_argument_of_the_wrong_type_fails_the_dry_run(tmp_path, taxonomy):
    text = GOOD.replace("    solution:", '    files:\n      - path: a.txt\n        gen: lines\n        args: {n: many}\n    solution:')
    with pytest.raises(DataError, match=r"field 'files\.0\.args': generator lines: argument 'n' must be an integer"):
        _load(tmp_path, taxonomy, text)


def test_rendered_path_escaping_the_task_is_rejected(tmp_path, taxonomy):
    text = GOOD.replace("    solution:", '    files:\n      - path: "../{{name}}"\n        text: x\n    solution:')
    with pytest.raises(DataError, match=r"field 'files\.0\.path': unsafe path"):
        _load(tmp_path, taxonomy, text)


def test_duplicate_seed_id_across_files_names_the_first(tmp_path, taxonomy):
    with pytest.raises(DataError, match=r"s1\.yaml:3: seed 'demo': field 'id': already defined at s0\.yaml:3"):
        _load(tmp_path, taxonomy, GOOD, GOOD)


def test_non_strict_skips_the_bad_file(tmp_path, taxonomy):
    d = tmp_path / "seeds"
    d.mkdir()
    (d / "a.yaml").write_text(GOOD)
    (d / "b.yaml").write_text(GOOD.replace("demo", "other").replace("[symlinks]", "[nope]"))
    skipped: list[str] = []
    seeds = load_seeds(d, taxonomy, strict=False, skipped=skipped)
    assert [s.id for s in seeds] == ["demo"] and "b.yaml" in skipped[0]
