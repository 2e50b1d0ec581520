"""Held-out set selection by the corpus's family split, and deterministic sampling."""

from __future__ import annotations

import pytest

from termcorpus.errors import DataError
from termcorpus.evaluate.sets import corpus_split_families, sample_tasks, select_eval_sets
from termcorpus.records import write_jsonl


@pytest.fixture
def layout(tmp_path, task_factory, corpus_factory):
    """Families a, b trained; c validation; d never in the corpus (e.g. all its trajectories failed)."""
    tasks = [task_factory(f"{f}-{i}", f) for f in "abcd" for i in range(3)]
    heldout = [task_factory(f"{f}-h{i}", f) for f in "abcd" for i in range(2)]
    write_jsonl(tmp_path / "tasks" / "tasks.jsonl", tasks)
    write_jsonl(tmp_path / "tasks" / "heldout.jsonl", heldout)
    corpus_factory(tmp_path / "corpus", ["a", "a", "b"], ["c"])
    return tmp_path


def test_sets_follow_the_family_split(layout):
    sets, info = select_eval_sets(tasks_dir=layout / "tasks", corpus_dir=layout / "corpus", max_tasks=0, seed=0)
    assert [t.id for t in sets["heldout_variants"]] == ["a-h0", "a-h1", "b-h0", "b-h1"]
    assert [t.id for t in sets["heldout_families"]] == ["c-0", "c-1", "c-2"]
    assert info["heldout_variants"] == {"available_tasks": 4, "available_families": 2, "n_tasks": 4, "n_families": 2}


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
    write_jsonl(tmp_path / "tasks" / "heldout.jsonl", [task_factory("x-h0", "x")])
    corpus_factory(tmp_path / "corpus", ["a"], ["c"])
    with pytest.raises(DataError, match="no held-out task"):
        select_eval_sets(tasks_dir=tmp_path / "tasks", corpus_dir=tmp_path / "corpus", max_tasks=0, seed=0)


def test_missing_or_foreign_corpus_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="not found"):
        corpus_split_families(tmp_path / "nope")
    (tmp_path / "plain").mkdir()
    with pytest.raises(DataError, match="not a saved Hugging Face dataset"):
        corpus_split_families(tmp_path / "plain")
