"""The validity gate of the execute stage: real bwrap sessions with the oracle, null and shortcut agents.

Each hand-written task below is weak in exactly one way, and the gate must name that way; the
probe session (all probes in one sandbox) must agree with one real episode per agent.
"""

from __future__ import annotations

import json
import shutil

import pytest

from termcorpus.execute.episode import run_episode
from termcorpus.execute.gate import (
    GATE_AGENTS,
    PROBES,
    REASONS,
    _probe_agent,
    check_task,
    gate_execute_output,
    read_failed,
    run_gate,
    run_probes,
)
from termcorpus.records import Lineage, Task
from termcorpus.sandbox import SandboxConfig

needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")
CHECK = ('#!/bin/bash\ncd /app\n[ "$(cat count.txt 2>/dev/null)" = "3" ] || '
         '{ echo 0 > /logs/verifier/reward.txt; exit 1; }\necho 1 > /logs/verifier/reward.txt\n')


def task(i: int = 0, *, family: str = "count", test: str = CHECK, solution: str = "wc -l < in.txt > count.txt",
         instruction: str = "Write the number of lines of in.txt to count.txt.", eval_set: str = "") -> Task:
    return Task(id=f"{family}-{i}", family=family, source="seed", domain="file_operations", skills=["wc"],
                instruction=instruction, files={"in.txt": "a\nb\nc\n"}, solution=[solution],
                tests={"test.sh": test}, eval_set=eval_set)


@pytest.fixture
def cfg() -> SandboxConfig:
    return SandboxConfig(backend="bwrap", timeout_sec=5.0, memory_mb=512, max_procs=64)


def test_reasons_cover_every_gate_agent():
    assert GATE_AGENTS == ("oracle", "null", "empty_files", "make_dirs", "copy_values", "exit_early")
    assert GATE_AGENTS[1:] == PROBES
    assert REASONS[:2] == ("oracle_failed", "null_passed")
    assert {f"shortcut_passed:{a}" for a in GATE_AGENTS[2:]} <= set(REASONS)


@pytest.mark.integration
@needs_bwrap
def test_sound_task_is_kept_after_every_agent(cfg):
    v = check_task(task(), cfg)
    assert v.kept and v.reason is None
    assert [(o.agent, o.passed) for o in v.outcomes] == [("oracle", True)] + [(a, False) for a in PROBES]


@pytest.mark.integration
@needs_bwrap
@pytest.mark.parametrize("weak, reason", [
    (dict(solution="echo 4 > count.txt"), "oracle_failed"),
    (dict(test="#!/bin/bash\nexit 0\n"), "null_passed"),
    (dict(test="#!/bin/bash\ntest -f /app/count.txt\n"), "shortcut_passed:empty_files"),
    # names without an extension or a slash, and directories (issue 16): existence-only tests
    (dict(instruction="Write the line count of in.txt to a file named result.", solution="wc -l < in.txt > result",
          test="#!/bin/bash\ntest -f /app/result\n"), "shortcut_passed:empty_files"),
    (dict(instruction="Write a Makefile whose all target counts in.txt.", solution="printf 'all:\\n\\twc -l in.txt\\n' > Makefile",
          test="#!/bin/bash\ntest -e /app/Makefile\n"), "shortcut_passed:empty_files"),
    (dict(instruction="Move in.txt into a new directory outdir.", solution="mkdir outdir && mv in.txt outdir/",
          test="#!/bin/bash\ntest -d /app/outdir\n"), "shortcut_passed:make_dirs"),
    (dict(instruction="in.txt has 3 lines. Write that number to count.txt."), "shortcut_passed:copy_values"),
])
def test_weak_task_is_dropped_with_its_reason(cfg, weak, reason):
    v = check_task(task(**weak), cfg)
    assert v.reason == reason
    assert v.outcomes[-1].agent == GATE_AGENTS[len(v.outcomes) - 1]  # stopped at the first failed check


@pytest.mark.integration
@needs_bwrap
def test_full_mode_runs_every_agent_even_after_a_failure(cfg):
    v = check_task(task(test="#!/bin/bash\nexit 0\n"), cfg, full=True)
    assert v.reason == "null_passed"
    assert {o.agent: o.passed for o in v.outcomes} == {a: True for a in GATE_AGENTS}


@pytest.mark.integration
@needs_bwrap
def test_a_known_oracle_verdict_is_reused_not_rerun(cfg):
    # The solution is wrong, but execute's oracle trajectory said it passed: no oracle episode runs.
    v = check_task(task(solution="echo 4 > count.txt"), cfg, oracle_passed=True)
    assert v.kept and v.outcome("oracle").passed
    assert check_task(task(), cfg, oracle_passed=False).reason == "oracle_failed"


@pytest.mark.integration
@needs_bwrap
def test_probe_session_agrees_with_one_episode_per_agent(cfg):
    """Same verdicts as real episodes (a sandbox + verifier per agent), on sound and weak tasks."""
    tasks = [
        task(),
        task(1, test="#!/bin/bash\nexit 0\n"),
        task(2, test="#!/bin/bash\ntest -f /app/count.txt\n"),
        task(3, instruction="in.txt has 3 lines. Write that number to count.txt."),
        task(4, instruction="Create the directory outdir.", test="#!/bin/bash\ntest -d /app/outdir\n"),
        task(5, instruction="Create result.", test="#!/bin/bash\ntest -s /app/result\n"),
    ]
    for t in tasks:
        fast = {o.agent: o.passed for o in run_probes(t, cfg, full=True)}
        slow = {a: run_episode(t, _probe_agent(a), cfg, max_turns=2, prompt_style="compact",
                               lineage=Lineage(task_digest=t.digest())).passed for a in PROBES}
        assert fast == slow, t.id


@pytest.mark.integration
@needs_bwrap
def test_pool_of_two_workers_keeps_input_order(cfg):
    tasks = [task(0, family="x", solution="echo 9 > count.txt"), task(1, family="y")]
    report = run_gate(tasks, cfg, 2)
    assert [t.id for t in report.kept] == ["y-1"] and report.drops_by_reason == {"oracle_failed": 1}


@pytest.mark.integration
@needs_bwrap
def test_execute_output_loses_failing_training_tasks_and_records_heldout_ones(cfg, tmp_path):
    from termcorpus.agents import OracleAgent

    train = [task(0, family="a"), task(1, family="b", test="#!/bin/bash\nexit 0\n")]
    held = [task(2, family="a", eval_set="heldout_variants"),
            task(3, family="c", solution="true", eval_set="novel_names")]
    path = tmp_path / "trajectories.jsonl"
    path.write_text("".join(run_episode(t, OracleAgent(), cfg, max_turns=3, prompt_style="compact",
                                        lineage=Lineage(task_digest=t.digest())).model_dump_json() + "\n"
                            for t in train))
    m = gate_execute_output(tasks=train, heldout=held, trajectories_path=path, gate_path=tmp_path / "gate.jsonl",
                            sandbox=cfg, teacher="oracle", workers=1, prompt_style="compact")
    assert [json.loads(line)["task_id"] for line in path.read_text().splitlines()] == ["a-0"]
    assert m["oracle_reused"] and m["train"]["drops_by_reason"]["null_passed"] == 1
    assert m["heldout"]["n_dropped"] == 1 and m["heldout"]["failed_by_set"] == {"novel_names": 1}
    verdicts = [json.loads(line) for line in (tmp_path / "gate.jsonl").read_text().splitlines()]
    assert [v["task_id"] for v in verdicts] == ["a-0", "b-1", "a-2", "c-3"]
    assert read_failed(tmp_path / "gate.jsonl") == {"b-1": "null_passed", "c-3": "oracle_failed"}
