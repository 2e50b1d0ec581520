"""Per-skill cap and rare-skill upsampling, the rejects file, the Parquet copies, the stage's
--eval-tasks argument, and byte-identical rebuilds of all of it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from termcorpus.curate import build_corpus, corpus_counts
from termcorpus.curate.balance import SkillCapFilter, skill_counts, upsample_rare_skills
from termcorpus.curate.samples import make_trajectory, trajectory_lines
from termcorpus.params import BalanceParams

REPO = Path(__file__).resolve().parents[2]

# skill -> (domain, trajectories): "find" is common, "chmod" rare, awk+sort always together
PLAN = [("find", "file_operations", 12), ("awk+sort", "data_processing", 5), ("chmod", "security", 2),
        ("find+chmod", "security", 1)]


def records():
    out = []
    for skills, domain, n in PLAN:
        for v in range(n):
            name = f"{skills.replace('+', '_')}{v:02d}"
            out.append(make_trajectory(name, family=f"fam-{skills}-{v % 3}", domain=domain, skills=skills.split("+"),
                                       commands=[[f"ls {name}"]], slots={"dir": name}))
    return out


def test_skill_cap_is_a_true_maximum_and_rare_skills_go_first():
    recs = records()
    f = SkillCapFilter(cap=3, seed=0).fit(recs)
    kept = f.run(recs)
    counts = skill_counts(kept)
    assert counts == {"awk": 3, "chmod": 3, "find": 3, "sort": 3}
    # the one find+chmod trajectory carries the rarest skill: it was taken before plain "find" filled up
    assert "find_chmod00" in {t.id for t in kept}
    assert f.counts() == {"kept": 8, "dropped": 12, "dropped_skill_cap": 12}
    assert f.rejects[0].detail.startswith("cap of 3 reached for ")


def test_skill_cap_choice_depends_on_the_seed_only():
    recs = records()
    a = [t.id for t in SkillCapFilter(3, seed=0).fit(recs).run(recs)]
    b = [t.id for t in SkillCapFilter(3, seed=0).fit(recs[::-1]).run(recs)]
    c = [t.id for t in SkillCapFilter(3, seed=1).fit(recs).run(recs)]
    assert a == b and a != c


def test_upsample_repeats_rare_skills_with_suffixed_ids():
    recs = records()
    out, added = upsample_rare_skills(recs, min_count=6, seed=0)
    counts = skill_counts(out)
    copies = [t for t in out if "#r" in t.id]
    assert counts["chmod"] == 6 and counts["awk"] == counts["sort"] == 6
    # a copy counts for each of its skills: find grows with every copy of find+chmod
    assert counts["find"] == 13 + sum(t.id.startswith("find_chmod00#") for t in copies)
    assert added == len(out) - len(recs) == 3 + 1
    assert all(t.id.rsplit("#r", 1)[0] in {r.id for r in recs} for t in copies)
    assert len({t.id for t in out}) == len(out)
    assert {c.id.rsplit("#r", 1)[1] for c in copies} <= {"1", "2"}
    assert upsample_rare_skills(recs, 0, 0) == (recs, 0)


def test_upsample_never_reuses_an_existing_id():
    recs = [make_trajectory("a", skills=["x"]), make_trajectory("a#r1", skills=["y"], slots={"d": "2"})]
    out, added = upsample_rare_skills(recs, 2, 0)
    assert sorted(t.id for t in out) == ["a", "a#r1", "a#r1#r1", "a#r2"] and added == 2


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("balance")
    recs = records() + [make_trajectory("zz-failed", passed=False), make_trajectory("zz-sudo", commands=[["sudo ls"]])]
    src = tmp / "t.jsonl"
    src.write_text(trajectory_lines(recs))
    params = BalanceParams(val_fraction=0.0, per_skill_cap=4, upsample_min=4)
    m = build_corpus(trajectories=src, params=params, out_dir=tmp / "corpus")
    return tmp, src, params, m


def test_balance_metrics_report_skills_and_domains_before_and_after(corpus):
    _, _, _, m = corpus
    b = m["balance"]
    assert b["train_by_skill"]["before"]["find"] == 13 and b["train_by_skill"]["after"]["find"] == 4
    assert b["train_by_domain"]["before"] == {"data_processing": 5, "file_operations": 12, "security": 3}
    assert sum(b["train_by_domain"]["after"].values()) == m["splits"]["train"]["records"]
    assert b["input_by_domain"]["file_operations"] == 14
    assert m["upsampled"] == 1 and corpus_counts(m)["upsampled"] == 1  # chmod: 3 kept, one copy
    assert m["kept_records"] == m["input_records"] - sum(c["dropped"] for c in m["filters"].values()) + m["upsampled"]


def test_rejects_file_lists_every_drop(corpus):
    tmp, _, _, m = corpus
    rows = [json.loads(line) for line in (tmp / "corpus" / "rejects.jsonl").read_text().splitlines()]
    assert len(rows) == sum(c["dropped"] for c in m["filters"].values())
    reasons = Counter(r["reason"] for r in rows)
    assert reasons == {"failed": 1, "privileged_sudo": 1, "skill_cap": m["filters"]["skill_cap"]["dropped"]}
    assert all(set(r) == {"id", "filter", "reason", "detail"} for r in rows)


def test_corpus_loads_both_ways_with_the_extra_files(corpus, tmp_path):
    import datasets

    tmp, _, _, m = corpus
    root = tmp / "corpus"
    assert (root / "rejects.jsonl").exists() and (root / "parquet" / "train.parquet").exists()
    disk = datasets.load_from_disk(str(root))
    pq = datasets.load_dataset("parquet", cache_dir=str(tmp_path / "cache"),
                               data_files={"train": str(root / "parquet" / "train.parquet")})
    assert set(disk) == {"train", "validation"} and disk["validation"].num_rows == 0
    # load_dataset cannot load an empty split, so the empty validation split has no Parquet file
    assert not (root / "parquet" / "validation.parquet").exists()
    assert pq["train"].features == disk["train"].features
    assert pq["train"]["trajectory_id"] == disk["train"]["trajectory_id"]
    assert pq["train"].num_rows == m["splits"]["train"]["records"]
    assert any(i.endswith("#r1") for i in disk["train"]["trajectory_id"])
    card = (root / "README.md").read_text()
    assert 'load_dataset("parquet"' in card and "load_from_disk" in card and "rejects.jsonl" in card
    assert '"train": "data/corpus/parquet/train.parquet"' in card and "validation.parquet" not in card


def test_both_splits_get_parquet_and_load_with_load_dataset(tmp_path):
    import datasets

    src = tmp_path / "t.jsonl"
    src.write_text(trajectory_lines(records()))
    build_corpus(trajectories=src, params=BalanceParams(val_fraction=0.4), out_dir=tmp_path / "c")
    files = {s: str(tmp_path / "c" / "parquet" / f"{s}.parquet") for s in ("train", "validation")}
    pq = datasets.load_dataset("parquet", data_files=files, cache_dir=str(tmp_path / "cache"))
    disk = datasets.load_from_disk(str(tmp_path / "c"))
    for split in ("train", "validation"):
        assert pq[split].num_rows > 0 and pq[split]["trajectory_id"] == disk[split]["trajectory_id"]
    assert not set(pq["train"]["family"]) & set(pq["validation"]["family"])


def test_rebuild_is_byte_identical_including_parquet_and_rejects(corpus, tmp_path):
    tmp, src, params, _ = corpus
    build_corpus(trajectories=src, params=params, out_dir=tmp_path / "again")

    def files(root: Path) -> dict[str, bytes]:
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    first, second = files(tmp / "corpus"), files(tmp_path / "again")
    assert {"parquet/train.parquet", "rejects.jsonl"} <= set(first)
    assert first == second


def test_dvc_stage_passes_the_heldout_tasks_and_depends_on_them():
    stage = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]["balance"]
    assert "--eval-tasks data/tasks/heldout.jsonl" in stage["cmd"]
    assert "data/tasks/heldout.jsonl" in stage["deps"]
    params = yaml.safe_load((REPO / "params.yaml").read_text())["balance"]
    assert {"near_dup": True, "near_dup_threshold": 0.9, "near_dup_num_perm": 64, "decontam_ngram": 14,
            "per_skill_cap": 0, "upsample_min": 0}.items() <= params.items()


@pytest.mark.slow
@pytest.mark.integration
def test_stage_decontaminates_against_eval_tasks(tmp_path):
    from termcorpus.curate.samples import trajectory_of_task
    from termcorpus.records import Task, write_jsonl

    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["balance"]["val_fraction"] = 0.0  # every family in train, where decontamination applies
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "validation.json").write_text('{"success": true}')
    held = Task(id="h-v9", family="fam0", source="seed", domain="file_operations", instruction=(
        "Copy every line of alpha_report.txt that mentions beta_server into gamma_lines.txt, keeping their order, "
        "and nothing else."), solution=["grep beta_server alpha_report.txt > gamma_lines.txt"],
        tests={"test.sh": "exit 0\n"}, slots={"a": "alpha_report", "b": "beta_server", "g": "gamma_lines"})
    write_jsonl(tmp_path / "heldout.jsonl", [held])
    trajs = [make_trajectory(f"t{i}", family=f"fam{i % 4}", commands=[[f"ls {i}"]], slots={"n": str(i)})
             for i in range(8)]
    trajs.append(trajectory_of_task(held, id="t9-leak").model_copy(update={"family": "fam1"}))
    (tmp_path / "t.jsonl").write_text(trajectory_lines(trajs))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING")}
    env.update(MLFLOW_DISABLE_TELEMETRY="true", HF_DATASETS_OFFLINE="1")
    proc = subprocess.run(
        [sys.executable, str(REPO / "stages" / "balance.py"), "--trajectories", "t.jsonl", "--validation",
         "metrics/validation.json", "--eval-tasks", "heldout.jsonl", "--out", "data/corpus", "--metrics",
         "metrics/curation.json", "--detail", "reports/balance_detail.json"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "metrics" / "curation.json").read_text()) == {"records": 8}
    cur = json.loads((tmp_path / "reports" / "balance_detail.json").read_text())
    assert cur["filters"]["contaminated"]["dropped"] == 1
    assert cur["filters"]["near_duplicate"]["dropped"] == 0
    assert '"id":"t9-leak"' in (tmp_path / "data" / "corpus" / "rejects.jsonl").read_text()
