"""The unseen-names held-out view and the user's extra task dirs (real Harbor export / import)."""

from __future__ import annotations

import pytest

from termcorpus.errors import ConfigError, DataError
from termcorpus.evaluate.sets import load_extra_tasks, seen_values, select_eval_sets, unseen_slot_tasks
from termcorpus.records import write_jsonl


def test_a_value_is_seen_only_as_a_whole_name():
    texts = ["cat data.csv | wc -l > metadata_out.txt", "mv report-2.log /app/archive/"]
    values = ["data", "data.csv", "meta", "out", "report-2.log", "report", "archive", "2", "zebra", "--"]
    # "meta" and "out" sit inside longer words; "zebra" and "--" are nowhere
    assert seen_values(values, texts) == {"data", "data.csv", "report-2.log", "report", "archive", "2"}


def test_unseen_tasks_need_every_slot_value_unseen(task_factory):
    t_seen = task_factory("a-h0", "a", word="gamma")
    t_new = task_factory("a-h1", "a", word="zebra")
    t_mixed = task_factory("a-h2", "a", word="zebra").model_copy(update={"slots": {"w": "zebra", "n": "3"}})
    t_none = task_factory("a-h3", "a").model_copy(update={"slots": {}})
    got = unseen_slot_tasks([t_seen, t_new, t_mixed, t_none], iter(["echo gamma > out.txt; head -n 3 x"]))
    assert [t.id for t in got] == ["a-h1"]


def test_select_reads_the_train_split_chats_only(tmp_path, task_factory, corpus_factory):
    heldout = [task_factory("a-h0", "a", word="gamma"), task_factory("a-h1", "a", word="delta")]
    write_jsonl(tmp_path / "tasks" / "tasks.jsonl", [task_factory("a-0", "a")])
    write_jsonl(tmp_path / "tasks" / "heldout.jsonl", heldout)
    # "delta" appears only in validation-split text: it still counts as unseen by training
    corpus_factory(tmp_path / "corpus", ["a"], ["c"], train_texts=["echo gamma"])
    sets, info = select_eval_sets(tasks_dir=tmp_path / "tasks", corpus_dir=tmp_path / "corpus", max_tasks=0, seed=0)
    assert [t.id for t in sets["heldout_variants"]] == ["a-h0", "a-h1"]
    assert [t.id for t in sets["heldout_unseen_names"]] == ["a-h1"]
    assert sets["extra"] == [] and info["extra"]["n_tasks"] == 0


def test_corpus_without_chats_is_a_data_error(tmp_path, task_factory):
    from datasets import Dataset, DatasetDict

    DatasetDict({"train": Dataset.from_dict({"family": ["a"]}), "validation": Dataset.from_dict({"family": ["c"]})}
                ).save_to_disk(str(tmp_path / "corpus"))
    write_jsonl(tmp_path / "tasks" / "tasks.jsonl", [task_factory("a-0", "a")])
    write_jsonl(tmp_path / "tasks" / "heldout.jsonl", [task_factory("a-h0", "a")])
    with pytest.raises(DataError, match="no 'messages' column"):
        select_eval_sets(tasks_dir=tmp_path / "tasks", corpus_dir=tmp_path / "corpus", max_tasks=0, seed=0)


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
