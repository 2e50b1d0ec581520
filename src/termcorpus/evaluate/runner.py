"""Lockstep episode runner: many episodes open at once, one batched generate call per step.

On CPU, generating replies is nearly all of evaluation's cost, and a batch of 16 prompts costs
little more than one (bigger batches lose again: the default evaluation on 2 cores took 68 s for
the fine-tuned agent at 16, 77 s at 32 and 106 s at 96). So up to ``batch_size`` episodes (each
with its own sandbox session) are open together; each step gathers the messages of the episodes
still running, asks the agent for all replies in one ``act_batch`` call, and steps each episode
with its reply. A finished episode is verified (``finish``), closed, and its slot is refilled from
the queue at once (continuous batching: short episodes do not wait for long ones).

An episode also ends when its next prompt leaves the model less than ``MIN_REPLY_TOKENS``
positions (``agent.prompt_room``): it is verified as it stands and counted as
``context_ended``, rather than having its instruction cut off the front of the prompt. With
``max_parse_errors`` > 0 it also ends after that many unparseable replies in a row
(``parse_ended``): a model that has lost the Terminus-2 format rarely finds it again, and each
further turn costs a full generate call (the untrained base model spends most of evaluation there).

The sandbox side of a step (opening episodes, running each reply's commands, verifying the
finished ones) runs on ``sandbox_workers`` threads, one episode per thread at a time. It waits on
sandboxed processes, namespace set-up and teardown, not on this process's CPU, and generation
never runs at the same time (it waits for the whole step), so threads overlap those waits. The
default evaluation on 2 cores took 166 s with 1 thread, 137 s with 4 and 146 s with 8 (the
retrieval agent, nearly all sandbox: 21.0 / 13.5 / 14.2 s).

The schedule depends only on the tasks and the replies, so the same inputs give the same results
for any number of threads, with one limit that real execution brings: a reply depends on the
observations, and commands that run processes concurrently (process substitution, ``&``) can
interleave their output differently from run to run. Seen on the default run: the fine-tuned
model's ``comm -client <(ls x) <(sort -u y) ...`` printed its three error lines in a different
order, so that episode's later turns differed; success rates were equal across runs, the mean
turns of the failing sets moved by up to 0.05.
"""

from __future__ import annotations

import sys
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Callable, Protocol, Sequence

from termcorpus.agents.model import MIN_REPLY_TOKENS
from termcorpus.evaluate.metrics import EpisodeResult
from termcorpus.records import Message, Task, Trajectory, Turn


class BatchAgent(Protocol):
    name: str
    model: str

    def act_batch(self, chats: Sequence[Sequence[Message]]) -> list[str]: ...


class EpisodeLike(Protocol):
    messages: list[Message]
    turns: list[Turn]
    done: bool

    def __enter__(self) -> "EpisodeLike": ...
    def __exit__(self, *exc: object) -> None: ...
    def step(self, raw: str) -> None: ...
    def finish(self) -> Trajectory: ...


@dataclass
class _Slot:
    index: int
    episode: EpisodeLike
    steps: int = 0
    context_ended: bool = False
    parse_ended: bool = False


def run_lockstep(
    agent: BatchAgent,
    tasks: Sequence[Task],
    *,
    open_episode: Callable[[Task], EpisodeLike],
    batch_size: int,
    max_turns: int,
    max_parse_errors: int = 0,
    sandbox_workers: int = 1,
    progress: Any = None,
) -> list[EpisodeResult]:
    """Run one episode per task with ``agent``; results in task order.

    ``open_episode(task)`` builds an (unopened) episode; the runner enters and exits it.
    ``max_turns`` is a backstop: an episode that is not done after that many steps is finished.
    ``max_parse_errors`` (0: off) finishes an episode after that many unparseable replies in a row.
    ``sandbox_workers``: threads for the episodes' sandbox work (see the module doc).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if sandbox_workers < 1:
        raise ValueError(f"sandbox_workers must be >= 1, got {sandbox_workers}")
    room = getattr(agent, "prompt_room", None)
    results: list[EpisodeResult | None] = [None] * len(tasks)
    queue = deque(enumerate(tasks))
    slots: list[_Slot] = []
    pool = ThreadPoolExecutor(max_workers=sandbox_workers, thread_name_prefix="episode")
    try:
        while queue or slots:
            opening = []
            while queue and len(slots) + len(opening) < batch_size:
                i, task = queue.popleft()
                opening.append(_Slot(i, open_episode(task)))
            # Every entered episode joins the slots (the finally below closes it), then the
            # first error, if any, propagates.
            entered = _each(pool, lambda s: s.episode.__enter__(), opening)
            slots += [s for s, f in zip(opening, entered) if f.exception() is None]
            _raise_first(entered)
            stepping = []
            for s in slots:
                if s.episode.done or s.steps >= max_turns:
                    continue
                if room is not None and room(s.episode.messages) < MIN_REPLY_TOKENS:
                    s.context_ended = True
                    continue
                stepping.append(s)
            if stepping:
                replies = agent.act_batch([s.episode.messages for s in stepping])
                pairs = list(zip(stepping, replies, strict=True))
                _raise_first(_each(pool, lambda pair: pair[0].episode.step(pair[1]), pairs))
                for s in stepping:
                    s.steps += 1
                    if max_parse_errors and not s.episode.done and _bad_streak(s.episode.turns) >= max_parse_errors:
                        s.parse_ended = True
            ending = [s for s in slots
                      if s.episode.done or s.context_ended or s.parse_ended or s.steps >= max_turns]
            finished = _each(pool, _finish, ending)
            for s, f in zip(ending, finished):
                if f.exception() is None:
                    results[s.index] = f.result()
                    slots.remove(s)
                    if progress is not None:
                        progress.update(1)
            _raise_first(finished)
    finally:
        pool.shutdown(wait=True)
        # An error (or Ctrl-C) must not leave sandboxes behind.
        exc = sys.exc_info()
        for s in slots:
            try:
                s.episode.__exit__(*exc)
            except Exception:  # noqa: BLE001 - keep closing the others; the first error propagates
                pass
    return [r for r in results if r is not None]


def _finish(slot: _Slot) -> EpisodeResult:
    """Verify a finished episode, close its sandbox, return its result."""
    result = EpisodeResult(slot.episode.finish(), slot.context_ended, slot.parse_ended)
    slot.episode.__exit__(None, None, None)
    return result


def _each(pool: ThreadPoolExecutor, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Future]:
    """``fn`` over ``items`` on ``pool``, one future per item; every call has finished when this
    returns."""
    futures = [pool.submit(fn, item) for item in items]
    wait(futures)
    return futures


def _raise_first(futures: Sequence[Future]) -> None:
    for f in futures:
        f.result()  # re-raises the call's exception, if any


def _bad_streak(turns: Sequence[Turn]) -> int:
    """Unparseable replies at the end of ``turns``, in a row."""
    n = 0
    for turn in reversed(turns):
        if turn.parse_error is None:
            break
        n += 1
    return n
