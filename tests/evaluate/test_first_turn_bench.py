"""bench/first_turn.py: what an episode's first command runs against the task's reference."""

from __future__ import annotations

from bench.first_turn import KINDS, count, kind

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
