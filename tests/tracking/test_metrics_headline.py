"""Metrics a person can read: each stage's metrics file is a few dozen flat headline keys, no timings.

* dvc.yaml: every data stage declares its detail JSON as a plain out (cache: false), not a metric;
* the headline producers of seed, execute, validate and balance, fed by the real library code on
  small inputs, return <= 40 flat numeric keys and nothing named like a clock reading;
* every metrics file dvc.yaml declares that exists on disk and was written by the stage command
  dvc.yaml has now (per dvc.lock) obeys the same rule, one test per file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from termcorpus.tracking.metrics import HEADLINES, MAX_HEADLINE_KEYS, TIMING_KEY, flatten, headline, unflatten

REPO = Path(__file__).resolve().parents[2]
DATA_STAGES = {"seed": "seed", "execute": "execute", "validate": "validate", "balance": "balance"}
# `dvc metrics show` prints one table whose columns are the union of every metrics file's keys:
# the shared headline vocabulary keeps it this narrow (a maximised terminal; measured 206).
MAX_SHOW_WIDTH = 220
MAX_COLUMNS = 16


def _dvc_yaml() -> dict:
    return yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]


def _paths(entries) -> list[tuple[str, dict]]:
    out = []
    for e in entries or []:
        if isinstance(e, str):
            out.append((e, {}))
        else:
            out.extend((k, v or {}) for k, v in e.items())
    return out


def declared_metrics_files() -> list[str]:
    return sorted({p for st in _dvc_yaml().values() for p, _ in _paths(st.get("metrics"))})


def check_headline(flat: dict, where: str) -> None:
    assert len(flat) <= MAX_HEADLINE_KEYS, f"{where}: {len(flat)} keys (> {MAX_HEADLINE_KEYS}): {sorted(flat)[:50]}"
    clock = [k for k in flat if TIMING_KEY.search(k.rsplit(".", 1)[-1])]
    assert not clock, f"{where}: timing keys {clock}"


def test_data_stages_declare_detail_as_plain_outs():
    stages = _dvc_yaml()
    for stage in DATA_STAGES:
        outs = dict(_paths(stages[stage].get("outs")))
        detail = f"reports/{stage}_detail.json"
        assert detail in outs and outs[detail].get("cache") is False, f"dvc.yaml: {stage} must declare {detail}"
        assert f"--detail {detail}" in stages[stage]["cmd"]
        assert detail not in dict(_paths(stages[stage].get("metrics")))


def test_timing_keys_are_recognised():
    for k in ("tokens_per_sec", "elapsed_sec", "wall_time_sec", "duration", "elapsed", "tasks_per_sec"):
        assert TIMING_KEY.search(k), k
    for k in ("n_tasks", "pass_rate", "mean_turns", "final_loss", "success"):
        assert not TIMING_KEY.search(k), k


def test_headline_drops_detail_and_timings_and_round_trips():
    m = {"n_tasks": 3, "pass_rate": 1.0, "wall_time_sec": 2.5, "tasks_per_sec": 9.1,
         "by_domain": {"security": {"n_tasks": 3}}, "teacher": "oracle"}
    h = headline("execute", m)
    assert h == {"tasks": 3, "pass_rate": 1.0}
    assert flatten(unflatten({"a.b": 1, "a.c": 2, "d": 3})) == {"a.b": 1, "a.c": 2, "d": 3}
    with pytest.raises(KeyError, match="no headline metrics defined for stage 'nope'"):
        headline("nope", m)


def test_seed_headline_from_the_real_catalog():
    from termcorpus.generate.catalog import build_catalog

    m = build_catalog(seeds_dir=REPO / "data/seeds", skills_dir=REPO / "data/skills").metrics()
    assert len(flatten(m)) > MAX_HEADLINE_KEYS  # the full dict would not fit: the split matters
    h = headline("seed", m)
    check_headline(h, "seed")
    assert h == {"seeds": m["n_seeds"]} and h["seeds"] >= 40


@pytest.mark.integration
def test_execute_validate_balance_headlines_from_the_real_library(tmp_path):
    import shutil

    from termcorpus.curate import build_corpus
    from termcorpus.curate.samples import make_taxonomy, make_trajectory, taxonomy_json, trajectory_lines
    from termcorpus.execute.pool import execute_tasks
    from termcorpus.params import BalanceParams, ExecuteParams, ValidateParams
    from termcorpus.records import Task
    from termcorpus.validate.run import check_trajectories

    if shutil.which("bwrap") is None:
        pytest.skip("bwrap is not installed")
    tasks = [Task(id=f"t{i}", family=f"f{i}", source="seed", domain="file_operations", skills=["x"],
                  instruction="Write hi into out.txt.", solution=["echo hi > out.txt"],
                  tests={"test.sh": '#!/bin/bash\ntest "$(cat out.txt)" = hi\n'}) for i in range(2)]
    m = execute_tasks(tasks, params=ExecuteParams(workers=1), seeds_digest="s", git_rev="g",
                      out_path=tmp_path / "x" / "trajectories.jsonl")
    check_headline(headline("execute", m), "execute")
    assert headline("execute", m) == {"tasks": 2, "pass_rate": 1.0}

    (tmp_path / "taxonomy.json").write_text(taxonomy_json(make_taxonomy()))
    good = [make_trajectory(f"t{i}", family=f"fam{i % 4}", commands=[[f"ls {i}"]], slots={"n": str(i)})
            for i in range(8)]
    (tmp_path / "t.jsonl").write_text(trajectory_lines(good))
    v = check_trajectories(trajectories=tmp_path / "t.jsonl", taxonomy=tmp_path / "taxonomy.json",
                           suite=REPO / "expectations" / "trajectories.json", params=ValidateParams())
    assert len(flatten(v)) > MAX_HEADLINE_KEYS
    hv = headline("validate", v)
    check_headline(hv, "validate")
    assert hv == {"records": 8, "success": True}

    c = build_corpus(trajectories=tmp_path / "t.jsonl", params=BalanceParams(), out_dir=tmp_path / "corpus")
    hc = headline("balance", c)
    check_headline(hc, "balance")
    assert hc == {"records": 8}


def _current_producer(rel: str) -> str | None:
    """Why ``rel`` on disk was not written by the stage as dvc.yaml defines it now (None: it was).

    A file committed by an older stage command (before its headline split) says nothing about
    the current producer; after `dvc repro` (the lead regenerates dvc.lock) every file is checked.
    """
    lock_path = REPO / "dvc.lock"
    lock = (yaml.safe_load(lock_path.read_text()) or {}).get("stages", {}) if lock_path.exists() else {}
    for name, st in _dvc_yaml().items():
        if rel in dict(_paths(st.get("metrics"))):
            locked = lock.get(name, {})
            if locked.get("cmd") != st["cmd"]:
                return f"dvc.lock's {name} ran another command than dvc.yaml's: rerun `dvc repro {name}`"
    return None


@pytest.mark.parametrize("rel", declared_metrics_files())
def test_metrics_file_on_disk_is_headline_only(rel):
    path = REPO / rel
    if not path.exists():
        pytest.skip(f"{rel} not produced yet (run the pipeline)")
    stale = _current_producer(rel)
    if stale:
        pytest.skip(stale)
    check_headline(flatten(json.loads(path.read_text(encoding="utf-8"))), rel)


def test_every_data_stage_has_a_headline_definition():
    assert set(DATA_STAGES) <= set(HEADLINES)


def test_headline_vocabulary_is_shared_and_small():
    """Every headline name of every stage and agent: the columns of `dvc metrics show`."""
    from termcorpus.evaluate.metrics import HEADLINE_SETS

    names = {n for spec in HEADLINES.values() for n in spec} | set(HEADLINE_SETS.values()) | {"valid_json"}
    assert len(names) <= MAX_COLUMNS, sorted(names)
    # stages share names: a count column and a rate column serve several rows
    assert HEADLINES["generate"]["tasks"] == HEADLINES["execute"]["tasks"] == "n_tasks"
    assert "records" in HEADLINES["validate"] and "records" in HEADLINES["balance"]


def test_eval_headline_is_one_file_per_agent_with_set_columns():
    from termcorpus.evaluate.metrics import agent_headline, split_detail

    cell = {"n": 4, "success_rate": 0.5, "valid_json_rate": 0.98, "trace_match": 0.25, "by_domain": {}}
    per_set = {"heldout_variants": cell, "heldout_families": {**cell, "valid_json_rate": 0.9},
               "extra": {"n": 0}, "extra_mine": cell}
    assert agent_headline(per_set) == {"variants": 0.5, "families": 0.5, "valid_json": 0.9}
    heads, detail = split_detail({"finetuned": per_set, "base": per_set, "sets": {"x": 1}}, ["finetuned", "base"])
    assert set(heads) == {"finetuned", "base"} and detail["finetuned"] == per_set and detail["sets"] == {"x": 1}
    stages = _dvc_yaml()
    declared = dict(_paths(stages["evaluate"].get("metrics")))
    assert set(declared) == {f"metrics/eval/{a}.json" for a in ("finetuned", "retrieval", "base")}


def test_dvc_metrics_show_fits_a_terminal():
    """The real `dvc metrics show` of this repository's metrics files (those the current stage
    commands wrote): at most MAX_SHOW_WIDTH characters wide."""
    import os
    import subprocess
    import sys

    stale = [r for r in declared_metrics_files() if not (REPO / r).exists() or _current_producer(r)]
    if stale:
        pytest.skip(f"metrics files not written by the current stage commands yet: {stale[:3]} (run dvc repro)")
    dvc = Path(sys.executable).with_name("dvc")
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    out = subprocess.run([str(dvc), "metrics", "show"], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=120, check=True).stdout
    lines = out.splitlines()
    assert len(lines) == 1 + len(declared_metrics_files()), out
    width = max(map(len, lines))
    assert width <= MAX_SHOW_WIDTH, f"`dvc metrics show` is {width} characters wide:\n{out}"
