"""The user's extra task dirs as an evaluation set (real Harbor export / import)."""

from __future__ import annotations

import pytest

from termcorpus.errors import ConfigError, DataError
from termcorpus.evaluate.sets import load_extra_tasks, select_eval_sets
from termcorpus.records import write_jsonl


def test_no_extra_dirs_give_an_empty_extra_set(tmp_path, task_factory, corpus_factory):
    write_jsonl(tmp_path / "tasks" / "tasks.jsonl", [task_factory("a-0", "a")])
    write_jsonl(tmp_path / "tasks" / "heldout.jsonl",
                [task_factory("a-h0", "a").model_copy(update={"eval_set": "heldout_variants"})])
    corpus_factory(tmp_path / "corpus", ["a"], ["c"])
    sets, info = select_eval_sets(tasks_dir=tmp_path / "tasks", corpus_dir=tmp_path / "corpus", max_tasks=0, seed=0)
    assert [t.id for t in sets["heldout_variants"]] == ["a-h0"]
    assert sets["extra"] == [] and info["extra"]["n_tasks"] == 0


def test_extra_dirs_import_a_parent_and_a_single_task(tmp_path, task_factory):
    from termcorpus.tasks.interop import export_harbor

    for i in range(2):
        export_harbor(task_factory(f"bench-{i}", "bench", word=f"w{i}"), tmp_path / "many" / f"bench-{i}")
    export_harbor(task_factory("solo", "solo"), tmp_path / "solo")
    tasks = load_extra_tasks([str(tmp_path / "many"), str(tmp_path / "solo")])
    assert [t.id for t in tasks] == ["bench-0", "bench-1", "solo"]
    assert tasks[0] == task_factory("bench-0", "bench", word="w0")  # Harbor round trip is lossless
    with pytest.raises(DataError, match="'solo' is also imported"):
        load_extra_tasks([str(tmp_path / "solo"), str(tmp_path / "solo")])


def test_bad_extra_entries_name_the_problem(tmp_path):
    with pytest.raises(ConfigError, match=r"extra_tasks\[0\]"):
        load_extra_tasks([3])
    with pytest.raises(DataError, match="not a directory"):
        load_extra_tasks([str(tmp_path / "missing")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="holds no task directory"):
        load_extra_tasks([str(tmp_path / "empty")])
