"""Reference agents: ``oracle`` replays the task's solution, ``null`` gives up at once.

For composed tasks some solution turns are observation-dependent (``Task.derivations``): the
turn before runs a look command, and the oracle builds the next command from what the sandbox
REALLY printed (each declared regex searched in that output, its group filled into the command
template), so its trajectories show looking before acting. If a pattern finds nothing, the
oracle falls back to the task's literal solution command.

A task is worth keeping only if the oracle scores 1 and the null agent scores 0 (Harbor keeps
the same pair). The oracle's trajectories are also the teacher data of the offline pipeline,
so their analysis/plan text is short and template-like: a tiny model must learn to write it.
"""

from __future__ import annotations

import re
import shlex

from termcorpus.agents.protocol import render_action
from termcorpus.records import Action, Command, Derivation, Message, Task

ORACLE_DURATION_SEC = 1.0


def program(command: str) -> str:
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


_SLOT = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def output_of(observation: str) -> str:
    """An observation without its ``$ command`` echo lines and status brackets: what was printed."""
    return "\n".join(x for x in observation.splitlines() if not x.startswith("$ ") and not re.match(r"^\[(exit \d+|timed out)\]$", x))


def derive(d: Derivation, observation: str) -> tuple[str, dict[str, str]] | None:
    """The command ``d`` builds from ``observation`` and the values it read (None: no match)."""
    text = output_of(observation)
    values: dict[str, str] = {}
    for name, pattern in d.patterns.items():
        m = re.search(pattern, text, re.M)
        if m is None:
            return None
        values[name] = m.group(1)
    try:
        return _SLOT.sub(lambda m: values[m.group(1)], d.template), values
    except KeyError:
        return None


class OracleAgent:
    """One turn per solution command, then one final turn with ``task_complete: true``."""

    name = "oracle"
    model = "oracle"

    def action_for(self, task: Task, step: int, observation: str = "") -> Action:
        solution = task.solution
        if step < len(solution):
            cmd = solution[step]
            analysis = "Nothing is done yet." if step == 0 else "The last command finished."
            plan = f"Run {program(cmd)}."
            d = next((x for x in task.derivations if x.turn == step), None)
            if d is not None:
                got = derive(d, observation)
                if got is not None:
                    cmd, values = got
                    analysis = "The output shows " + ", ".join(values.values()) + "."
                    plan = f"Use it: run {program(cmd)}."
            elif any(x.turn == step + 1 for x in task.derivations):
                plan = f"Look first: run {program(cmd)}."
            return Action(
                analysis=analysis,
                plan=plan,
                commands=[Command(keystrokes=cmd if cmd.endswith("\n") else cmd + "\n",
                                  duration=ORACLE_DURATION_SEC)],
                task_complete=False,
            )
        return Action(analysis="The task is done.", plan="Finish.", commands=[], task_complete=True)

    def act(self, task: Task, messages: list[Message]) -> str:
        step = sum(1 for m in messages if m.role == "assistant")
        observation = messages[-1].content if messages and messages[-1].role == "user" else ""
        return render_action(self.action_for(task, step, observation))


class NullAgent:
    """Does nothing and declares the task complete: a valid task must fail it."""

    name = "null"
    model = "null"

    def act(self, task: Task, messages: list[Message]) -> str:
        return render_action(Action(analysis="Nothing to do.", plan="Finish.", commands=[], task_complete=True))
