"""OpenAIChatAgent against a real ``transformers serve`` (tiny overfit Qwen3; see tests/fixtures_serve.py).

The agent works real tasks in the bwrap sandbox through ``run_episode``: the served model was
overfit on the oracle's trajectory of one task and on a malformed-then-recovering episode of
another, so what it answers is known, and everything between (HTTP, chat template, parsing,
sandbox, verifier) is the real thing.
"""

from __future__ import annotations

import pytest

from termcorpus.agents import OracleAgent, first_user_message, render_action
from termcorpus.agents.openai_agent import OpenAIChatAgent
from termcorpus.errors import EnvironmentProblem
from termcorpus.execute.episode import run_episode
from termcorpus.records import Lineage, Message

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def agent_for(served, **kw) -> OpenAIChatAgent:
    return OpenAIChatAgent(base_url=served.base_url, model=served.model, max_tokens=400, **kw)


def episode(served, task, agent):
    return run_episode(task, agent, served.sandbox, max_turns=6, prompt_style="compact",
                       lineage=Lineage(task_digest=task.digest()))


def episode_start(served) -> list[Message]:
    return [Message(role="user", content=first_user_message(served.agent_task.instruction, "compact"))]


def test_served_agent_solves_a_task_in_the_sandbox(served_model):
    task = served_model.agent_task
    agent = agent_for(served_model)
    traj = episode(served_model, task, agent)
    assert traj.passed and traj.reward == 1.0
    assert (traj.agent, traj.model) == ("openai", served_model.model)
    # Turn for turn, the served model wrote what the oracle writes (the exact-trace view).
    oracle = OracleAgent()
    assert [t.raw for t in traj.turns] == [render_action(oracle.action_for(task, i)) for i in range(3)]
    assert traj.turns[-1].action.task_complete
    assert agent.usage["requests"] == 3 and agent.usage["retries"] == 0
    assert agent.usage["prompt_tokens"] > 0 and agent.usage["completion_tokens"] > 0
    assert agent.usage["total_tokens"] == agent.usage["prompt_tokens"] + agent.usage["completion_tokens"]


def test_malformed_reply_is_fed_back_and_the_agent_recovers(served_model):
    traj = episode(served_model, served_model.malformed_task, agent_for(served_model))
    first = traj.turns[0]
    assert first.action is None and first.raw == served_model.malformed_first_reply
    assert first.parse_error == "no JSON object found" and first.results == []
    assert traj.messages[2].content.startswith("ERROR: your reply could not be parsed")
    assert traj.passed and traj.n_turns == 3


def test_cost_uses_the_served_token_counts(served_model):
    agent = agent_for(served_model, price_prompt_per_1k=1.0, price_completion_per_1k=2.0)
    agent.act(served_model.agent_task, episode_start(served_model))
    u = agent.usage
    assert u["cost_usd"] == pytest.approx(u["prompt_tokens"] / 1000 + 2 * u["completion_tokens"] / 1000)


def test_wrong_model_name_is_one_line_and_not_retried(served_model):
    agent = OpenAIChatAgent(base_url=served_model.base_url, model="not-the-served-name", max_retries=3)
    with pytest.raises(EnvironmentProblem) as err:
        agent.act(served_model.agent_task, episode_start(served_model))
    msg = str(err.value)
    assert "HTTP 400" in msg and "not-the-served-name" in msg and "\n" not in msg
    assert agent.usage["retries"] == 0
