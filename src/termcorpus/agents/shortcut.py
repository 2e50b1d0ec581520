"""Shortcut agents: cheap tricks that a badly written task would reward.

The validity gate (:mod:`termcorpus.generate.gate`) keeps a task only if every one of these
agents FAILS it. Each one reads nothing but the instruction, speaks the Terminus-2 protocol
like any other agent, and plays one well-known way of gaming a weak verifier:

* :class:`EmptyFilesAgent` creates an empty file for every path the instruction names that
  does not exist yet (a test that only checks ``test -f out.txt`` passes it);
* :class:`CopyValuesAgent` writes the numbers and quoted values of the instruction into those
  files (a test whose expected answer is spelled out in the instruction passes it);
* :class:`ExitEarlyAgent` runs ``echo done`` / ``exit 0`` and claims the task is complete
  (a test that checks exit codes or nothing at all passes it).

All three are deterministic: the same instruction gives the same keystrokes.
"""

from __future__ import annotations

import re
import shlex

from termcorpus.agents.protocol import render_action
from termcorpus.records import Action, Command, Message, Task

# A path-like token: either has a directory separator or ends in a short extension that starts
# with a letter ("out.txt", "data/a.csv", "archive.tar.gz"); "3.5" and "e.g" style tokens are
# ruled out by requiring a letter-led extension of at most 8 characters after a word character.
_PATH = re.compile(r"(?<![\w/.-])((?:\.?/)?[\w-]+(?:[./][\w-]+)*\.[A-Za-z][A-Za-z0-9]{0,7}|[\w-]+(?:/[\w.-]+)+)")
_NUMBER = re.compile(r"(?<![\w.-])-?\d+(?:\.\d+)*(?![\w]|\.\w)")
_QUOTED = re.compile(r"'([^'\n]{1,80})'|\"([^\"\n]{1,80})\"|`([^`\n]{1,80})`")


def mentioned_paths(instruction: str) -> list[str]:
    """Relative (or /app) file paths named in the instruction, in order of first mention."""
    out: list[str] = []
    for m in _PATH.finditer(instruction):
        p = m.group(1).rstrip(".")
        if p.startswith("/app/"):
            p = p[len("/app/"):]
        if p.startswith("./"):
            p = p[2:]
        # Only paths inside the working directory: /usr/bin/... or /etc/passwd are named as
        # things to read, and the sandbox would refuse writing there anyway.
        if not p or p.startswith(("/", "-")) or ".." in p.split("/"):
            continue
        if p not in out:
            out.append(p)
    return out


def mentioned_values(instruction: str) -> list[str]:
    """Quoted strings and numbers of the instruction, in order of first mention."""
    found: list[tuple[int, str]] = []
    for m in _QUOTED.finditer(instruction):
        text = next(g for g in m.groups() if g is not None)
        found.append((m.start(), text))
    for m in _NUMBER.finditer(instruction):
        found.append((m.start(), m.group(0)))
    out: list[str] = []
    for _, v in sorted(found):
        if v not in out:
            out.append(v)
    return out


def _create_missing(paths: list[str], content: str | None) -> str:
    """One shell command: create each missing path (parents too), empty or with ``content``."""
    parts = []
    for p in paths:
        q = shlex.quote(p)
        write = f": > {q}" if content is None else f"printf '%s\\n' {content} > {q}"
        parts.append(f'[ -e {q} ] || {{ mkdir -p -- "$(dirname -- {q})" && {write}; }}')
    return "; ".join(parts) + "\n" if parts else "true\n"


class _ShortcutAgent:
    """One turn of tricks, then ``task_complete``."""

    name = "shortcut"
    model = "shortcut"

    def first_action(self, task: Task) -> Action:  # pragma: no cover - overridden
        raise NotImplementedError

    def act(self, task: Task, messages: list[Message]) -> str:
        step = sum(1 for m in messages if m.role == "assistant")
        if step == 0:
            return render_action(self.first_action(task))
        return render_action(Action(analysis="Done.", plan="Finish.", commands=[], task_complete=True))


class EmptyFilesAgent(_ShortcutAgent):
    """Creates an empty file for every path the instruction names that does not exist yet."""

    name = "empty_files"
    model = "shortcut"

    def first_action(self, task: Task) -> Action:
        paths = mentioned_paths(task.instruction)
        return Action(analysis="The task names some files.", plan="Create the missing ones.",
                      commands=[Command(keystrokes=_create_missing(paths, None), duration=1.0)],
                      task_complete=False)


class CopyValuesAgent(_ShortcutAgent):
    """Writes the instruction's numbers and quoted values (one per line) into the missing files."""

    name = "copy_values"
    model = "shortcut"

    def first_action(self, task: Task) -> Action:
        paths = mentioned_paths(task.instruction)
        values = " ".join(shlex.quote(v) for v in mentioned_values(task.instruction))
        cmd = _create_missing(paths, values) if values else _create_missing(paths, None)
        return Action(analysis="The task names some values.", plan="Write them to the files it names.",
                      commands=[Command(keystrokes=cmd, duration=1.0)], task_complete=False)


class ExitEarlyAgent:
    """Says done and exits 0 at once, claiming the task is complete."""

    name = "exit_early"
    model = "shortcut"

    def act(self, task: Task, messages: list[Message]) -> str:
        return render_action(Action(
            analysis="Looks done.", plan="Report success.",
            commands=[Command(keystrokes="echo done\n", duration=0.1), Command(keystrokes="exit 0\n", duration=0.1)],
            task_complete=True,
        ))


SHORTCUT_AGENTS: tuple[type, ...] = (EmptyFilesAgent, CopyValuesAgent, ExitEarlyAgent)
