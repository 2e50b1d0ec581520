"""The skill taxonomy: the shipped files load, and a bad file stops with file:line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from termcorpus.errors import DataError
from termcorpus.generate.blocks import BLOCKS
from termcorpus.records import DOMAINS
from termcorpus.generate.catalog import load_taxonomy

REPO = Path(__file__).resolve().parents[2]
SKILLS = REPO / "data" / "skills"


def test_shipped_taxonomy_covers_every_domain_with_30_plus_skills():
    tax = load_taxonomy(SKILLS)
    assert len(tax.skills) >= 30
    assert {s.domain for s in tax.skills} == set(DOMAINS)
    assert [s.id for s in tax.skills] == sorted(s.id for s in tax.skills)


def test_shipped_blocks_name_known_blocks_in_every_domain():
    tax = load_taxonomy(SKILLS)
    named = [s for s in tax.skills if isinstance(s.block, str)]
    assert len(named) >= 90
    assert all(s.block in BLOCKS for s in named)
    assert {s.domain for s in named} == set(DOMAINS)


def _write(tmp_path: Path, text: str, name: str = "x.yaml") -> Path:
    d = tmp_path / "skills"
    d.mkdir(exist_ok=True)
    (d / name).write_text(text)
    return d


def test_duplicate_skill_id_names_both_places(tmp_path):
    d = _write(tmp_path, "domain: security\nskills:\n  - id: a\n    description: x\n  - id: a\n    description: y\n")
    with pytest.raises(DataError, match=r"x\.yaml:5: field 'id': skill id 'a' is already defined at .*x\.yaml:3"):
        load_taxonomy(d)


def test_unknown_domain_is_reported_with_its_line(tmp_path):
    d = _write(tmp_path, "skills:\n  - id: a\n    domain: astrology\n    description: x\n")
    with pytest.raises(DataError, match=r"x\.yaml:3: field 'skills\.0\.domain': unknown domain 'astrology'"):
        load_taxonomy(d)


def test_missing_description_is_reported(tmp_path):
    d = _write(tmp_path, "domain: security\nskills:\n  - id: a\n")
    with pytest.raises(DataError, match=r"field 'skills\.0\.description': required field is missing"):
        load_taxonomy(d)


def test_block_with_unknown_name_is_rejected(tmp_path):
    d = _write(tmp_path, "domain: security\nskills:\n  - id: a\n    description: x\n    block: teleport\n")
    with pytest.raises(DataError, match=r"x\.yaml:5: field 'block': unknown block 'teleport'"):
        load_taxonomy(d)


def test_yaml_block_naming_an_unknown_template_name_is_rejected(tmp_path):
    d = _write(tmp_path, "domain: security\nskills:\n  - id: a\n    description: x\n"
                         "    block: {consumes: [rows], instruction: 'sort {{src}} by {{key}}', command: 'sort {{src}} > {{dst}}',"
                         " check: 'true'}\n")
    with pytest.raises(DataError, match=r"unknown name \{\{key\}\}"):
        load_taxonomy(d)


def test_yaml_block_reading_an_unknown_kind_is_rejected(tmp_path):
    d = _write(tmp_path, "domain: security\nskills:\n  - id: a\n    description: x\n"
                         "    block: {consumes: [pods], instruction: go, command: 'true', check: 'true'}\n")
    with pytest.raises(DataError, match=r"x\.yaml:5: field 'block\.consumes': unknown kind 'pods'"):
        load_taxonomy(d)


def test_bad_yaml_reports_the_line(tmp_path):
    d = _write(tmp_path, "domain: security\nskills:\n  - id: a\n   description: [\n")
    with pytest.raises(DataError, match=r"x\.yaml:\d+: invalid YAML"):
        load_taxonomy(d)


def test_non_strict_skips_a_bad_file_and_keeps_the_rest(tmp_path):
    d = _write(tmp_path, "domain: security\nskills:\n  - id: good\n    description: x\n", "a.yaml")
    _write(tmp_path, "domain: nowhere\nskills:\n  - id: bad\n    description: x\n", "b.yaml")
    skipped: list[str] = []
    tax = load_taxonomy(d, strict=False, skipped=skipped)
    assert [s.id for s in tax.skills] == ["good"]
    assert len(skipped) == 1 and "b.yaml" in skipped[0]
