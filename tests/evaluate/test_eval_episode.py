"""The runner and the model agent with the real Episode in a real bwrap sandbox.

Malformed model output (a random tiny model writes junk) must become observations, not a crash;
the oracle's replies through the same batched path must pass the verifier and score a perfect
exact trace (the metrics and the teacher agree on what the reference is).
"""

from __future__ import annotations

import shutil

import pytest

from termcorpus.agents.model import HFModelAgent
from termcorpus.agents.oracle import OracleAgent
from termcorpus.evaluate.metrics import summarize
from termcorpus.evaluate.runner import run_lockstep
from termcorpus.records import Lineage

import termcorpus.execute.episode as episode_mod

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed (make setup installs it)"),
]


def _opener(sandbox, agent, max_turns):
    def open_episode(task):
        return episode_mod.Episode(
            task, sandbox, max_turns=max_turns, prompt_style="compact", agent_name=agent.name,
            model_name=agent.model, lineage=Lineage(task_digest=task.digest()),
        )

    return open_episode


@pytest.fixture(scope="module")
def sandbox():
    from termcorpus.sandbox import SandboxConfig

    return SandboxConfig(backend="bwrap", timeout_sec=5.0)


class BatchedOracle(OracleAgent):
    """The oracle behind the batch interface (task found from the instruction in the first message)."""

    def __init__(self, tasks):
        self.by_instruction = {t.instruction: t for t in tasks}

    def act_batch(self, chats):
        out = []
        for chat in chats:
            task = next(t for i, t in self.by_instruction.items() if i in chat[0].content)
            out.append(self.act(task, chat))
        return out


def test_malformed_model_output_does_not_crash_an_episode(tiny_model, tiny_tokenizer, task_factory, sandbox):
    tasks = [task_factory(f"t{i}", f"f{i}", word=w) for i, w in enumerate(["alpha", "beta", "gamma"])]
    agent = HFModelAgent(tiny_model, tiny_tokenizer, max_new_tokens=16, name="base")
    results = run_lockstep(agent, tasks, open_episode=_opener(sandbox, agent, 2), batch_size=2, max_turns=2)
    assert [r.trajectory.task_id for r in results] == ["t0", "t1", "t2"]
    for r in results:
        tr = r.trajectory
        assert tr.n_turns == 2 and not tr.passed
        assert all(t.action is None and t.parse_error for t in tr.turns)
        # the parse error went back to the model as the next user message
        assert tr.messages[2].role == "user" and tr.messages[2].content == tr.turns[0].observation
    m = summarize(tasks, results)
    assert m["valid_json_rate"] == 0.0 and m["success_rate"] == 0.0


def test_oracle_replies_through_the_batched_path_pass_with_a_perfect_trace(task_factory, sandbox):
    tasks = [task_factory(f"t{i}", f"f{i}", word=w) for i, w in enumerate(["alpha", "beta", "gamma"])]
    tasks.append(task_factory("t3", "f3", word="delta", solution=["cd /app", "echo delta > out.txt"]))
    agent = BatchedOracle(tasks)
    results = run_lockstep(agent, tasks, open_episode=_opener(sandbox, agent, 6), batch_size=3, max_turns=6)
    m = summarize(tasks, results)
    assert (m["success_rate"], m["valid_json_rate"], m["trace_match"], m["turn_match_rate"]) == (1.0, 1.0, 1.0, 1.0)
    assert [r.trajectory.n_turns for r in results] == [2, 2, 2, 3]
