"""The trajectory expectation suite, written as code and committed as JSON.

``expectations/trajectories.json`` (a Great Expectations 1.x ExpectationSuite) is what the
validate stage loads and what users edit; this module is where it comes from, so the
privileged-command patterns are the same ones the curation filter uses. Regenerate with
``python -m termcorpus.validate.suite expectations/trajectories.json``; a test checks the committed
file matches.

Every expectation carries ``meta.name`` (the key in metrics/validation.json and the word in the
failure message) and ``meta.why``. Values known only at run time are GX suite parameters
(``{"$PARAMETER": name}``): the taxonomy's domains and the ``validate`` params.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from termcorpus.curate.safety import privileged_patterns

SUITE_NAME = "trajectories"

# Columns every trajectory frame must have (the record fields the rules below read).
REQUIRED_COLUMNS = [
    "trajectory_id", "task_id", "family", "source", "domain", "skills", "agent", "model",
    "instruction", "reward", "passed", "n_turns", "n_commands",
]

# The run-time values the suite refers to (see validate.run.suite_parameters).
PARAMETERS = ("domains", "max_turns", "max_record_chars", "min_pass_rate")


def _param(name: str) -> dict[str, str]:
    return {"$PARAMETER": name}


def _exp(name: str, why: str, gx_type: str, /, **kwargs: Any) -> dict[str, Any]:
    return {"type": gx_type, "kwargs": kwargs, "meta": {"name": name, "why": why}, "severity": "critical"}


def _all_true(name: str, column: str, why: str) -> dict[str, Any]:
    return _exp(name, why, "expect_column_values_to_be_in_set", column=column, value_set=[True])


def build_suite() -> dict[str, Any]:
    """The suite as the JSON object GX reads (``ExpectationSuite(**obj)``)."""
    exps = [
        _exp("has_rows", "An empty trajectory file means execute produced nothing.",
             "expect_table_row_count_to_be_between", min_value=1),
        _exp("required_columns", "The fields the corpus and the rules below need exist.",
             "expect_table_columns_to_match_set", column_set=REQUIRED_COLUMNS, exact_match=False),
        _all_true("utf8", "utf8_ok", "Every line decodes as UTF-8 (no binary garbage in training text)."),
        _all_true("json", "json_ok", "Every line is one JSON object."),
        _all_true("schema", "schema_ok", "Every record matches records.Trajectory (types, ranges, no extra fields)."),
        _all_true("required_fields", "required_present", "No required field is missing or null."),
        _exp("ids_not_null", "Every trajectory has an id.",
             "expect_column_values_to_not_be_null", column="trajectory_id"),
        _exp("ids_unique", "Trajectory ids are unique (splits, dedup and lineage key on them).",
             "expect_column_values_to_be_unique", column="trajectory_id"),
        _exp("reward_in_range", "The verifier reward is a share: 0..1.",
             "expect_column_values_to_be_between", column="reward", min_value=0.0, max_value=1.0),
        _exp("passed_is_boolean", "`passed` is a JSON boolean, not 1/0 or a string.",
             "expect_column_values_to_be_of_type", column="passed", type_="bool"),
        _exp("domain_in_taxonomy", "Every domain is one the taxonomy lists.",
             "expect_column_values_to_be_in_set", column="domain", value_set=_param("domains")),
        _all_true("skills_in_taxonomy", "skills_known", "Every skill is one the taxonomy lists."),
        _exp("n_turns_in_range", "An episode has at least one turn and at most validate.max_turns.",
             "expect_column_values_to_be_between", column="n_turns", min_value=1, max_value=_param("max_turns")),
        _all_true("turns_consistent", "turns_consistent", "n_turns equals the number of recorded turns."),
        _exp("n_commands_nonnegative", "Command counts are never negative.",
             "expect_column_values_to_be_between", column="n_commands", min_value=0),
        _exp("record_length", "No trajectory is longer than validate.max_record_chars characters of chat.",
             "expect_column_values_to_be_between", column="total_chars", min_value=0,
             max_value=_param("max_record_chars")),
        _exp("no_privileged_commands",
             "No keystrokes escalate privileges or damage the machine (rules: termcorpus.curate.safety).",
             "expect_column_values_to_not_match_regex_list", column="keystrokes",
             regex_list=privileged_patterns()),
        _exp("instruction_not_empty", "Every task instruction has visible text.",
             "expect_column_values_to_match_regex", column="instruction", regex=r"\S"),
        _all_true("messages_alternate", "messages_alternate",
                  "Chats are [system] user, assistant, user, ... with at least one assistant turn."),
        _all_true("canary_free", "canary_free", "No evaluation canary appears in training text (decontamination)."),
        _exp("pass_rate", "At least validate.min_pass_rate of the trajectories passed their verifier.",
             "expect_column_mean_to_be_between", column="passed_rate", min_value=_param("min_pass_rate"),
             max_value=1.0),
    ]
    return {
        "name": SUITE_NAME,
        "expectations": exps,
        "meta": {"great_expectations_version": "1.24.1", "generated_by": "termcorpus.validate.suite"},
        "notes": "Generated by termcorpus.validate.suite; run-time values are $PARAMETER references.",
    }


def suite_json() -> str:
    return json.dumps(build_suite(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m termcorpus.validate.suite expectations/trajectories.json")
    Path(sys.argv[1]).write_text(suite_json(), encoding="utf-8")
