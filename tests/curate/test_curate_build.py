"""build_corpus end to end on a small synthetic set: split, card, metrics, determinism."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from termcorpus.curate import build_corpus, corpus_counts
from termcorpus.curate.samples import make_trajectory, trajectory_lines
from termcorpus.errors import DataError
from termcorpus.params import BalanceParams


def corpus_input(tmp: Path) -> Path:
    trajs = []
    domains = ["file_operations", "data_processing", "security"]
    skills = {"file_operations": ["find"], "data_processing": ["awk", "sort"], "security": ["chmod"]}
    for f in range(9):
        dom = domains[f % 3]
        for v in range(3):
            i = f * 3 + v
            cmds = [[f"ls d{i}"], [f"wc -l f{i}.txt"]] if i % 2 else [[f"ls d{i}"]]
            trajs.append(make_trajectory(
                f"t{i:03d}", family=f"fam{f}", domain=dom, skills=skills[dom], commands=cmds,
                passed=i % 10 != 4, source="skill" if f == 8 else "seed", slots={"dir": f"d{i}", "file": f"f{i}.txt"},
            ))
    trajs.append(make_trajectory("z-sudo", family="fam0", commands=[["sudo ls"]]))
    trajs.append(make_trajectory("z-dup", family="fam1", domain="data_processing", skills=["awk", "sort"],
                                 commands=[["ls d3"], ["wc -l f3.txt"]], slots={"dir": "d3", "file": "f3.txt"}))
    p = tmp / "trajectories.jsonl"
    p.write_text(trajectory_lines(trajs[::-1]), encoding="utf-8")  # order must not matter
    return p


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("corpus")
    src = corpus_input(tmp)
    metrics = build_corpus(trajectories=src, params=BalanceParams(val_fraction=0.3), out_dir=tmp / "corpus")
    return tmp, src, metrics


def test_filters_count_every_drop(built):
    _, _, m = built
    assert m["input_records"] == 29
    f = m["filters"]
    assert f["failed"]["dropped_failed"] == 3
    assert f["privileged"]["dropped_privileged_sudo"] == 1
    assert f["duplicate"]["dropped_duplicate"] == 1
    dropped = sum(c["dropped"] for c in f.values())
    assert m["kept_records"] == m["input_records"] - dropped == 24
    assert m["splits"]["train"]["records"] + m["splits"]["validation"]["records"] == 24


def test_no_family_in_both_splits(built):
    import datasets

    tmp, _, m = built
    dd = datasets.load_from_disk(str(tmp / "corpus"))
    train, val = set(dd["train"]["family"]), set(dd["validation"]["family"])
    assert train and val and not train & val
    assert set(dd["validation"]["task_group_id"]) == val
    assert sorted(val) == m["families_by_split"]["validation"]
    assert len(val) == 3  # 30% of 9 families, one per domain
    assert len(set(dd["validation"]["domain"])) == 3


def test_corpus_loads_as_chat_dataset(built):
    import datasets

    tmp, _, _ = built
    dd = datasets.load_from_disk(str(tmp / "corpus"))
    assert set(dd) == {"train", "validation"}
    row = dd["train"][0]
    assert [m["role"] for m in row["messages"]][:2] == ["user", "assistant"]
    assert json.loads(row["messages"][1]["content"])["commands"][0]["keystrokes"].startswith("ls ")
    assert row["subset"] in {"seed_based", "skill_based"} and row["slot_values"][0].startswith("d")
    assert row["n_assistant_turns"] == 1 and row["passed"] is True
    assert {"seed_based", "skill_based"} == set(dd["train"]["subset"]) | set(dd["validation"]["subset"])


def test_train_split_is_in_curriculum_order(built):
    import datasets

    tmp, _, _ = built
    train = datasets.load_from_disk(str(tmp / "corpus"))["train"]
    keys = list(zip(train["n_commands"], train["n_chars"], train["trajectory_id"]))
    assert keys == sorted(keys) and keys[0][0] == 1 and keys[-1][0] == 2


def test_card_and_lineage(built):
    tmp, _, m = built
    card = (tmp / "corpus" / "README.md").read_text()
    assert card.startswith("---\nlicense: apache-2.0")
    assert "privileged_sudo: 1" in card and "| seed_based |" in card and "| awk |" in card
    lineage = json.loads((tmp / "corpus" / "lineage.json").read_text())
    assert lineage["seeds_digest"] == "seeds-1" and len(lineage["task_set_digest"]) == 64
    counts = corpus_counts(m)
    assert counts["records"]["kept"] == 24 and counts["dropped"]["duplicate"] == 1


def test_same_input_gives_byte_identical_corpus(built, tmp_path):
    tmp, src, _ = built
    build_corpus(trajectories=src, params=BalanceParams(val_fraction=0.3), out_dir=tmp_path / "again")

    def files(root: Path) -> dict[str, bytes]:
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    first, second = files(tmp / "corpus"), files(tmp_path / "again")
    assert sorted(first) == sorted(second)
    assert "train/data-00000-of-00001.arrow" in first and "validation/state.json" in first
    for name in first:
        assert first[name] == second[name], name


def test_zero_val_fraction_gives_an_empty_but_loadable_validation_split(tmp_path):
    import datasets

    src = corpus_input(tmp_path)
    m = build_corpus(trajectories=src, params=BalanceParams(val_fraction=0.0, per_domain_cap=5), out_dir=tmp_path / "c")
    dd = datasets.load_from_disk(str(tmp_path / "c"))
    assert dd["validation"].num_rows == 0 and "messages" in dd["validation"].column_names
    assert m["filters"]["domain_cap"]["dropped_domain_cap"] > 0
    assert max(m["splits"]["train"]["by_domain"].values()) <= 5


def test_rebuild_replaces_old_corpus_but_refuses_foreign_dir(tmp_path):
    src = corpus_input(tmp_path)
    out = tmp_path / "c"
    build_corpus(trajectories=src, params=BalanceParams(), out_dir=out)
    (out / "stale.txt").write_text("old")
    build_corpus(trajectories=src, params=BalanceParams(), out_dir=out)
    assert not (out / "stale.txt").exists()
    foreign = tmp_path / "notes"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("mine")
    with pytest.raises(DataError, match="not a corpus"):
        build_corpus(trajectories=src, params=BalanceParams(), out_dir=foreign)
    assert (foreign / "keep.txt").exists()


def test_duplicate_ids_are_a_data_error(tmp_path):
    p = tmp_path / "t.jsonl"
    p.write_text(trajectory_lines([make_trajectory("a"), make_trajectory("a")]))
    with pytest.raises(DataError, match=r"t.jsonl:2: duplicate trajectory id 'a'"):
        build_corpus(trajectories=p, params=BalanceParams(), out_dir=tmp_path / "c")


def test_nothing_surviving_is_a_data_error(tmp_path):
    p = tmp_path / "t.jsonl"
    p.write_text(trajectory_lines([make_trajectory("a", passed=False)]))
    with pytest.raises(DataError, match="no trajectory survived"):
        build_corpus(trajectories=p, params=BalanceParams(), out_dir=tmp_path / "c")
