"""params.yaml is valid, and bad params fail with one line naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from termcorpus.errors import ConfigError
from termcorpus.params import SECTIONS, TrainParams, load_all, load_section, parse_section

REPO = Path(__file__).resolve().parents[1]


def test_shipped_params_yaml_loads_every_section():
    loaded = load_all(REPO / "params.yaml")
    assert set(loaded) == set(SECTIONS)
    assert isinstance(loaded["train"], TrainParams)


def test_dvc_yaml_has_exactly_the_seven_stages_in_order():
    dvc = yaml.safe_load((REPO / "dvc.yaml").read_text())
    assert list(dvc["stages"]) == ["seed", "generate", "execute", "validate", "balance", "train", "evaluate"]
    for name, stage in dvc["stages"].items():
        assert f"stages/{name}.py" in stage["cmd"]
        assert (REPO / "stages" / f"{name}.py").exists()


def test_unknown_key_names_section_and_key():
    with pytest.raises(ConfigError, match=r"unknown key 'train.max_stepz'"):
        parse_section("train", {"max_stepz": 3}, TrainParams)


def test_wrong_type_names_key_and_expected_type():
    with pytest.raises(ConfigError, match=r"'train.max_steps' must be int, got str"):
        parse_section("train", {"max_steps": "many"}, TrainParams)


def test_bool_is_not_accepted_as_int():
    with pytest.raises(ConfigError, match="must be int"):
        parse_section("train", {"max_steps": True}, TrainParams)


def test_out_of_range_value_is_rejected():
    with pytest.raises(ConfigError, match=r"'train.lr' must be <= 1.0"):
        parse_section("train", {"lr": 5}, TrainParams)


def test_choice_is_checked():
    from termcorpus.params import ExecuteParams

    with pytest.raises(ConfigError, match="must be one of"):
        parse_section("execute", {"sandbox": "chroot"}, ExecuteParams)


def test_int_is_widened_to_float():
    assert parse_section("train", {"lr": 1}, TrainParams).lr == 1.0


def test_invalid_yaml_names_file_and_line(tmp_path):
    bad = tmp_path / "params.yaml"
    bad.write_text("train:\n  lr: [1,\n")
    with pytest.raises(ConfigError, match=r"params.yaml:\d+: invalid YAML"):
        load_section("train", bad)


def test_missing_params_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_section("train", tmp_path / "nope.yaml")


def test_model_defaults_equal_params_yaml_both_ways():
    """params.yaml and the models are one source: every shipped key is a model field holding the
    same value as its default, and every model field is in params.yaml."""
    shipped = yaml.safe_load((REPO / "params.yaml").read_text())
    assert set(shipped) == set(SECTIONS)
    for name, cls in SECTIONS.items():
        raw = shipped[name] or {}
        fields = set(cls.__pydantic_fields__)
        assert set(raw) == fields, f"{name}: only in params.yaml {set(raw) - fields}, only in the model {fields - set(raw)}"
        assert parse_section(name, raw, cls) == cls(), f"{name}: a default differs from params.yaml"


def test_every_param_has_help_text():
    from termcorpus.params import describe

    for name, cls in SECTIONS.items():
        assert all(describe(cls).values()), name


def test_list_item_of_wrong_type_names_its_index():
    from termcorpus.params import EvaluateParams

    with pytest.raises(ConfigError, match=r"'evaluate.extra_tasks\[0\]' must be str, got int"):
        parse_section("evaluate", {"extra_tasks": [1]}, EvaluateParams)
