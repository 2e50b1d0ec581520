"""Shortcut agents: what they read from the instruction, what they send, and that a weak
verifier really is fooled by them in the sandbox (so the gate's checks have teeth)."""

from __future__ import annotations

import shutil

import pytest

from termcorpus.agents import parse_action
from termcorpus.agents.shortcut import (
    CopyValuesAgent,
    EmptyFilesAgent,
    ExitEarlyAgent,
    mentioned_paths,
    mentioned_values,
)
from termcorpus.execute.episode import run_episode
from termcorpus.records import Lineage, Message, Task
from termcorpus.sandbox import SandboxConfig


def _task(instruction: str, test: str, files: dict[str, str] | None = None) -> Task:
    return Task(id="sc-0", family="sc", source="seed", domain="file_operations", instruction=instruction,
                files=files or {}, solution=["true"], tests={"test.sh": "#!/bin/bash\ncd /app\n" + test})


def _first(agent, task: Task):  # type: ignore[no-untyped-def]
    action, err = parse_action(agent.act(task, [Message(role="user", content="task")]))
    assert err is None
    return action


def test_paths_skip_sentence_dots_versions_and_system_paths():
    text = ("Read /etc/passwd and data/in.csv, then write the count to out.txt. Use /app/res/sum.json "
            "and keep v3.12.4 as is; e.g. ./notes.md stays. Do not touch ../up.txt or /usr/bin/wc.")
    assert mentioned_paths(text) == ["data/in.csv", "out.txt", "res/sum.json", "e.g", "notes.md"]


def test_values_are_numbers_and_quoted_strings_in_order():
    text = "Write 'Failed password' lines with more than 53 hits (column 3) of v2.tar to x.txt; version 3.12.4."
    assert mentioned_values(text) == ["Failed password", "53", "3", "3.12.4"]


def test_empty_files_creates_only_missing_paths_then_completes():
    task = _task("Write the count to out/c.txt and read in.txt.", "true\n")
    action = _first(EmptyFilesAgent(), task)
    cmd = action.commands[0].keystrokes
    assert "[ -e out/c.txt ] ||" in cmd and ": > out/c.txt" in cmd and "mkdir -p" in cmd
    assert not action.task_complete
    msgs = [Message(role="user", content="t"), Message(role="assistant", content="{}"), Message(role="user", content="o")]
    done, _ = parse_action(EmptyFilesAgent().act(task, msgs))
    assert done.task_complete and done.commands == []


def test_copy_values_writes_values_one_per_line():
    action = _first(CopyValuesAgent(), _task("Write the sum of 4 and 'x y' to r.txt.", "true\n"))
    assert "printf '%s\\n' 4 'x y' > r.txt" in action.commands[0].keystrokes


def test_exit_early_claims_done_at_once():
    action = _first(ExitEarlyAgent(), _task("Anything.", "true\n"))
    assert [c.keystrokes for c in action.commands] == ["echo done\n", "exit 0\n"]
    assert action.task_complete


def test_agents_are_deterministic():
    task = _task("Put 7 into a.txt and b/c.log.", "true\n")
    for cls in (EmptyFilesAgent, CopyValuesAgent, ExitEarlyAgent):
        msgs = [Message(role="user", content="t")]
        assert cls().act(task, msgs) == cls().act(task, msgs)


def _run(task: Task, agent) -> bool:  # type: ignore[no-untyped-def]
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed")
    cfg = SandboxConfig(backend="bwrap", timeout_sec=5.0, memory_mb=512, max_procs=64)
    return run_episode(task, agent, cfg, max_turns=2, prompt_style="compact",
                       lineage=Lineage(task_digest=task.digest())).passed


@pytest.mark.integration
def test_weak_existence_test_is_fooled_by_empty_files():
    task = _task("Write the number of lines of in.txt to count.txt.", "test -f count.txt\n", {"in.txt": "a\nb\n"})
    assert _run(task, EmptyFilesAgent())


@pytest.mark.integration
def test_answer_in_the_instruction_is_fooled_by_copy_values():
    task = _task("Write the number 12 to max.txt.", '[ "$(cat max.txt)" = "12" ]\n')
    assert _run(task, CopyValuesAgent())
    assert not _run(task, EmptyFilesAgent())


@pytest.mark.integration
def test_test_that_checks_nothing_is_fooled_by_exit_early():
    assert _run(_task("Fix the build.", "exit 0\n"), ExitEarlyAgent())
