"""Episodes: oracle passes, null fails, malformed output is an observation, messages layout."""

import shutil

import pytest

from termcorpus.agents import NullAgent, OracleAgent
from termcorpus.execute.episode import Episode, run_episode
from termcorpus.records import Lineage

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(shutil.which("bwrap") is None, reason="bwrap not installed")]


def _lineage(task):
    return Lineage(task_digest=task.digest(), seeds_digest="s")


def test_oracle_passes_and_records_the_chat(task, config):
    tr = run_episode(task, OracleAgent(), config, max_turns=8, prompt_style="compact", lineage=_lineage(task))
    assert (tr.reward, tr.passed, tr.n_turns, tr.n_commands) == (1.0, True, 3, 2)
    assert tr.id == "count-lines-0:oracle" and tr.sandbox == "bwrap"
    roles = [m.role for m in tr.messages]
    assert roles == ["user", "assistant", "user", "assistant", "user", "assistant"]
    assert tr.messages[-1].content.endswith('"task_complete":true}')
    assert tr.messages[4].content == "$ cat count.txt\n3"
    assert tr.turns[1].results[0].output == "3\n"
    assert sum(len(m.content) for m in tr.messages) < 1500


def test_null_agent_fails(task, config):
    tr = run_episode(task, NullAgent(), config, max_turns=8, prompt_style="compact", lineage=_lineage(task))
    assert (tr.reward, tr.passed, tr.n_turns) == (0.0, False, 1)
    assert [m.role for m in tr.messages] == ["user", "assistant"]


def test_malformed_output_becomes_observation(task, config):
    with Episode(task, config, max_turns=3, prompt_style="compact", agent_name="m",
                 model_name="junk", lineage=_lineage(task)) as ep:
        ep.step("I think I should run ls")
        assert not ep.done
        assert ep.messages[-1].role == "user"
        assert "could not be parsed" in ep.messages[-1].content
        assert ep.turns[0].action is None and ep.turns[0].parse_error
        ep.step('{"commands":[{"keystrokes":"wc -l < data.txt > count.txt\\n"}],"task_complete":true}')
        assert ep.done
        tr = ep.finish()
    assert tr.passed and tr.n_turns == 2 and tr.messages[-1].role == "assistant"


def test_max_turns_cuts_the_episode_without_a_trailing_observation(task, config):
    with Episode(task, config, max_turns=2, prompt_style="terminus2", agent_name="a",
                 model_name="m", lineage=_lineage(task)) as ep:
        ep.step('{"commands":[{"keystrokes":"ls\\n"}]}')
        ep.step('{"commands":[{"keystrokes":"ls\\n"}]}')
        assert ep.done
        with pytest.raises(RuntimeError):
            ep.step("{}")
        tr = ep.finish()
    assert tr.n_turns == 2 and not tr.passed
    assert [m.role for m in tr.messages] == ["user", "assistant", "user", "assistant"]
    assert "Task description:" in tr.messages[0].content


def test_episode_removes_its_directories(task, config):
    with Episode(task, config, max_turns=1, prompt_style="compact", agent_name="a",
                 model_name="m", lineage=_lineage(task)) as ep:
        tmp = ep._tmp
        ep.step('{"commands":[],"task_complete":true}')
        ep.finish()
    assert not tmp.exists()
