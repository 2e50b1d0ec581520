"""The lockstep runner's scheduling, on a scripted stand-in for the Episode API.

The stand-in keeps the Episode contract (messages / done / step / finish, context manager) with
no sandbox, so these tests pin down batching, refilling, ordering and clean-up alone; the real
Episode is exercised in test_eval_episode.py.
"""

from __future__ import annotations

import threading

import pytest

from termcorpus.evaluate.runner import run_lockstep
from termcorpus.records import Lineage, Message, Trajectory, Turn


class ScriptedEpisode:
    def __init__(self, task, max_turns, log):
        self.task, self.max_turns, self.log = task, max_turns, log
        self.messages = [Message(role="user", content=task.instruction)]
        self.turns: list[Turn] = []
        self.done = False
        self.entered = self.exited = False

    def __enter__(self):
        self.entered = True
        self.log.append(("open", self.task.id))
        return self

    def __exit__(self, *exc):
        assert not self.exited, "closed twice"
        self.exited = True
        self.log.append(("close", self.task.id))

    def step(self, raw):
        error = "unparseable" if raw == "garbage" else None
        self.turns.append(Turn(action=None, raw=raw, parse_error=error, observation="obs"))
        self.messages += [Message(role="assistant", content=raw), Message(role="user", content="obs")]
        self.done = raw == "DONE" or len(self.turns) >= self.max_turns

    def finish(self):
        t = self.task
        return Trajectory(
            id=f"eval-{t.id}", task_id=t.id, family=t.family, source=t.source, domain=t.domain, skills=[],
            difficulty=t.difficulty, agent="scripted", model="none", instruction=t.instruction, turns=self.turns,
            messages=self.messages, reward=0.0, passed=False, n_turns=len(self.turns), n_commands=0,
            sandbox="none", lineage=Lineage(task_digest=t.digest()),
        )


class CountingAgent:
    """Task k needs k+1 turns (k = the digit at the end of its id); records each batch's size."""

    name, model = "scripted", "none"

    def __init__(self, fail_on_call: int | None = None, room=None):
        self.batches: list[int] = []
        self.fail_on_call = fail_on_call
        if room is not None:
            self.prompt_room = room

    def act_batch(self, chats):
        if self.fail_on_call is not None and len(self.batches) == self.fail_on_call:
            raise RuntimeError("generation failed")
        self.batches.append(len(chats))
        out = []
        for chat in chats:
            need = int(chat[0].content[-1]) + 1
            turns_so_far = sum(m.role == "assistant" for m in chat)
            out.append("DONE" if turns_so_far + 1 >= need else "again")
        return out


@pytest.fixture
def tasks(task_factory):
    out = []
    for i, k in enumerate([0, 3, 1, 0, 2, 0, 1]):
        t = task_factory(f"t{i}", f"f{i}")
        out.append(t.model_copy(update={"instruction": f"do task {k}"}))
    return out


def _run(agent, tasks, batch_size, log, max_turns=10, opened=None, max_parse_errors=0, sandbox_workers=1,
         episode_cls=None):
    def open_episode(task):
        ep = (episode_cls or ScriptedEpisode)(task, max_turns, log)
        if opened is not None:
            opened.append(ep)
        return ep

    return run_lockstep(agent, tasks, open_episode=open_episode, batch_size=batch_size, max_turns=max_turns,
                        max_parse_errors=max_parse_errors, sandbox_workers=sandbox_workers)


def test_results_come_back_in_task_order_with_each_episode_run_to_done(tasks):
    res = _run(CountingAgent(), tasks, 3, [])
    assert [r.trajectory.task_id for r in res] == [t.id for t in tasks]
    assert [r.trajectory.n_turns for r in res] == [1, 4, 2, 1, 3, 1, 2]
    assert not any(r.context_ended for r in res)


def test_batches_stay_within_batch_size_and_freed_slots_are_refilled(tasks):
    agent = CountingAgent()
    _run(agent, tasks, 3, [])
    assert max(agent.batches) == 3
    assert sum(agent.batches) == 1 + 4 + 2 + 1 + 3 + 1 + 2  # one reply per turn, none wasted
    # refilling keeps the batch full while tasks remain: 14 turns in 3-wide steps
    assert agent.batches[:4] == [3, 3, 3, 3]
    assert len(agent.batches) < len(_one_at_a_time_calls(tasks))


def _one_at_a_time_calls(tasks):
    agent = CountingAgent()
    _run(agent, tasks, 1, [])
    return agent.batches


def test_same_inputs_same_schedule(tasks):
    a, b = CountingAgent(), CountingAgent()
    log_a, log_b = [], []
    _run(a, tasks, 2, log_a)
    _run(b, tasks, 2, log_b)
    assert a.batches == b.batches and log_a == log_b


def test_every_opened_episode_is_closed_when_generation_fails(tasks):
    opened, log = [], []
    with pytest.raises(RuntimeError, match="generation failed"):
        _run(CountingAgent(fail_on_call=2), tasks, 3, log, opened=opened)
    assert opened and all(ep.entered and ep.exited for ep in opened)


def test_max_turns_is_a_backstop_for_an_episode_that_never_finishes(tasks):
    res = _run(CountingAgent(), tasks, 4, [], max_turns=2)
    assert [r.trajectory.n_turns for r in res] == [1, 2, 2, 1, 2, 1, 2]


def test_episode_whose_prompt_no_longer_fits_is_ended_and_counted(tasks):
    # room shrinks by 10 per message; under MIN_REPLY_TOKENS (16) after 2 turns (5 messages)
    agent = CountingAgent(room=lambda messages: 60 - 10 * len(messages))
    res = _run(agent, tasks, 3, [])
    assert [r.trajectory.n_turns for r in res] == [1, 2, 2, 1, 2, 1, 2]
    assert [r.context_ended for r in res] == [False, True, False, False, True, False, False]


class ScriptAgent:
    """Replies from one fixed script by turn number, for every episode."""

    name, model = "scripted", "none"

    def __init__(self, script):
        self.script = script

    def act_batch(self, chats):
        return [self.script[sum(m.role == "assistant" for m in chat)] for chat in chats]


def test_unparseable_replies_in_a_row_end_the_episode_and_are_counted(tasks):
    # a parsed reply in between resets the streak: the episode ends on the second bad one in a row
    script = ["garbage", "again", "garbage", "garbage"] + ["again"] * 10
    res = _run(ScriptAgent(script), tasks[:3], 2, [], max_parse_errors=2)
    assert [r.trajectory.n_turns for r in res] == [4, 4, 4]
    assert all(r.parse_ended and not r.context_ended for r in res)


def test_parse_error_limit_zero_never_ends_an_episode(tasks):
    res = _run(ScriptAgent(["garbage"] * 20), tasks[:2], 2, [], max_turns=7, max_parse_errors=0)
    assert [r.trajectory.n_turns for r in res] == [7, 7]
    assert not any(r.parse_ended for r in res)


def test_parse_error_limit_one_ends_on_the_first_unparseable_reply(tasks):
    # the default (evaluate.max_parse_errors 1): an untrained model costs one generation per task, not max_turns
    res = _run(ScriptAgent(["garbage"] * 20), tasks[:2], 2, [], max_turns=7, max_parse_errors=1)
    assert [r.trajectory.n_turns for r in res] == [1, 1]
    assert all(r.parse_ended for r in res)


def _barrier_episode(parties):
    """Episodes whose every step waits until ``parties`` steps run at the same time (or fails)."""
    barrier = threading.Barrier(parties, timeout=10)

    class BarrierEpisode(ScriptedEpisode):
        def step(self, raw):
            barrier.wait()
            super().step(raw)

    return BarrierEpisode


def test_sandbox_workers_step_the_batch_in_parallel_with_the_same_results(tasks):
    # 4 episodes of one turn each, stepped together: each step only returns once all 4 are in
    # step() at the same time, which 4 threads do and one thread at a time never could.
    four = [t.model_copy(update={"instruction": "do task 0"}) for t in tasks[:4]]
    threaded = _run(CountingAgent(), four, 4, [], sandbox_workers=4, episode_cls=_barrier_episode(4))
    serial = _run(CountingAgent(), four, 4, [])
    assert [r.trajectory.model_dump() for r in threaded] == [r.trajectory.model_dump() for r in serial]
    # and the whole schedule is the same with threads as without (results, turns, batches)
    a, b = CountingAgent(), CountingAgent()
    res_a, res_b = _run(a, tasks, 3, [], sandbox_workers=3), _run(b, tasks, 3, [])
    assert a.batches == b.batches
    assert [r.trajectory.n_turns for r in res_a] == [r.trajectory.n_turns for r in res_b] == [1, 4, 2, 1, 3, 1, 2]


class FailingEpisode(ScriptedEpisode):
    """Task t1's second step raises (a sandbox that died mid-episode)."""

    def step(self, raw):
        if self.task.id == "t1" and self.turns:
            raise OSError("sandbox went away")
        super().step(raw)


def test_an_episode_error_on_a_worker_thread_propagates_and_every_episode_is_closed(tasks):
    opened, log = [], []
    with pytest.raises(OSError, match="sandbox went away"):
        _run(CountingAgent(), tasks, 3, log, opened=opened, sandbox_workers=3, episode_cls=FailingEpisode)
    assert opened and all(ep.entered and ep.exited for ep in opened)  # ScriptedEpisode asserts "closed twice"


def test_sandbox_workers_below_one_is_refused(tasks):
    with pytest.raises(ValueError, match="sandbox_workers must be >= 1"):
        _run(CountingAgent(), tasks, 3, [], sandbox_workers=0)
