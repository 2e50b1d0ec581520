"""The frame the suite runs on, the taxonomy reader and the committed suite (no GX import here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from termcorpus.curate.safety import privileged_patterns
from termcorpus.curate.samples import make_taxonomy, make_trajectory, trajectory_lines
from termcorpus.errors import DataError
from termcorpus.validate.frame import Taxonomy, _messages_alternate, read_taxonomy, trajectory_frame
from termcorpus.validate.suite import PARAMETERS, REQUIRED_COLUMNS, suite_json

REPO = Path(__file__).resolve().parents[2]


def test_committed_suite_is_the_generated_one():
    committed = (REPO / "expectations" / "trajectories.json").read_text(encoding="utf-8")
    assert committed == suite_json(), "run: python -m termcorpus.validate.suite expectations/trajectories.json"


def test_suite_uses_the_curation_safety_rules_and_known_parameters():
    data = json.loads(suite_json())
    regex = [e for e in data["expectations"] if e["type"] == "expect_column_values_to_not_match_regex_list"]
    assert regex[0]["kwargs"]["regex_list"] == privileged_patterns()
    used = {v["$PARAMETER"] for e in data["expectations"] for v in e["kwargs"].values()
            if isinstance(v, dict) and "$PARAMETER" in v}
    assert used == set(PARAMETERS)


def test_taxonomy_accepts_strings_objects_and_skill_domains(tmp_path):
    p = tmp_path / "tax.json"
    p.write_text(json.dumps({"domains": ["security", {"id": "debugging"}],
                             "skills": [{"id": "awk", "domain": "data_processing"}, "grep"]}))
    tax = read_taxonomy(p)
    assert tax.domains == ("data_processing", "debugging", "security")
    assert tax.skills == ("awk", "grep")


@pytest.mark.parametrize("content, needle", [
    ("[1, 2]", "JSON object"),
    ("{", "not valid JSON"),
    ('{"skills": []}', "no domains"),
    ('{"domains": ["a"], "skills": [3]}', r"skills\[0\]"),
])
def test_bad_taxonomy_is_one_line_naming_the_file(tmp_path, content, needle):
    p = tmp_path / "taxonomy.json"
    p.write_text(content)
    with pytest.raises(DataError, match=needle) as err:
        read_taxonomy(p)
    assert str(p) in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("roles, ok", [
    (["user", "assistant"], True),
    (["system", "user", "assistant", "user", "assistant"], True),
    (["user", "assistant", "user"], True),
    (["assistant", "user"], False),
    (["user", "user", "assistant"], False),
    (["user"], False),
    (["user", "assistant", "system", "assistant"], False),
    ([], False),
])
def test_message_alternation(roles, ok):
    assert _messages_alternate([{"role": r, "content": "x"} for r in roles]) is ok


def test_frame_has_a_row_per_line_and_derived_columns(tmp_path):
    p = tmp_path / "t.jsonl"
    t = make_trajectory("t0", skills=["find", "grep"], commands=[["ls"], ["sudo id"]])
    p.write_text(trajectory_lines([t]) + "\n" + "[1]\n", encoding="utf-8")
    tax = Taxonomy(**{k: tuple(v) if k == "domains" else tuple(s["id"] for s in v) for k, v in make_taxonomy().items()})
    df = trajectory_frame(p, tax)
    assert list(df["line"]) == [1, 3]  # blank line skipped, the JSON array still gets a row
    row = df.iloc[0]
    assert row["skills"] == "find,grep" and bool(row["skills_known"]) and bool(row["schema_ok"])
    assert row["keystrokes"] == "ls\n\nsudo id\n" and row["n_turns_recorded"] == 2
    assert not bool(df.iloc[1]["json_ok"]) and not bool(df.iloc[1]["required_present"])
    assert set(REQUIRED_COLUMNS) <= set(df.columns)


def test_field_missing_everywhere_is_a_missing_column(tmp_path):
    p = tmp_path / "t.jsonl"
    rec = json.loads(make_trajectory("t0").model_dump_json())
    del rec["model"]
    p.write_text(json.dumps(rec) + "\n")
    df = trajectory_frame(p, Taxonomy(domains=("file_operations",), skills=("find",)))
    assert "model" not in df.columns and "agent" in df.columns
