"""Reference agents: ``oracle`` replays the task's solution, ``null`` gives up at once.

A task is worth keeping only if the oracle scores 1 and the null agent scores 0 (Harbor keeps
the same pair). The oracle's trajectories are also the teacher data of the offline pipeline,
so their analysis/plan text is short and template-like: a tiny model must learn to write it.
"""

from __future__ import annotations

import shlex

from termcorpus.agents.protocol import render_action
from termcorpus.records import Action, Command, Message, Task

ORACLE_DURATION_SEC = 1.0


def _program(command: str) -> str:
    """The program a command starts with (for a one-line plan), e.g. 'sort' or 'python3'."""
    first = command.strip().splitlines()[0] if command.strip() else ""
    try:
        words = shlex.split(first, comments=True)
    except ValueError:
        words = first.split()
    for w in words:
        if "=" in w.split("/")[0] and not w.startswith("="):
            continue  # VAR=value prefix
        return w.rsplit("/", 1)[-1][:24] or "the command"
    return "the command"


class OracleAgent:
    """One turn per solution command, then one final turn with ``task_complete: true``."""

    name = "oracle"
    model = "oracle"

    def action_for(self, task: Task, step: int) -> Action:
        solution = task.solution
        if step < len(solution):
            cmd = solution[step]
            return Action(
                analysis="Nothing is done yet." if step == 0 else "The last command finished.",
                plan=f"Run {_program(cmd)}.",
                commands=[Command(keystrokes=cmd if cmd.endswith("\n") else cmd + "\n",
                                  duration=ORACLE_DURATION_SEC)],
                task_complete=False,
            )
        return Action(analysis="The task is done.", plan="Finish.", commands=[], task_complete=True)

    def act(self, task: Task, messages: list[Message]) -> str:
        step = sum(1 for m in messages if m.role == "assistant")
        return render_action(self.action_for(task, step))


class NullAgent:
    """Does nothing and declares the task complete: a valid task must fail it."""

    name = "null"
    model = "null"

    def act(self, task: Task, messages: list[Message]) -> str:
        return render_action(Action(analysis="Nothing to do.", plan="Finish.", commands=[], task_complete=True))
