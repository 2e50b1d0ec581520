"""One agent episode on one task: chat, run commands in the sandbox, verify, record.

:class:`Episode` is stepped from outside (``step(raw_text)``) so that a caller can batch many
episodes through one model; :func:`run_episode` is the simple loop for one agent object.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from termcorpus.agents.base import Agent
from termcorpus.agents.protocol import (
    first_user_message,
    observation_message,
    parse_action,
    parse_error_message,
)
from termcorpus.execute.verifier import run_verifier
from termcorpus.records import Lineage, Message, Task, Trajectory, Turn
from termcorpus.sandbox import SandboxConfig, Session, open_session, prepare_workdir
from termcorpus.sandbox.sweep import register


# The task's fields a trajectory carries (filters, splits and metrics go by family, domain, skills).
TASK_FIELDS = frozenset({"family", "source", "domain", "skills", "difficulty", "instruction", "slots",
                         "obs_dependent_steps"})


class Episode:
    """An episode in progress. Use as a context manager; ``finish()`` verifies and records.

    ``messages`` is the chat so far; while not ``done`` its last entry is a user message.
    Each command runs with a timeout of ``sandbox.timeout_sec``; the Terminus-2 ``duration``
    is kept in the record as the agent's own estimate (Terminus-2 waits that long and then
    reads the screen; our shell waits for the command itself, so a short estimate never cuts
    a command off early).
    """

    def __init__(self, task: Task, sandbox: SandboxConfig, *, max_turns: int, prompt_style: str,
                 agent_name: str, model_name: str, lineage: Lineage):
        if max_turns < 1:
            raise ValueError("max_turns must be >= 1")
        self.task = task
        self.sandbox = sandbox
        self.max_turns = max_turns
        self.prompt_style = prompt_style
        self.agent_name = agent_name
        self.model_name = model_name
        self.lineage = lineage
        self.messages: list[Message] = [
            Message(role="user", content=first_user_message(task.instruction, prompt_style))
        ]
        self.turns: list[Turn] = []
        self.done = False
        self._tmp: Path | None = None
        self._workdir: Path | None = None
        self._session: Session | None = None

    def __enter__(self) -> "Episode":
        self._tmp = Path(tempfile.mkdtemp(prefix="termcorpus-ep-"))
        self._reg = register([self._tmp])  # a SIGKILLed run's dir is removed by the next sweep
        try:
            self._workdir = prepare_workdir(self.task, self._tmp)
            self._session = open_session(self.task, self.sandbox, workdir=self._workdir,
                                         verifier_slot=self.sandbox.verify_in_place)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
            self._reg.drop()

    def step(self, raw: str) -> None:
        """Take one assistant reply: run its commands, record the turn, add the observation."""
        if self.done:
            raise RuntimeError("episode is done")
        if self._session is None:
            raise RuntimeError("episode is not open (use it as a context manager)")
        action, error = parse_action(raw)
        results = []
        if action is None:
            observation = parse_error_message(error or "unknown error")
        else:
            for cmd in action.commands:
                results.append(self._session.run(cmd.keystrokes, self.sandbox.timeout_sec))
            observation = observation_message(results)
        self.turns.append(Turn(action=action, raw=raw, parse_error=error, results=results,
                               observation=observation))
        self.messages.append(Message(role="assistant", content=raw))
        if (action is not None and action.task_complete) or len(self.turns) >= self.max_turns:
            self.done = True
        else:
            self.messages.append(Message(role="user", content=observation))

    def finish(self) -> Trajectory:
        """Stop the agent's shell, run the verifier over /app and return the record."""
        if self._workdir is None:
            raise RuntimeError("episode is not open (use it as a context manager)")
        # The agent's shell and background processes are stopped before the tests start
        # (in its own sandbox when the backend can, else in a new one over the same /app).
        session, self._session = self._session, None
        verdict = run_verifier(self.task, self.sandbox, self._workdir, agent_session=session)
        task = self.task
        return Trajectory(
            id=f"{task.id}:{self.agent_name}", task_id=task.id, agent=self.agent_name, model=self.model_name,
            turns=self.turns, messages=self.messages, reward=verdict.reward, passed=verdict.passed,
            n_turns=len(self.turns), n_commands=sum(len(t.results) for t in self.turns),
            verifier_output=verdict.output, sandbox=self.sandbox.backend, lineage=self.lineage,
            **task.model_dump(include=TASK_FIELDS),
        )


def run_episode(task: Task, agent: Agent, sandbox: SandboxConfig, *, max_turns: int,
                prompt_style: str, lineage: Lineage) -> Trajectory:
    """Let ``agent`` work on ``task`` until it says done or ``max_turns``; verify; record."""
    with Episode(task, sandbox, max_turns=max_turns, prompt_style=prompt_style,
                 agent_name=agent.name, model_name=agent.model, lineage=lineage) as ep:
        while not ep.done:
            ep.step(agent.act(task, ep.messages))
        return ep.finish()
