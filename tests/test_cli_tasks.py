"""``termcorpus tasks export | import | check`` and ``termcorpus run TASK_DIR`` via CliRunner."""

from __future__ import annotations

import json

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from termcorpus.cli_tasks import tasks_group
from termcorpus.records import Task, read_jsonl, write_jsonl

REPO = Path(__file__).resolve().parents[1]
CHECK = '#!/bin/bash\ncd /app\n[ "$(cat count.txt 2>/dev/null)" = "3" ] && echo 1 > /logs/verifier/reward.txt\n'
needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")


def _task(i: int, test: str = CHECK) -> Task:
    return Task(id=f"count-{i}", family="count", source="seed", domain="file_operations", skills=["wc"],
                instruction="Write the number of lines of in.txt to count.txt.", files={"in.txt": "a\nb\nc\n"},
                solution=["wc -l < in.txt > count.txt"], tests={"test.sh": test})


@pytest.fixture
def tasks_file(tmp_path) -> Path:
    path = tmp_path / "tasks.jsonl"
    write_jsonl(path, [_task(0), _task(1), _task(2, test="#!/bin/bash\ntest -f /app/count.txt\n")])
    return path


def test_export_then_import_gives_the_same_tasks(tasks_file, tmp_path):
    runner = CliRunner()
    r = runner.invoke(tasks_group, ["export", "--format", "harbor", "--tasks", str(tasks_file), "--limit", "2",
                                    str(tmp_path / "dirs")])
    assert r.exit_code == 0, r.output
    assert "exported 2 task(s)" in r.output
    assert sorted(p.name for p in (tmp_path / "dirs").iterdir()) == ["count-0", "count-1"]
    r = runner.invoke(tasks_group, ["import", str(tmp_path / "dirs"), "--out", str(tmp_path / "back.jsonl")])
    assert r.exit_code == 0, r.output
    assert read_jsonl(tmp_path / "back.jsonl", Task) == read_jsonl(tasks_file, Task)[:2]


def test_import_of_a_bad_dir_is_reported_and_exits_1_when_nothing_imported(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "task.toml").write_text("schema_version = \n")
    r = CliRunner().invoke(tasks_group, ["import", str(bad), "--out", str(tmp_path / "o.jsonl")])
    assert r.exit_code == 1
    assert "refused" in r.output and "invalid TOML" in r.output
    report = json.loads((tmp_path / "o.jsonl.report.json").read_text())
    assert [o["status"] for o in report] == ["refused"] and "invalid TOML" in report[0]["reason"]


def test_import_keeps_the_good_tasks_and_reports_colliding_ids(tasks_file, tmp_path):
    runner = CliRunner()
    runner.invoke(tasks_group, ["export", "--tasks", str(tasks_file), "--limit", "1", str(tmp_path / "a")])
    runner.invoke(tasks_group, ["export", "--tasks", str(tasks_file), "--limit", "1", str(tmp_path / "b")])
    args = ["import", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "o")]
    r = runner.invoke(tasks_group, args)
    assert r.exit_code == 0, r.output
    assert [t.id for t in read_jsonl(tmp_path / "o", Task)] == ["count-0"]
    assert "1 imported" in r.output and "1 refused" in r.output and "also imported" in r.output
    assert runner.invoke(tasks_group, args + ["--strict"]).exit_code == 1


@pytest.mark.integration
@needs_bwrap
def test_check_prints_a_table_and_fails_on_a_weak_task(tasks_file):
    r = CliRunner().invoke(tasks_group, ["check", str(tasks_file), "--workers", "1"])
    assert r.exit_code == 1, r.output
    lines = r.output.splitlines()
    assert lines[0].split() == ["task", "oracle", "null", "empty_files", "make_dirs", "copy_values", "exit_early",
                                 "verdict"]
    assert lines[1].split() == ["count-0", "pass", "fail", "fail", "fail", "fail", "fail", "ok"]
    assert lines[3].split()[:3] == ["count-2", "pass", "fail"]
    assert lines[3].split()[3] == "pass" and "DROP shortcut_passed:empty_files" in lines[3]
    assert lines[-1].startswith("2/3 task(s) pass the gate (oracle passes 3, null fails 3")


@pytest.mark.integration
@needs_bwrap
def test_check_of_an_exported_dir_passes(tasks_file, tmp_path):
    runner = CliRunner()
    runner.invoke(tasks_group, ["export", "--tasks", str(tasks_file), "--limit", "1", str(tmp_path / "d")])
    r = runner.invoke(tasks_group, ["check", str(tmp_path / "d" / "count-0"), "--fast"])
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[-1].startswith("1/1 task(s) pass the gate")
    assert r.output.splitlines()[-1].endswith("sandbox bwrap)")


@pytest.mark.integration
@needs_bwrap
def test_run_command_accepts_a_task_directory(tasks_file, tmp_path):
    from termcorpus.cli import main

    runner = CliRunner()
    runner.invoke(tasks_group, ["export", "--tasks", str(tasks_file), "--limit", "1", str(tmp_path / "d")])
    args = ["--params", str(REPO / "params.yaml"), "run", str(tmp_path / "d" / "count-0")]
    r = runner.invoke(main, args + ["--agent", "oracle"])
    assert r.exit_code == 0, r.output
    assert "PASS count-0 reward=1" in r.output
    r = runner.invoke(main, args + ["--agent", "null"])
    assert r.exit_code == 1 and "FAIL count-0 reward=0" in r.output
