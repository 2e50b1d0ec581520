"""`termcorpus show ID`: a trajectory or a task rendered with rich; unknown ids fail in one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from termcorpus.curate.samples import make_trajectory, trajectory_lines
from termcorpus.records import Task, write_jsonl
from termcorpus.show import show_cmd


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    passed = make_trajectory("traj-ok", commands=[["ls [red]x"], ["wc -l notes.txt"]],
                             instruction="Count the lines of [bold]notes.txt", task_id="task-1")
    failed = make_trajectory("traj-bad", passed=False, task_id="task-1",
                             verifier_output="expected 3 lines, got 2")
    trajs = tmp_path / "trajectories.jsonl"
    trajs.write_text(trajectory_lines([passed, failed]), encoding="utf-8")
    task = Task(id="task-1", family="fam-a", source="seed", domain="file_operations", skills=["wc"],
                instruction="Count the lines of notes.txt", files={"notes.txt": "a\nb\nc\n"},
                solution=["wc -l notes.txt"], tests={"test.sh": "#!/bin/sh\ntest \"$(cat /app/out)\" = 3\n"})
    tasks = tmp_path / "tasks.jsonl"
    write_jsonl(tasks, [task])
    return tasks, trajs


def _show(files, record_id: str):
    tasks, trajs = files
    return CliRunner().invoke(show_cmd, [record_id, "--tasks", str(tasks), "--trajectories", str(trajs),
                                         "--width", "100"])


def test_trajectory_shows_instruction_turns_outputs_and_verdict(files):
    res = _show(files, "traj-ok")
    assert res.exit_code == 0, res.output
    out = res.output
    assert "Count the lines of [bold]notes.txt" in out  # markup in data is shown, not interpreted
    assert "turn 1" in out and "turn 2" in out
    assert "$ ls [red]x   [exit 0]" in out and "out of ls [red]x" in out
    assert "$ wc -l notes.txt   [exit 0]" in out
    assert "PASS  reward 1  (2 turns, 2 commands)" in out


def test_failed_trajectory_shows_fail_and_the_verifier_output(files):
    out = _show(files, "traj-bad").output
    assert "FAIL  reward 0" in out and "expected 3 lines, got 2" in out


def test_task_shows_files_solution_tests_and_its_trajectories(files):
    res = _show(files, "task-1")
    assert res.exit_code == 0, res.output
    out = res.output
    for text in ("file notes.txt", "reference solution", "wc -l notes.txt", "tests/test.sh",
                 "trajectories of this task", "traj-ok", "traj-bad"):
        assert text in out, text


def test_unknown_id_is_one_line_with_suggestions(files):
    res = _show(files, "traj-okk")
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "no task or trajectory with id 'traj-okk'" in lines[0] and "traj-ok" in lines[0]


def test_missing_files_are_reported(tmp_path):
    res = CliRunner().invoke(show_cmd, ["x", "--tasks", str(tmp_path / "none.jsonl"),
                                        "--trajectories", str(tmp_path / "none2.jsonl")])
    assert res.exit_code == 2 and "pass --tasks / --trajectories" in res.output
