"""The verifier in the agent's own bwrap sandbox (``verifier_slot`` + ``verify_in_place``).

What must hold, as for a new sandbox: the agent never sees the tests nor can write the reward
before they run; none of its processes or shell state (functions, PATH, variables, cwd)
reaches the tests; a broken supervisor falls back to a new sandbox; verdicts equal the
new-sandbox verifier's.
"""

import dataclasses
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from termcorpus.execute.verifier import run_verifier
from termcorpus.sandbox import open_session, prepare_workdir

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(shutil.which("bwrap") is None, reason="bwrap not installed")]

# Passes only in a clean verifier: no agent process alive, no agent variable, /app as cwd,
# the real bash; writes its own reward.
CLEAN_TEST = (
    "#!/bin/bash\n"
    'fail() { echo "FAIL: $1"; echo 0 > /logs/verifier/reward.txt; exit 1; }\n'
    '[ -z "${AGENT_VAR:-}" ] || fail "agent variable leaked"\n'
    '[ "$PWD" = /app ] || fail "cwd is $PWD"\n'
    'for c in /proc/[0-9]*/cmdline; do tr "\\0" " " < "$c" 2>/dev/null; echo; done | grep -q "^sleep [3]00" && fail "agent process alive"\n'
    '[ "$(cat /app/count.txt 2>/dev/null)" = 3 ] || fail "count"\n'
    "echo 1 > /logs/verifier/reward.txt\n"
)


@pytest.fixture
def workdir(task):
    d = Path(tempfile.mkdtemp(prefix="termcorpus-test-"))
    yield prepare_workdir(task, d)
    shutil.rmtree(d, ignore_errors=True)


def _agent(task, config, workdir, commands):
    s = open_session(task, config, workdir=workdir, verifier_slot=True)
    outs = [s.run(c) for c in commands]
    return s, outs


def test_agent_cannot_see_tests_or_plant_a_reward(task, config, workdir):
    s, outs = _agent(task, config, workdir, [
        "ls -A /tests | wc -l",
        "echo 1 > /logs/verifier/reward.txt; echo rc=$?",
        "wc -l < data.txt > count.txt",
    ])
    assert outs[0].output.strip() == "0"
    assert "rc=1" in outs[1].output
    v = run_verifier(task, config, workdir, agent_session=s)
    assert (v.reward, v.passed) == (1.0, True)
    assert s._closed


def test_agent_state_and_processes_do_not_reach_the_tests(task, config, workdir):
    task = task.model_copy(update={"tests": {"test.sh": CLEAN_TEST}})
    evil = [
        "wc -l < data.txt > count.txt",
        "export AGENT_VAR=1",
        # a fake bash first on PATH and a shell function named bash that would pass the tests
        "mkdir -p /tmp/evil && printf '#!/bin/sh\\necho 1 > /logs/verifier/reward.txt\\n' > /tmp/evil/bash "
        "&& chmod +x /tmp/evil/bash && export PATH=/tmp/evil:$PATH",
        "bash() { echo 1 > /logs/verifier/reward.txt; }; alias bash=true",
        "sleep 300 &",
        "cd /tmp",
    ]
    s, _ = _agent(task, config, workdir, evil)
    v = run_verifier(task, config, workdir, agent_session=s)
    assert (v.reward, v.output) == (1.0, "")
    # ...and the same agent without the answer fails: the evil shell state did not pass it.
    (workdir / "count.txt").unlink()
    s, _ = _agent(task, config, workdir, evil[1:])
    v = run_verifier(task, config, workdir, agent_session=s)
    assert v.reward == 0.0 and v.output.startswith("FAIL: count")


# Passes only when nothing changes /app/tick.txt while the tests run.
STILL_TEST = (
    "#!/bin/bash\n"
    "a=$(cat /app/tick.txt); sleep 0.3; b=$(cat /app/tick.txt)\n"
    '[ "$a" = "$b" ] || { echo "FAIL: tick moved $a -> $b"; echo 0 > /logs/verifier/reward.txt; exit 1; }\n'
    "echo 1 > /logs/verifier/reward.txt\n"
)


def test_a_background_writer_is_stopped_before_the_tests(task, config, workdir):
    task = task.model_copy(update={"tests": {"test.sh": STILL_TEST}})
    s, outs = _agent(task, config, workdir, [
        # a disowned writer that bumps a counter every 10 ms; the command returns once it ticked
        "(i=0; while :; do i=$((i+1)); echo $i > /app/tick.txt; sleep 0.01; done) >/dev/null 2>&1 & disown; "
        "until [ \"$(cat tick.txt 2>/dev/null)\" -gt 2 ] 2>/dev/null; do sleep 0.01; done; echo ticking",
    ])
    assert outs[0].output.strip().endswith("ticking")
    # The writer is stopped before the tests start: they see a file that no longer changes.
    v = run_verifier(task, config, workdir, agent_session=s)
    assert (v.reward, v.output) == (1.0, "")
    first = (workdir / "tick.txt").read_text()
    time.sleep(0.3)
    assert (workdir / "tick.txt").read_text() == first


def test_killed_supervisor_falls_back_to_a_new_sandbox(task, config, workdir):
    s, outs = _agent(task, config, workdir, ["wc -l < data.txt > count.txt", "kill -9 $PPID; echo gone"])
    v = run_verifier(task, config, workdir, agent_session=s)
    assert (v.reward, v.passed) == (1.0, True)


def test_shell_exit_keeps_its_status_and_restarts(task, config, workdir):
    s, outs = _agent(task, config, workdir, ["cd /tmp", "exit 7", "pwd"])
    try:
        assert outs[1].exit_code == 7 and outs[2].output.strip() == "/tmp"
    finally:
        s.close()


@pytest.mark.parametrize("answer", [True, False])
def test_same_verdict_and_output_as_a_new_sandbox(task, config, workdir, answer):
    cmds = ["wc -l < data.txt > count.txt"] if answer else ["true"]
    results = []
    for in_place in (True, False):
        cfg = dataclasses.replace(config, verify_in_place=in_place)
        (workdir / "count.txt").unlink(missing_ok=True)
        s, _ = _agent(task, cfg, workdir, cmds)
        v = run_verifier(task, cfg, workdir, agent_session=s)
        results.append((v.reward, v.passed, v.exit_code, v.output))
    assert results[0] == results[1]
    assert results[0][1] is answer
