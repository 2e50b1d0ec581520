"""Composed tasks in the real bwrap sandbox: the oracle (deriving observation-dependent commands
from what the sandbox printed) passes, the null agent fails, and the record says which steps
depended on an observation."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from termcorpus.agents import NullAgent, OracleAgent
from termcorpus.execute.episode import run_episode
from termcorpus.generate.compose import compose_split
from termcorpus.records import DOMAINS, Lineage, Task
from termcorpus.sandbox import SandboxConfig
from termcorpus.generate.catalog import load_taxonomy

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")]


@pytest.fixture(scope="module")
def tasks() -> list[Task]:
    tax = load_taxonomy(REPO / "data/skills")
    train, held = compose_split(tax.skills, gen_seed=21, n_train=400, n_heldout=10, n_novel_pairs=5, min_skills=3,
                                max_skills=5, reserve_pct=10, drops=Counter())
    return train + held


@pytest.fixture(scope="module")
def cfg() -> SandboxConfig:
    return SandboxConfig(backend="bwrap", timeout_sec=20.0, memory_mb=1024, max_procs=64)


def _play(task: Task, agent, cfg: SandboxConfig):  # type: ignore[no-untyped-def]
    return run_episode(task, agent, cfg, max_turns=30, prompt_style="compact", lineage=Lineage(task_digest=task.digest()))


def _check(task: Task, cfg: SandboxConfig) -> None:
    traj = _play(task, OracleAgent(), cfg)
    assert traj.passed, (task.id, task.skills, traj.verifier_output[-500:])
    assert traj.obs_dependent_steps == task.obs_dependent_steps
    derived = [t for t in traj.turns if t.action and t.action.analysis.startswith("The output shows")]
    assert len(derived) == len(task.derivations), (task.id, "a derivation did not match the real output")
    assert not _play(task, NullAgent(), cfg).passed, task.id


@pytest.mark.parametrize("domain", DOMAINS)
def test_sample_of_each_domain_passes_with_the_oracle_and_fails_with_null(tasks, cfg, domain):
    mine = [t for t in tasks if t.domain == domain]
    sample = [next(t for t in mine if t.obs_dependent_steps), next(t for t in mine if not t.obs_dependent_steps)]
    for t in sample:
        _check(t, cfg)


@pytest.mark.slow
def test_every_block_passes_with_the_oracle_and_fails_with_null(tasks, cfg):
    chosen: dict[str, Task] = {}
    for t in tasks:
        for s in t.skills:
            chosen.setdefault(s, t)
    assert len(chosen) >= 100
    for t in {t.id: t for t in chosen.values()}.values():
        _check(t, cfg)
