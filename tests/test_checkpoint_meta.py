"""One checkpoint-metadata model (termcorpus.json) for train, evaluate, tracking and the lineage report."""

from __future__ import annotations

import json

import pytest

from termcorpus.checkpoint_meta import META_FILE, parse_meta, read_meta, update_meta, write_meta
from termcorpus.errors import DataError


def test_every_reader_and_writer_uses_the_one_module():
    import termcorpus.evaluate.agents as ev
    import termcorpus.report.lineage as lin
    import termcorpus.tracking.registry as reg
    import termcorpus.train.loop as loop

    assert ev.read_meta is read_meta and reg.read_meta is read_meta and loop.update_meta is update_meta
    assert reg.update_meta is update_meta and lin.parse_meta is parse_meta
    assert {ev.META_FILE, lin.META_FILE, reg.META_FILE, loop.META_FILE} == {META_FILE}


def test_round_trip_keeps_unknown_keys_and_sorts_bytes(tmp_path):
    write_meta(tmp_path, {"step": 3, "final_loss": 0.5, "future_field": [1, 2]})
    update_meta(tmp_path, run_id="abc", model_version="2")
    assert read_meta(tmp_path) == {"step": 3, "final_loss": 0.5, "future_field": [1, 2], "run_id": "abc",
                                   "model_version": "2"}
    text = (tmp_path / META_FILE).read_text()
    assert list(json.loads(text)) == sorted(json.loads(text))
    assert read_meta(tmp_path / "none") == {}


@pytest.mark.parametrize("text, message", [
    ('{"step": "three"}', "field 'step'"),
    ("[1, 2]", "expected a JSON object"),
    ("{not json", "invalid JSON"),
])
def test_bad_metadata_is_one_line_naming_the_file_and_field(tmp_path, text, message):
    (tmp_path / META_FILE).write_text(text)
    with pytest.raises(DataError) as err:
        read_meta(tmp_path)
    assert message in str(err.value) and META_FILE in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(DataError):
        write_meta(tmp_path, {"val_loss": "low"})


def test_serving_config_comes_from_the_checkpoint_else_the_param_defaults(tmp_path):
    from termcorpus.params import EvaluateParams, ExecuteParams
    from termcorpus.tracking.registry import _serving_config

    assert _serving_config(tmp_path) == (ExecuteParams().prompt_style, EvaluateParams().max_new_tokens)
    update_meta(tmp_path, prompt_style="terminus2", max_new_tokens=64)
    assert _serving_config(tmp_path) == ("terminus2", 64)
