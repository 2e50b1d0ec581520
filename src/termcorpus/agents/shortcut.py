"""Shortcut agents: cheap tricks that a badly written task would reward.

The validity gate (:mod:`termcorpus.execute.gate`) keeps a task only if every one of these
agents FAILS it. Each one reads nothing but the instruction, speaks the Terminus-2 protocol
like any other agent, and plays one well-known way of gaming a weak verifier:

* :class:`EmptyFilesAgent` creates an empty file for every name the instruction mentions that
  does not exist yet: paths (``out.txt``, ``data/x``) and bare words (``result``, ``Makefile``),
  so a test that only checks ``test -f result`` passes it;
* :class:`MakeDirsAgent` creates a directory for every such name instead (a test that only
  checks ``test -d backup`` passes it);
* :class:`CopyValuesAgent` writes the numbers and quoted values of the instruction into those
  files (a test whose expected answer is spelled out in the instruction passes it);
* :class:`ExitEarlyAgent` runs ``echo done`` / ``exit 0`` and claims the task is complete
  (a test that checks exit codes or nothing at all passes it).

All four are deterministic: the same instruction gives the same keystrokes.
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
# A bare word that could name a file or directory: letter- or underscore-led, no slash
# ("result", "Makefile", "out_dir", "v2-final"); sentence punctuation is not part of it.
_WORD = re.compile(r"(?<![\w/.-])[A-Za-z_][\w-]*(?![\w/-])")
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


def mentioned_names(instruction: str) -> list[str]:
    """Every name a test might check for: the :func:`mentioned_paths`, then each bare word of
    the instruction (``result``, ``Makefile``, ``the``), in order of first mention.

    Why every word: a path without an extension or a slash looks like any other word, and
    creating a few dozen stray files costs one command. Extra files can only make a real test
    fail, so this catches existence-only tests without risking a good task.
    """
    out = mentioned_paths(instruction)
    seen = set(out)
    for m in _WORD.finditer(instruction):
        w = m.group(0)
        if w not in seen:
            seen.add(w)
            out.append(w)
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


def _create_missing(paths: list[str], content: str | None, *, dirs: bool = False) -> str:
    """One shell command: create each missing path (parents too), empty or with ``content``,
    or as a directory with ``dirs``. Errors are silenced: a word that cannot be a file name
    here (a parent is a file) is simply skipped."""
    if not paths:
        return "true\n"
    if dirs:
        # one mkdir for all of them (an existing name is left as it is)
        return "mkdir -p -- " + " ".join(shlex.quote(p) for p in paths) + " 2>/dev/null; true\n"
    parts = []
    for p in paths:
        q = shlex.quote(p)
        write = f": > {q}" if content is None else f"printf '%s\\n' {content} > {q}"
        # parents only where there are any: a bare word costs no process at all
        make = f'mkdir -p -- "$(dirname -- {q})" && ' if "/" in p else ""
        parts.append(f"[ -e {q} ] || {{ {make}{write}; }} 2>/dev/null")
    return "; ".join(parts) + "; true\n"


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
    """Creates an empty file for every name the instruction mentions that does not exist yet."""

    name = "empty_files"
    model = "shortcut"
    dirs = False  # MakeDirsAgent: directories instead of files

    def first_action(self, task: Task) -> Action:
        paths = mentioned_names(task.instruction)
        return Action(analysis=f"The task names some {'directories' if self.dirs else 'files'}.",
                      plan="Create the missing ones.",
                      commands=[Command(keystrokes=_create_missing(paths, None, dirs=self.dirs), duration=1.0)],
                      task_complete=False)


class MakeDirsAgent(EmptyFilesAgent):
    """Creates a directory for every name the instruction mentions that does not exist yet."""

    name = "make_dirs"
    dirs = True


class CopyValuesAgent(_ShortcutAgent):
    """Writes the instruction's numbers and quoted values (one per line) into the missing files."""

    name = "copy_values"
    model = "shortcut"

    def first_action(self, task: Task) -> Action:
        paths = mentioned_names(task.instruction)
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


SHORTCUT_AGENTS: tuple[type, ...] = (EmptyFilesAgent, MakeDirsAgent, CopyValuesAgent, ExitEarlyAgent)
