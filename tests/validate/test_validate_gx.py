"""The Great Expectations gate: a clean set passes, every kind of corruption fails it by name.

GX is imported once for the module (its import costs ~3.5 s); each run then takes ~0.1-0.2 s.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pytest

from termcorpus.curate.samples import make_taxonomy, make_trajectory, taxonomy_json, trajectory_lines
from termcorpus.errors import DataError
from termcorpus.params import ValidateParams
from termcorpus.records import CANARY

REPO = Path(__file__).resolve().parents[2]
SUITE = REPO / "expectations" / "trajectories.json"


@pytest.fixture(scope="module")
def gx_loaded():
    import great_expectations  # noqa: F401  (pay the import once, in set-up)

    from termcorpus.validate import check_trajectories

    return check_trajectories


def clean_records() -> list[dict]:
    trajs = [
        make_trajectory("t0", family="fam-a", commands=[["ls"]]),
        make_trajectory("t1", family="fam-a", commands=[["ls -la"], ["wc -l notes.txt"]]),
        make_trajectory("t2", family="fam-b", domain="data_processing", skills=["awk", "sort"],
                        commands=[["awk '{print $1}' data.csv | sort"]]),
        make_trajectory("t3", family="fam-c", domain="security", skills=["chmod"],
                        commands=[["chmod 600 secret.key"], ["ls -l secret.key"]]),
    ]
    return [json.loads(line) for line in trajectory_lines(trajs).splitlines()]


def write_set(tmp: Path, records: list[dict] | None = None, raw_tail: bytes = b"") -> tuple[Path, Path]:
    traj = tmp / "trajectories.jsonl"
    body = "".join(json.dumps(r) + "\n" for r in (clean_records() if records is None else records))
    traj.write_bytes(body.encode("utf-8") + raw_tail)
    tax = tmp / "taxonomy.json"
    tax.write_text(taxonomy_json(make_taxonomy()), encoding="utf-8")
    return traj, tax


def _set(i: int, key: str, value) -> Callable[[list[dict]], None]:
    def f(rs: list[dict]) -> None:
        rs[i][key] = value
    return f


def _drop_field(rs):
    del rs[1]["task_id"]


def _drop_column(rs):
    for r in rs:
        del r["agent"]


def _privileged(rs):
    rs[2]["turns"][0]["action"]["commands"][0]["keystrokes"] = "cd /app && sudo rm -rf /\n"


def _long(rs):
    rs[0]["messages"][1]["content"] += "x" * 70_000


def _dup_id(rs):
    rs[3]["id"] = rs[0]["id"]


def _alternation(rs):
    rs[1]["messages"] = [rs[1]["messages"][0], rs[1]["messages"][0], *rs[1]["messages"][1:]]


def _canary(rs):
    rs[2]["messages"][-1]["content"] += f" # {CANARY}"


def _inconsistent_turns(rs):
    rs[1]["n_turns"] = 5


def _low_pass_rate(rs):
    for r in rs[:3]:
        r["passed"], r["reward"] = False, 0.0


CORRUPTIONS = {
    "missing_field": (_drop_field, "required_fields"),
    "missing_column": (_drop_column, "required_columns"),
    "reward_out_of_range": (_set(0, "reward", 1.5), "reward_in_range"),
    "unknown_skill": (_set(2, "skills", ["awk", "telepathy"]), "skills_in_taxonomy"),
    "unknown_domain": (_set(3, "domain", "astrology"), "domain_in_taxonomy"),
    "privileged_command": (_privileged, "no_privileged_commands"),
    "over_long_record": (_long, "record_length"),
    "duplicated_ids": (_dup_id, "ids_unique"),
    "empty_instruction": (_set(1, "instruction", "   "), "instruction_not_empty"),
    "bad_alternation": (_alternation, "messages_alternate"),
    "canary_leak": (_canary, "canary_free"),
    "passed_not_boolean": (_set(0, "passed", "yes"), "passed_is_boolean"),
    "n_turns_mismatch": (_inconsistent_turns, "turns_consistent"),
    "low_pass_rate": (_low_pass_rate, "pass_rate"),
    "zero_turns": (_set(0, "n_turns", 0), "n_turns_in_range"),
}


def test_clean_set_passes_every_expectation(gx_loaded, tmp_path):
    traj, tax = write_set(tmp_path)
    m = gx_loaded(trajectories=traj, taxonomy=tax, suite=SUITE, params=ValidateParams())
    assert m["success"], m["failed_expectations"]
    assert m["counts"]["records"] == 4 and m["counts"]["expectations"] >= 12
    assert m["expectations"]["pass_rate"]["observed_value"] == 1.0


@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
def test_corruption_fails_its_expectation(gx_loaded, tmp_path, kind):
    corrupt, expectation = CORRUPTIONS[kind]
    records = clean_records()
    corrupt(records)
    traj, tax = write_set(tmp_path, records)
    m = gx_loaded(trajectories=traj, taxonomy=tax, suite=SUITE, params=ValidateParams())
    assert not m["success"]
    assert expectation in m["failed_expectations"], m["failed_expectations"]


def test_bytes_that_are_not_json_or_utf8_fail_by_line(gx_loaded, tmp_path):
    traj, tax = write_set(tmp_path, raw_tail=b"{not json\n" + b'{"id": "\xff\xfe"}\n')
    m = gx_loaded(trajectories=traj, taxonomy=tax, suite=SUITE, params=ValidateParams())
    assert {"json", "utf8", "schema"} <= set(m["failed_expectations"])
    assert m["expectations"]["json"]["unexpected_trajectories"] == ["line 5"]


def test_empty_file_fails_row_count(gx_loaded, tmp_path):
    traj, tax = write_set(tmp_path, records=[])
    m = gx_loaded(trajectories=traj, taxonomy=tax, suite=SUITE, params=ValidateParams())
    assert "has_rows" in m["failed_expectations"]


def test_failure_writes_report_and_metrics_then_raises_one_line(gx_loaded, tmp_path):
    from termcorpus.validate import validate_trajectories

    records = clean_records()
    _privileged(records)
    records[0]["reward"] = 1.5
    traj, tax = write_set(tmp_path, records)
    out, docs = tmp_path / "metrics" / "validation.json", tmp_path / "docs"
    with pytest.raises(DataError) as err:
        validate_trajectories(trajectories=traj, taxonomy=tax, suite=SUITE, params=ValidateParams(), docs_dir=docs, out=out,
                              detail=tmp_path / "detail.json")
    msg = str(err.value)
    assert "\n" not in msg and "reward_in_range (t0)" in msg and "no_privileged_commands (t2)" in msg
    metrics = json.loads(out.read_text())
    # the headline is the record count and the verdict; counts and per-expectation results are
    # detail (issue 20)
    assert metrics == {"records": 4, "success": False}
    detail = json.loads((tmp_path / "detail.json").read_text())
    assert detail["counts"]["expectations_failed"] >= 2
    priv = detail["expectations"]["no_privileged_commands"]
    assert priv["unexpected_trajectories"] == ["t2"] and priv["unexpected_examples"] == ["& sudo"]
    html = (docs / "index.html").read_text()
    assert "FAILED" in html and "no_privileged_commands" in html and "http" not in html


def test_outputs_are_byte_identical_across_runs(gx_loaded, tmp_path):
    from termcorpus.validate import validate_trajectories

    traj, tax = write_set(tmp_path)
    outs = []
    for run in ("a", "b"):
        out, docs = tmp_path / run / "v.json", tmp_path / run / "docs"
        validate_trajectories(trajectories=traj, taxonomy=tax, suite=SUITE, params=ValidateParams(), docs_dir=docs, out=out)
        outs.append((out.read_bytes(), (docs / "index.html").read_bytes()))
    assert outs[0] == outs[1]


def test_every_suite_expectation_loads_in_gx_with_a_unique_name(gx_loaded):
    import great_expectations as gx
    from great_expectations.core.expectation_suite import ExpectationSuite

    data = json.loads(SUITE.read_text())
    suite = ExpectationSuite(**data)
    assert len(suite.expectations) == len(data["expectations"]) >= 12
    names = [e["meta"]["name"] for e in data["expectations"]]
    assert len(set(names)) == len(names)
    assert gx.__version__.startswith("1.")


def test_malformed_suite_is_a_data_error(gx_loaded, tmp_path):
    traj, tax = write_set(tmp_path)
    bad = tmp_path / "suite.json"
    bad.write_text(json.dumps({"name": "x", "expectations": [{"type": "expect_no_such_thing", "kwargs": {}}]}))
    with pytest.raises(DataError, match=r"expectations\[0\] \(expect_no_such_thing\)"):
        gx_loaded(trajectories=traj, taxonomy=tax, suite=bad, params=ValidateParams())
