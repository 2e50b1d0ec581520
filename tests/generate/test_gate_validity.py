"""The validity gate: real bwrap episodes with the oracle, null and shortcut agents.

Each hand-written task below is weak in exactly one way, and the gate must name that way.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from termcorpus.generate.gate import (
    GATE_AGENTS,
    REASONS,
    check_task,
    gate_generated,
    gate_tasks,
    run_gate,
    sample_per_family,
)
from termcorpus.generate.pipeline import GenerateResult
from termcorpus.records import Task
from termcorpus.sandbox import SandboxConfig

REPO = Path(__file__).resolve().parents[2]
needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")
CHECK = '#!/bin/bash\ncd /app\n[ "$(cat count.txt 2>/dev/null)" = "3" ] || { echo 0 > /logs/verifier/reward.txt; exit 1; }\necho 1 > /logs/verifier/reward.txt\n'


def task(i: int = 0, *, family: str = "count", test: str = CHECK, solution: str = "wc -l < in.txt > count.txt",
         instruction: str = "Write the number of lines of in.txt to count.txt.") -> Task:
    return Task(id=f"{family}-{i}", family=family, source="seed", domain="file_operations", skills=["wc"],
                instruction=instruction, files={"in.txt": "a\nb\nc\n"}, solution=[solution],
                tests={"test.sh": test})


@pytest.fixture
def cfg() -> SandboxConfig:
    return SandboxConfig(backend="bwrap", timeout_sec=5.0, memory_mb=512, max_procs=64)


def test_sample_is_k_per_family_stable_and_seeded():
    tasks = [task(i, family=f) for f in ("a", "b") for i in range(5)]
    one = sample_per_family(tasks, 2, seed=1)
    assert len(one) == 4 and one == sample_per_family(tasks, 2, seed=1) and one == sorted(one)
    assert sorted({tasks[i].family for i in one}) == ["a", "b"]
    assert sample_per_family(tasks, 0, seed=1) == list(range(10))
    assert any(sample_per_family(tasks, 2, seed=s) != one for s in range(2, 8))


def test_reasons_cover_every_gate_agent():
    assert GATE_AGENTS == ("oracle", "null", "empty_files", "copy_values", "exit_early")
    assert REASONS[:2] == ("oracle_failed", "null_passed")
    assert {f"shortcut_passed:{a}" for a in GATE_AGENTS[2:]} <= set(REASONS)


@pytest.mark.integration
@needs_bwrap
def test_sound_task_is_kept_after_all_five_agents(cfg):
    v = check_task(task(), cfg)
    assert v.kept and v.reason is None
    assert [(o.agent, o.passed) for o in v.outcomes] == [
        ("oracle", True), ("null", False), ("empty_files", False), ("copy_values", False), ("exit_early", False)]


@pytest.mark.integration
@needs_bwrap
@pytest.mark.parametrize("weak, reason", [
    (dict(solution="echo 4 > count.txt"), "oracle_failed"),
    (dict(test="#!/bin/bash\nexit 0\n"), "null_passed"),
    (dict(test="#!/bin/bash\ntest -f /app/count.txt\n"), "shortcut_passed:empty_files"),
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
def test_failing_sample_widens_to_the_whole_family(cfg):
    weak = "#!/bin/bash\ntest -f /app/count.txt\n"
    tasks = [task(i, family="bad", test=weak) for i in range(3)] + [task(i, family="good") for i in range(3)]
    report = run_gate(tasks, cfg, 1, sample=1, seed=0)
    assert [t.id for t in report.kept] == ["good-0", "good-1", "good-2"]
    assert report.drops_by_reason == {"shortcut_passed:empty_files": 3}
    assert report.n_unchecked == 2  # two good variants were never run
    m = report.metrics()
    assert m["n_checked"] == 4 and m["n_dropped"] == 3 and m["dropped_by_family"] == {"bad": 3}
    assert m["dropped_by_skill"] == {"wc": 3} and m["drops_by_reason"]["shortcut_passed:empty_files"] == 3


@pytest.mark.integration
@needs_bwrap
def test_pool_of_two_workers_keeps_input_order(cfg):
    tasks = [task(0, family="x", solution="echo 9 > count.txt"), task(1, family="y")]
    kept, drops = gate_tasks(tasks, cfg, 2)
    assert [t.id for t in kept] == ["y-1"] and drops == {"oracle_failed": 1}


@pytest.mark.integration
@needs_bwrap
def test_gate_generated_samples_training_but_checks_every_heldout_task(cfg):
    result = GenerateResult(tasks=[task(i, family="t") for i in range(3)],
                            heldout=[task(9, family="t"), task(8, family="t", solution="true")])
    m = gate_generated(result, cfg, workers=1, sample_per_family=1, seed=0)
    assert [t.id for t in result.tasks] == ["t-0", "t-1", "t-2"] and [t.id for t in result.heldout] == ["t-9"]
    assert m["train"]["n_checked"] == 1 and m["train"]["n_unchecked"] == 2
    assert m["heldout"]["n_checked"] == 2 and m["drops_by_reason"]["oracle_failed"] == 1
    assert m["dropped_by_domain"] == {"file_operations": 1}


@pytest.mark.integration
@pytest.mark.slow
@needs_bwrap
def test_generate_stage_gates_and_counts(tmp_path):
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["generate"].update(max_seeds=3, n_variants=2, n_heldout_variants=1, gate_sample_per_family=1)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    run = lambda *a: subprocess.run([sys.executable, *a], cwd=tmp_path, env=env, capture_output=True, text=True)
    r = run(str(REPO / "stages/seed.py"), "--seeds", str(REPO / "data/seeds"), "--skills", str(REPO / "data/skills"),
            "--out", "data/seeds.jsonl", "--taxonomy-out", "data/taxonomy.json", "--metrics", "metrics/seed.json")
    assert r.returncode == 0, r.stderr
    r = run(str(REPO / "stages/generate.py"), "--seeds", "data/seeds.jsonl", "--taxonomy", "data/taxonomy.json",
            "--out", "data/tasks", "--metrics", "metrics/generate.json")
    assert r.returncode == 0, r.stderr
    assert "gate: checked 6 tasks" in r.stderr and "tasks/s" in r.stderr
    m = json.loads((tmp_path / "metrics/generate.json").read_text())
    g = m["gate"]
    assert g["enabled"] and g["n_checked"] == 6 and g["train"]["n_unchecked"] == 3
    assert set(g["drops_by_reason"]) == set(REASONS)
    assert m["n_tasks"] + m["n_heldout"] == 9 - g["n_dropped"]
