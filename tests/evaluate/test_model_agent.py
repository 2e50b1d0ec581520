"""HFModelAgent: batched greedy generation equals one-at-a-time generation, context limits hold."""

from __future__ import annotations

import pytest

from termcorpus.agents.model import HFModelAgent
from termcorpus.records import Message
from termcorpus.train.chat import render_chat


def _chats() -> list[list[Message]]:
    sys = Message(role="system", content="You are an AI assistant solving a command-line task.")
    return [
        [sys, Message(role="user", content="Count the lines of data.csv")],
        [sys, Message(role="user", content="Count the lines of data.csv and write the number to /app/out.txt " * 4)],
        [
            sys,
            Message(role="user", content="List the files"),
            Message(role="assistant", content='{"analysis": "", "plan": "", "commands": [], "task_complete": false}'),
            Message(role="user", content="New terminal output:\n$ ls\nout.txt"),
        ],
    ]


def test_prompt_is_the_training_chat_layout(tiny_model, tiny_tokenizer):
    agent = HFModelAgent(tiny_model, tiny_tokenizer, max_new_tokens=8)
    for chat in _chats():
        assert agent.render(chat) == render_chat(chat, add_generation_prompt=True)


def test_it_is_an_agent(tiny_model, tiny_tokenizer):
    from termcorpus.agents.base import Agent

    agent = HFModelAgent(tiny_model, tiny_tokenizer, max_new_tokens=4, name="finetuned", model_name="m")
    assert isinstance(agent, Agent) and (agent.name, agent.model) == ("finetuned", "m")


def test_batched_greedy_equals_unbatched_with_left_padding(tiny_model, tiny_tokenizer):
    agent = HFModelAgent(tiny_model, tiny_tokenizer, max_new_tokens=24)
    chats = _chats()
    lengths = {len(agent.encode(c)) for c in chats}
    assert len(lengths) == len(chats), "prompts must differ in length so that padding is exercised"
    batched = agent.generate_ids(chats)
    alone = [agent.generate_ids([c])[0] for c in chats]
    assert batched == alone
    assert any(batched), "the random model should emit some tokens"
    assert agent.act_batch(chats) == [agent.act(None, c) for c in chats]


def test_replies_stop_before_the_stop_token_and_respect_max_new_tokens(tiny_model, tiny_tokenizer):
    agent = HFModelAgent(tiny_model, tiny_tokenizer, max_new_tokens=10)
    for ids in agent.generate_ids(_chats()):
        assert len(ids) <= 10
        assert not set(ids) & set(agent.stop_ids)


def test_reply_never_runs_past_the_context(make_model, tiny_model, tiny_tokenizer):
    chat = _chats()[1]
    n_prompt = len(HFModelAgent(tiny_model, tiny_tokenizer, max_new_tokens=8).encode(chat))
    agent = HFModelAgent(make_model(max_positions=n_prompt + 20), tiny_tokenizer, max_new_tokens=80)
    assert agent.prompt_room(chat) == 20
    (ids,) = agent.generate_ids([chat])
    assert len(ids) <= 20


def test_overlong_prompt_is_cut_from_the_left_not_a_crash(make_model, tiny_tokenizer):
    model = make_model(max_positions=48)
    agent = HFModelAgent(model, tiny_tokenizer, max_new_tokens=8)
    chat = _chats()[1]
    assert agent.prompt_room(chat) < 0
    (reply,) = agent.act_batch([chat])
    assert isinstance(reply, str)


def test_checkpoint_directory_loads_and_answers_like_the_model(tiny_checkpoint, tiny_model, tiny_tokenizer):
    from_dir = HFModelAgent(tiny_checkpoint, max_new_tokens=12, name="finetuned")
    in_memory = HFModelAgent(tiny_model, tiny_tokenizer, max_new_tokens=12)
    assert from_dir.model == "terminal-agent"
    assert from_dir.generate_ids(_chats()) == in_memory.generate_ids(_chats())


def test_sampling_is_reproducible_for_a_seed(tiny_model, tiny_tokenizer):
    def run(seed):
        agent = HFModelAgent(tiny_model, tiny_tokenizer, max_new_tokens=12, temperature=1.0, seed=seed)
        return agent.generate_ids(_chats())

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_reseed_restarts_sampling_like_a_fresh_agent(tiny_model, tiny_tokenizer):
    from termcorpus.evaluate import trial_seed

    agent = HFModelAgent(tiny_model, tiny_tokenizer, max_new_tokens=12, temperature=1.0, seed=0)
    first = agent.generate_ids(_chats())
    agent.generate_ids(_chats())  # advances the per-call stream
    agent.reseed(0)
    assert agent.generate_ids(_chats()) == first
    seeds = [trial_seed(0, k) for k in range(5)]
    assert seeds[0] == 0 and len(set(seeds)) == 5 and seeds == [trial_seed(0, k) for k in range(5)]
    agent.reseed(seeds[1])
    assert agent.generate_ids(_chats()) != first


def test_missing_checkpoint_is_a_data_error(tmp_path):
    from termcorpus.errors import DataError

    with pytest.raises(DataError, match="config.json"):
        HFModelAgent(tmp_path, max_new_tokens=4)
