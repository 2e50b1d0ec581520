"""Held-out set selection by Task.eval_set, gate skips, the train-split check, and deterministic sampling."""

from __future__ import annotations

import json

import pytest

from termcorpus.errors import DataError
from termcorpus.evaluate.sets import corpus_split_families, sample_tasks, select_eval_sets
from termcorpus.records import write_jsonl


def labelled(task_factory, tid: str, family: str, eval_set: str):  # type: ignore[no-untyped-def]
    return task_factory(tid, family).model_copy(update={"eval_set": eval_set})


@pytest.fixture
def layout(tmp_path, task_factory, corpus_factory):
    """Families a, b trained; c validation (its variants are not evaluated: not trained); e, f
    held out whole by generate; one composition and two novel-names tasks."""
    tasks = [task_factory(f"{f}-{i}", f) for f in "abc" for i in range(3)]
    heldout = [labelled(task_factory, f"{f}-h{i}", f, "heldout_variants") for f in "abc" for i in range(2)]
    heldout += [labelled(task_factory, f"{f}-v{i}", f, "heldout_families") for f in "ef" for i in range(2)]
    heldout += [labelled(task_factory, "comp-0", "skill-x", "heldout_compositions")]
    heldout += [labelled(task_factory, f"a-n{i}", "a", "novel_names") for i in range(2)]
    write_jsonl(tmp_path / "tasks" / "tasks.jsonl", tasks)
    write_jsonl(tmp_path / "tasks" / "heldout.jsonl", heldout)
    corpus_factory(tmp_path / "corpus", ["a", "a", "b"], ["c"])
    return tmp_path


def test_sets_are_read_by_eval_set(layout):
    sets, info = select_eval_sets(tasks_dir=layout / "tasks", corpus_dir=layout / "corpus", max_tasks=0, seed=0)
    assert [t.id for t in sets["heldout_variants"]] == ["a-h0", "a-h1", "b-h0", "b-h1"]
    assert [t.id for t in sets["heldout_families"]] == ["e-v0", "e-v1", "f-v0", "f-v1"]
    assert [t.id for t in sets["heldout_compositions"]] == ["comp-0"]
    assert [t.id for t in sets["novel_names"]] == ["a-n0", "a-n1"]
    assert info["heldout_variants"] == {"available_tasks": 4, "available_families": 2, "n_tasks": 4, "n_families": 2,
                                        "skipped_gate": 0, "not_trained": 2}  # c went to validation


def test_tasks_that_failed_the_gate_are_skipped_and_counted(layout):
    gate = layout / "gate.jsonl"
    gate.write_text("".join(json.dumps({"task_id": i, "kept": k, "reason": r}) + "\n" for i, k, r in [
        ("a-h0", False, "null_passed"), ("e-v1", False, "oracle_failed"), ("a-n0", True, None)]))
    sets, info = select_eval_sets(tasks_dir=layout / "tasks", corpus_dir=layout / "corpus", max_tasks=0, seed=0,
                                  gate_path=gate)
    assert [t.id for t in sets["heldout_variants"]] == ["a-h1", "b-h0", "b-h1"]
    assert [t.id for t in sets["heldout_families"]] == ["e-v0", "f-v0", "f-v1"]
    assert info["heldout_variants"]["skipped_gate"] == 1 and info["heldout_families"]["skipped_gate"] == 1
    assert info["novel_names"]["skipped_gate"] == 0
    with pytest.raises(DataError, match="gate verdicts not found"):
        select_eval_sets(tasks_dir=layout / "tasks", corpus_dir=layout / "corpus", max_tasks=0, seed=0,
                         gate_path=layout / "missing.jsonl")


def test_terminal_corpus_column_name_is_accepted(tmp_path, corpus_factory):
    corpus_factory(tmp_path / "corpus2", ["a"], ["c"], column="task_group_id")
    assert corpus_split_families(tmp_path / "corpus2") == ({"a"}, {"c"})


def test_sampling_is_deterministic_and_spreads_over_families(task_factory):
    tasks = [task_factory(f"{f}-{i}", f) for f in "abcdef" for i in range(5)]
    one = sample_tasks(tasks, 6, "0:heldout_variants")
    assert [t.id for t in one] == [t.id for t in sample_tasks(list(reversed(tasks)), 6, "0:heldout_variants")]
    assert len({t.family for t in one}) == 6
    assert [t.id for t in one] == sorted(t.id for t in one)
    assert [t.id for t in one] != [t.id for t in sample_tasks(tasks, 6, "1:heldout_variants")]
    assert len(sample_tasks(tasks, 0, 0)) == 30
    assert len(sample_tasks(tasks, 100, 0)) == 30


def test_max_tasks_caps_each_set(layout):
    sets, info = select_eval_sets(tasks_dir=layout / "tasks", corpus_dir=layout / "corpus", max_tasks=2, seed=5)
    assert len(sets["heldout_variants"]) == 2 and info["heldout_variants"]["n_families"] == 2
    assert len(sets["heldout_families"]) == 2


def test_family_in_both_splits_is_rejected(tmp_path, corpus_factory):
    corpus_factory(tmp_path / "corpus", ["a", "b"], ["b"])
    with pytest.raises(DataError, match="family 'b' is in both"):
        corpus_split_families(tmp_path / "corpus")


def test_no_heldout_task_at_all_is_a_data_error(tmp_path, task_factory, corpus_factory):
    write_jsonl(tmp_path / "tasks" / "tasks.jsonl", [task_factory("x-0", "x")])
    # a variant of a family the corpus never trained on, and a task of no set
    write_jsonl(tmp_path / "tasks" / "heldout.jsonl", [labelled(task_factory, "x-h0", "x", "heldout_variants"),
                                                      task_factory("x-h1", "x")])
    corpus_factory(tmp_path / "corpus", ["a"], ["c"])
    with pytest.raises(DataError, match="no held-out task"):
        select_eval_sets(tasks_dir=tmp_path / "tasks", corpus_dir=tmp_path / "corpus", max_tasks=0, seed=0)


def test_missing_or_foreign_corpus_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="not found"):
        corpus_split_families(tmp_path / "nope")
    (tmp_path / "plain").mkdir()
    with pytest.raises(DataError, match="not a saved Hugging Face dataset"):
        corpus_split_families(tmp_path / "plain")
