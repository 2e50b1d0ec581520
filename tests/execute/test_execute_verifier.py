"""Reward from reward.txt / reward.json / exit code, clamped, over the agent's /app."""

import shutil
import tempfile
from pathlib import Path

import pytest

from termcorpus.execute.verifier import run_verifier
from termcorpus.sandbox import prepare_workdir

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(shutil.which("bwrap") is None, reason="bwrap not installed")]


@pytest.fixture
def workdir(task):
    d = Path(tempfile.mkdtemp(prefix="termcorpus-test-"))
    yield prepare_workdir(task, d)
    shutil.rmtree(d, ignore_errors=True)


def _with_test(task, script):
    return task.model_copy(update={"tests": {"test.sh": script}})


def test_reward_file_wins_and_sees_agent_work(task, config, workdir):
    assert run_verifier(task, config, workdir).reward == 0.0
    (workdir / "count.txt").write_text("3\n")
    v = run_verifier(task, config, workdir)
    assert (v.reward, v.passed) == (1.0, True)


@pytest.mark.parametrize("script, reward", [
    ("exit 0\n", 1.0),
    ("echo failing; exit 1\n", 0.0),
    ("echo 7 > /logs/verifier/reward.txt\n", 1.0),
    ("echo -2 > /logs/verifier/reward.txt\n", 0.0),
    ("echo 0.25 > /logs/verifier/reward.txt; exit 1\n", 0.25),
    ("echo banana > /logs/verifier/reward.txt\n", 0.0),
    ("echo '{\"a\": 1, \"b\": 0}' > /logs/verifier/reward.json\n", 0.5),
    ("ln -s /etc/passwd /logs/verifier/reward.txt; exit 0\n", 1.0),
])
def test_reward_rules(task, config, workdir, script, reward):
    assert run_verifier(_with_test(task, script), config, workdir).reward == reward


def test_verifier_output_is_captured(task, config, workdir):
    v = run_verifier(_with_test(task, "echo checking; exit 1\n"), config, workdir)
    assert v.output == "checking\n" and v.exit_code == 1
