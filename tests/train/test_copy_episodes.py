"""train.copy_episodes: synthetic chats that copy one slot value into a command, run for real."""

from __future__ import annotations

import dataclasses
import random
import re
import subprocess

import pytest

from termcorpus.agents.protocol import observation_message, parse_action, render_action
from termcorpus.records import Action, Command, CommandResult
from termcorpus.train import data as D
from termcorpus.train.copy_episodes import copy_chat, copy_episodes, interleave
from termcorpus.train.loop import tiny_inputs

HEADER = "Reply with JSON {...}.\n"
# values of the kinds the generators put into instructions, shell-awkward ones included
VALUES = (";", "a tab", "'%d.%d' % sys.version_info[:2]", "640", "-", "$HOME", "it's", "*.log", "d['age']")


def _chat(values: tuple[str, ...]) -> D.Chat:
    return D.Chat(messages=(("user", HEADER + "Task: do something with " + " ".join(values)),
                            ("assistant", '{"commands":[]}')), slot_values=values)


@pytest.mark.parametrize("value", VALUES)
def test_the_copy_episodes_command_writes_the_value_exactly(tmp_path, value):
    chat = copy_chat(_chat((value,)), random.Random(0))
    assert chat is not None
    roles = [r for r, _ in chat.messages]
    assert roles == ["user", "assistant", "user", "assistant"]
    first, reply, observation, last = (c for _, c in chat.messages)
    assert first.startswith(HEADER + "Task: ") and value in first
    action, err = parse_action(reply)
    assert err is None and len(action.commands) == 1 and not action.task_complete
    done, err = parse_action(last)
    assert err is None and done.task_complete and not done.commands
    command = action.commands[0].keystrokes
    # the oracle's exact form: the shared renderer (records.render_action), the observation of a silent command
    assert reply == render_action(Action(analysis="Nothing is done yet.", plan="Run printf.",
                                         commands=[Command(keystrokes=command, duration=1.0)], task_complete=False))
    assert last == render_action(Action(analysis="The task is done.", plan="Finish.", commands=[], task_complete=True))
    assert observation == observation_message([CommandResult(keystrokes=command, output="", exit_code=0)])
    # the command really does the task: the file holds the value as one line
    subprocess.run(["bash", "-c", command], cwd=tmp_path, check=True, env={"PATH": "/usr/bin:/bin"})
    name = chat.slot_values[1]
    assert name in first and (tmp_path / name).read_text() == value + "\n"


def test_no_copy_without_a_usable_value_or_a_task_header():
    rng = random.Random(0)
    assert copy_chat(_chat(()), rng) is None
    assert copy_chat(_chat(("two\nlines", "x" * 41, " padded")), rng) is None
    no_header = D.Chat(messages=(("user", "just words"), ("assistant", "{}")), slot_values=("a",))
    assert copy_chat(no_header, rng) is None


def test_prefer_picks_the_values_it_accepts_when_there_are_any():
    chat = _chat(("report", "640", "sales"))
    for seed in range(20):
        copy = copy_chat(chat, random.Random(seed), prefer=str.isdigit)
        assert copy is not None and copy.slot_values[0] == "640"
    # none accepted: any value
    assert copy_chat(chat, random.Random(0), prefer=lambda v: False) is not None


def test_copy_episodes_are_seeded_follow_their_source_and_scale_with_the_share():
    chats = [_chat((f"v{i}", str(i))) for i in range(200)]
    assert copy_episodes(chats, 0.0, 0) == []
    half = copy_episodes(chats, 0.5, 0)
    assert 70 < len(half) < 130
    assert copy_episodes(chats, 0.5, 0) == half and copy_episodes(chats, 0.5, 1) != half
    assert [i for i, _ in copy_episodes(chats, 1.0, 0)] == list(range(200))
    mixed = interleave(chats, half)
    assert len(mixed) == len(chats) + len(half)
    assert [c for c in mixed if c in chats] == chats  # the real chats keep their (curriculum) order
    for i, copy in half:
        assert mixed[mixed.index(chats[i]) + 1] == copy
        assert copy.slot_values[0] in chats[i].slot_values


def test_tiny_inputs_adds_copies_without_changing_the_codec_or_the_tokenizer(small_corpus, tiny_params):
    corpus = D.load_corpus(small_corpus)
    base, codec0, tok0 = tiny_inputs(corpus, tiny_params)
    more, codec1, tok1 = tiny_inputs(corpus, dataclasses.replace(tiny_params, copy_episodes=0.5))
    assert codec0.vocabulary == codec1.vocabulary
    assert tok0.get_vocab() == tok1.get_vocab()
    added = [c for c in more["train"] if c not in base["train"]]
    assert len(more["train"]) == len(base["train"]) + len(added) and 10 < len(added) < 40
    assert more["validation"] == base["validation"]
    # encoded like every other chat: the fresh file name is a placeholder, never spelled out
    for chat in added:
        assert re.search(r"<n\d+>\.txt", chat.messages[0][1]), chat.messages[0][1]


def test_train_counts_its_copy_episodes(small_corpus, tiny_params, tmp_path):
    from termcorpus.train.loop import train

    params = dataclasses.replace(tiny_params, copy_episodes=0.5, max_steps=2)
    plain = train(corpus_dir=small_corpus, out_dir=tmp_path / "a", params=dataclasses.replace(params, copy_episodes=0.0),
                  progress=False)
    result = train(corpus_dir=small_corpus, out_dir=tmp_path / "b", params=params, progress=False)
    assert plain.n_copy_episodes == 0 and result.n_copy_episodes > 0
    assert result.n_train_episodes == plain.n_train_episodes + result.n_copy_episodes
    assert result.detail()["n_copy_episodes"] == result.n_copy_episodes
