"""Record contracts: validation errors name the file, line and field; writes are deterministic."""

from __future__ import annotations

import json

import pytest

from termcorpus.errors import DataError
from termcorpus.records import Task, read_jsonl, write_jsonl


def _task(**kw):
    base = dict(id="t1", family="f", source="seed", domain="file_operations", skills=["s"],
                instruction="do it", solution=["true"], tests={"test.sh": "exit 0"})
    base.update(kw)
    return Task(**base)


def test_round_trip_is_byte_identical(tmp_path):
    p1, p2 = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    write_jsonl(p1, [_task(), _task(id="t2")])
    write_jsonl(p2, read_jsonl(p1, Task))
    assert p1.read_bytes() == p2.read_bytes()


def test_plain_rows_are_written_with_sorted_keys_next_to_records(tmp_path):
    p = tmp_path / "rows.jsonl"
    assert write_jsonl(p, [{"b": 1, "a": "é"}, _task()]) == 2
    first, second = p.read_text(encoding="utf-8").splitlines()
    assert first == '{"a": "é", "b": 1}'
    assert Task.model_validate_json(second) == _task()
    assert not list(tmp_path.glob("*.tmp"))


def test_unknown_domain_is_rejected_with_field_name(tmp_path):
    p = tmp_path / "t.jsonl"
    d = json.loads(_task().model_dump_json())
    d["domain"] = "astrology"
    p.write_text(json.dumps(d) + "\n")
    with pytest.raises(DataError, match=r"t.jsonl:1: field 'domain'"):
        read_jsonl(p, Task)


def test_missing_test_entry_is_rejected():
    with pytest.raises(ValueError, match="test.sh"):
        _task(tests={"check.py": "pass"})


@pytest.mark.parametrize("path", ["../etc/passwd", "/etc/passwd", "a/../../b", ""])
def test_task_file_paths_must_stay_inside(path):
    with pytest.raises(ValueError, match="unsafe path"):
        _task(files={path: "x"})


def test_invalid_json_line_names_line(tmp_path):
    p = tmp_path / "t.jsonl"
    p.write_text(_task().model_dump_json() + "\n{not json\n")
    with pytest.raises(DataError, match=r":2: invalid JSON"):
        read_jsonl(p, Task)


def test_non_utf8_line_is_a_data_error(tmp_path):
    p = tmp_path / "t.jsonl"
    p.write_bytes(b'{"id": "\xff"}\n')
    with pytest.raises(DataError, match="not UTF-8"):
        read_jsonl(p, Task)


def test_digest_changes_with_content():
    assert _task().digest() != _task(instruction="do it now").digest()
