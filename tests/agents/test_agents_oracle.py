"""The oracle replays the solution one command per turn; the null agent stops at once."""

from termcorpus.agents import NullAgent, OracleAgent, parse_action
from termcorpus.records import Message, Task

TASK = Task(id="t-0", family="t", source="seed", domain="file_operations", instruction="Do it.",
            solution=["LC_ALL=C sort -u a.txt > b.txt", "/usr/bin/wc -l b.txt\n"],
            tests={"test.sh": "exit 0\n"})


def _msgs(n_assistant: int) -> list[Message]:
    msgs = [Message(role="user", content="task")]
    for _ in range(n_assistant):
        msgs += [Message(role="assistant", content="{}"), Message(role="user", content="obs")]
    return msgs


def test_oracle_one_command_per_turn_then_complete():
    oracle = OracleAgent()
    actions = [parse_action(oracle.act(TASK, _msgs(i)))[0] for i in range(3)]
    assert [a.commands[0].keystrokes for a in actions[:2]] == [
        "LC_ALL=C sort -u a.txt > b.txt\n", "/usr/bin/wc -l b.txt\n"]
    assert [a.task_complete for a in actions] == [False, False, True]
    assert actions[2].commands == []
    assert actions[0].plan == "Run sort." and actions[1].plan == "Run wc."


def test_oracle_is_deterministic():
    assert OracleAgent().act(TASK, _msgs(1)) == OracleAgent().act(TASK, _msgs(1))


def test_null_agent_completes_without_commands():
    action, err = parse_action(NullAgent().act(TASK, _msgs(0)))
    assert err is None and action.task_complete and action.commands == []
