"""The retrieval baseline: nearest training instruction by TF-IDF, replayed with the new words."""

from __future__ import annotations

import json

import pytest

from termcorpus.agents.protocol import first_user_message, parse_action, render_action
from termcorpus.agents.retrieval import Episode, RetrievalAgent, instruction_of, substitute, word_mapping
from termcorpus.records import Action, Command, Message


def _turn(*cmds: str, done: bool = False) -> str:
    return render_action(Action(analysis="a", plan="p", commands=[Command(keystrokes=c, duration=1.0) for c in cmds],
                                task_complete=done))


EPISODES = [
    Episode("Count the lines of notes.log and write the number into count.txt.",
            (_turn("wc -l < notes.log > count.txt\n"), _turn(done=True))),
    Episode("Create a directory named build and inside it a file readme.txt that contains the word hello.",
            (_turn("mkdir -p build\n"), _turn("printf '%s\\n' hello > build/readme.txt\n"), _turn(done=True))),
]


def _chat(instruction: str, style: str = "compact", replies: int = 0) -> list[Message]:
    msgs = [Message(role="user", content=first_user_message(instruction, style))]
    for _ in range(replies):
        msgs += [Message(role="assistant", content="{}"), Message(role="user", content="$ ok")]
    return msgs


@pytest.mark.parametrize("style", ["compact", "terminus2"])
def test_instruction_is_read_back_from_either_prompt_style(style):
    text = "Sort data.csv into out.csv.\nKeep the header."
    assert instruction_of(first_user_message(text, style)) == text


def test_words_that_differ_one_for_one_are_mapped():
    m = word_mapping("Count the lines of notes.log and write the number into count.txt.",
                     "Count the lines of server.log and write the number into total.txt.")
    assert m == {"notes": "server", "count": "total"}


def test_blocks_of_unequal_length_and_conflicts_are_not_mapped():
    assert word_mapping("copy a to b", "copy the big file to b") == {}
    # 'x' would become both 'y' and 'z': ambiguous, left alone.
    assert word_mapping("move x then x", "move y then z") == {}


def test_substitution_is_whole_word_and_one_pass():
    assert substitute("cat notes.log notes_old.log > count.txt", {"notes": "server", "count": "notes"}) == \
        "cat server.log notes_old.log > notes.txt"


def test_agent_replays_nearest_episode_with_new_names():
    agent = RetrievalAgent(EPISODES)
    instr = "Count the lines of access.log and write the number into lines.txt."
    first = parse_action(agent.act_batch([_chat(instr)])[0])[0]
    assert [c.keystrokes for c in first.commands] == ["wc -l < access.log > lines.txt\n"] and not first.task_complete
    second = parse_action(agent.act_batch([_chat(instr, replies=1)])[0])[0]
    assert second.task_complete and not second.commands
    # Past the replayed turns it declares completion instead of failing.
    assert parse_action(agent.act_batch([_chat(instr, replies=5)])[0])[0].task_complete


def test_agent_picks_the_most_similar_instruction():
    agent = RetrievalAgent(EPISODES)
    reply = agent.act(None, _chat("Create a directory named docs and inside it a file index.txt that contains the word hi."))
    cmds = [c["keystrokes"] for c in json.loads(reply)["commands"]]
    assert cmds == ["mkdir -p docs\n"]
    third = agent.act(None, _chat("Create a directory named docs and inside it a file index.txt that contains the word hi.",
                                  replies=1))
    assert json.loads(third)["commands"][0]["keystrokes"] == "printf '%s\\n' hi > docs/index.txt\n"


def test_agent_ignores_the_task_object():
    """It must not read generator metadata: passing a task or None gives the same reply."""
    agent = RetrievalAgent(EPISODES)
    chat = _chat("Count the lines of a.log and write the number into b.txt.")
    assert agent.act(None, chat) == agent.act(object(), chat)


def test_empty_training_set_is_refused():
    with pytest.raises(ValueError, match="at least one training episode"):
        RetrievalAgent([])
