"""bench/first_turn.py: what an episode's first command runs against the task's reference."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.first_turn import KINDS, count, heldout, kind

SOLUTION = ["paste -d' ' a.txt b.txt > c.txt", "LC_ALL=C sort c.txt > d.txt", "tar -czf e.tgz d.txt"]


def test_a_first_command_is_the_reference_its_program_a_later_steps_or_other():
    assert kind("paste -d' ' a.txt b.txt > c.txt\n", SOLUTION) == "same command"
    assert kind("paste -s a.txt > c.txt", SOLUTION) == "same program"
    assert kind("sort -r c.txt > d.txt", SOLUTION) == "a later step's program"  # VAR=value prefix skipped
    assert kind("grep x a.txt", SOLUTION) == "other"
    assert kind("", SOLUTION) == "other"


def test_count_reads_only_the_agent_and_set_asked_for():
    tasks = {"t1": {"solution": SOLUTION}}
    eps = [
        {"agent": "finetuned", "sets": ["heldout_compositions"], "task_id": "t1", "commands": [["tar -xzf e.tgz\n"], []]},
        {"agent": "finetuned", "sets": ["heldout_compositions"], "task_id": "t1", "commands": []},
        {"agent": "retrieval", "sets": ["heldout_compositions"], "task_id": "t1", "commands": [[SOLUTION[0]]]},
        {"agent": "finetuned", "sets": ["novel_names"], "task_id": "t1", "commands": [[SOLUTION[0]]]},
    ]
    c = count(eps, tasks, "finetuned", "heldout_compositions")
    assert c == {KINDS[2]: 1, KINDS[3]: 1}
    assert count(eps, tasks, "retrieval", "heldout_compositions") == {KINDS[0]: 1}


@pytest.mark.integration
def test_heldout_reads_each_revisions_own_tasks_through_dvc(tmp_path):
    """Two revisions with different held-out sets: each is read from its own dvc-tracked data."""
    env = dict(os.environ, DVC_NO_ANALYTICS="1", GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t")
    dvc = str(Path(sys.executable).parent / "dvc")

    def sh(*cmd: str) -> None:
        subprocess.run(cmd, cwd=tmp_path, check=True, env=env, capture_output=True)

    tasks = tmp_path / "data" / "tasks"
    tasks.mkdir(parents=True)
    sh("git", "init", "-q")
    sh(dvc, "init", "-q")
    for i, sol in enumerate((["ls a"], ["wc -l b"])):
        (tasks / "heldout.jsonl").write_text(json.dumps({"id": f"t{i}", "solution": sol}) + "\n")
        sh(dvc, "add", "-q", "data/tasks")
        sh("git", "add", "-A")
        sh("git", "commit", "-qm", f"rev {i}")
    assert heldout("HEAD~1", tmp_path) == {"t0": {"id": "t0", "solution": ["ls a"]}}
    assert heldout("HEAD", tmp_path) == {"t1": {"id": "t1", "solution": ["wc -l b"]}}
    assert heldout("workspace", tmp_path) == heldout("HEAD", tmp_path)
