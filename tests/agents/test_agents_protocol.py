"""Terminus-2 JSON: canonical rendering, tolerant parsing, short prompts and observations."""

import json

import pytest

from termcorpus.agents.protocol import (
    first_user_message,
    observation_message,
    parse_action,
    parse_error_message,
    render_action,
)
from termcorpus.records import Action, Command, CommandResult

ACTION = Action(analysis="Look first.", plan="List files.",
                commands=[Command(keystrokes="ls -la\n", duration=0.5)], task_complete=False)


def test_render_has_canonical_key_order_and_compact_separators():
    text = render_action(ACTION)
    assert text == ('{"analysis":"Look first.","plan":"List files.","commands":'
                    '[{"keystrokes":"ls -la\\n","duration":0.5}],"task_complete":false}')
    assert list(json.loads(text)) == ["analysis", "plan", "commands", "task_complete"]


def test_parse_render_round_trip():
    action, err = parse_action(render_action(ACTION))
    assert err is None and action == ACTION


def test_render_keeps_unicode_readable():
    a = Action(analysis="café", commands=[Command(keystrokes="echo é\n")])
    assert "café" in render_action(a)
    assert parse_action(render_action(a))[0] == a


@pytest.mark.parametrize("wrapped", [
    "```json\n{body}\n```",
    "Here is my answer:\n{body}\nHope it helps.",
    "<think>the user wants {{x}}</think>\n{body}",
])
def test_parse_tolerates_fences_and_text_around(wrapped):
    action, err = parse_action(wrapped.format(body=render_action(ACTION)))
    assert err is None and action == ACTION


def test_parse_defaults_and_string_booleans():
    action, err = parse_action('{"commands":[{"keystrokes":"pwd\\n"}],"task_complete":"true"}')
    assert err is None
    assert action.commands[0].duration == 1.0 and action.task_complete is True
    assert action.analysis == "" and action.plan == ""


def test_parse_clamps_duration():
    action, _ = parse_action('{"commands":[{"keystrokes":"x","duration":1e9}]}')
    assert action.commands[0].duration == 600.0


@pytest.mark.parametrize("text, fragment", [
    ("", "no JSON object"),
    ("I will run ls", "no JSON object"),
    ('{"analysis": "x", "commands": [', "invalid JSON"),
    ('{"analysis":"x","plan":"y"}', "missing required field 'commands'"),
    ('{"commands":"ls"}', "'commands' must be a list"),
    ('{"commands":["ls"]}', "commands[0] must be an object"),
    ('{"commands":[{"keystrokes":5}]}', "commands[0].keystrokes must be a string"),
    ('{"commands":[{"keystrokes":"ls","duration":"fast"}]}', "duration must be a number"),
    ('{"commands":[],"task_complete":"maybe"}', "'task_complete' must be true or false"),
    ('{"analysis":["x"],"commands":[]}', "'analysis' must be a string"),
    ("[1, 2, 3]", "no JSON object"),
])
def test_parse_malformed_returns_error_not_exception(text, fragment):
    action, err = parse_action(text)
    assert action is None
    assert fragment in err


def test_parse_error_message_repeats_the_format():
    msg = parse_error_message("no JSON object found")
    assert "no JSON object found" in msg and '"keystrokes"' in msg


def test_compact_prompt_is_one_short_line_then_the_task():
    msg = first_user_message("Sort /app/a.txt.", "compact")
    first, rest = msg.split("\n", 1)
    assert len(first) < 100 and "JSON" in first
    assert rest == "Task: Sort /app/a.txt."


def test_terminus2_prompt_explains_every_field():
    msg = first_user_message("Sort /app/a.txt.", "terminus2")
    for word in ("analysis", "plan", "keystrokes", "duration", "task_complete", "Sort /app/a.txt."):
        assert word in msg
    with pytest.raises(ValueError):
        first_user_message("x", "verbose")


def test_observation_echoes_commands_with_outputs_and_status():
    obs = observation_message([
        CommandResult(keystrokes="ls\n", output="a.txt\n", exit_code=0),
        CommandResult(keystrokes="cat nope\n", output="cat: nope: No such file\n", exit_code=1),
        CommandResult(keystrokes="sleep 99\n", output="", exit_code=None, timed_out=True),
        CommandResult(keystrokes="cd /tmp\n", output="", exit_code=0),
    ])
    assert obs == ("$ ls\na.txt\n$ cat nope\ncat: nope: No such file\n[exit 1]\n"
                   "$ sleep 99\n[timed out]\n$ cd /tmp")
    assert observation_message([]) == "(no commands were run)"
