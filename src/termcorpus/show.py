"""``termcorpus show ID``: one task or trajectory, rendered for a terminal with rich.

A trajectory shows its instruction, each turn (the agent's plan, every command with its exit code
and output, parse errors) and the verifier's verdict. A task shows its instruction, files,
reference solution and tests, then the verdicts of any trajectories recorded for it.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Sequence

import click
from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.rule import Rule
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from termcorpus.errors import DataError
from termcorpus.records import Task, Trajectory, iter_jsonl
from termcorpus.runtime import domain_errors

MAX_OUTPUT_CHARS = 4000


def _cut(text: str, limit: int = MAX_OUTPUT_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n... ({len(text) - limit} more characters)"


def _ids(path: Path) -> list[str]:
    """Every record id of a JSONL (cheap: no validation), for 'did you mean'."""
    out = []
    with Path(path).open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(rec, dict) and isinstance(rec.get("id"), str):
                out.append(rec["id"])
    return out


def find_trajectories(path: Path, record_id: str) -> tuple[Trajectory | None, list[Trajectory]]:
    """The trajectory with this id, and the trajectories of the task with this id."""
    hit, of_task = None, []
    for t in iter_jsonl(path, Trajectory):
        if t.id == record_id:
            hit = t
        elif t.task_id == record_id:
            of_task.append(t)
    return hit, sorted(of_task, key=lambda t: t.id)


def find_task(paths: Sequence[Path], task_id: str) -> Task | None:
    for p in paths:
        for t in iter_jsonl(p, Task):
            if t.id == task_id:
                return t
    return None


def _header(kind: str, rec: Task | Trajectory) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold cyan")
    grid.add_column()
    grid.add_row(kind, Text(rec.id, style="bold"))
    grid.add_row("family", rec.family)
    grid.add_row("domain", rec.domain)
    grid.add_row("skills", ", ".join(rec.skills) or "-")
    grid.add_row("difficulty", rec.difficulty)
    grid.add_row("source", rec.source)
    if isinstance(rec, Trajectory):
        grid.add_row("task", rec.task_id)
        grid.add_row("agent", f"{rec.agent} ({rec.model})")
        grid.add_row("sandbox", rec.sandbox)
    return grid


def _verdict(t: Trajectory) -> Text:
    style = "bold green" if t.passed else "bold red"
    return Text(f"{'PASS' if t.passed else 'FAIL'}  reward {t.reward:g}  ({t.n_turns} turns, {t.n_commands} commands)",
                style=style)


def render_trajectory(t: Trajectory) -> Group:
    parts: list = [_header("trajectory", t), Panel(escape(t.instruction.strip()), title="instruction", title_align="left")]
    for i, turn in enumerate(t.turns, 1):
        parts.append(Rule(f"turn {i}", align="left"))
        if turn.action is None:
            parts.append(Text(f"unparseable output: {turn.parse_error or '?'}", style="red"))
            parts.append(Panel(escape(_cut(turn.raw)), title="raw", title_align="left", border_style="red"))
        else:
            if turn.action.analysis.strip():
                parts.append(Text.assemble(("analysis ", "dim"), turn.action.analysis.strip()))
            if turn.action.plan.strip():
                parts.append(Text.assemble(("plan ", "dim"), turn.action.plan.strip()))
        for r in turn.results:
            status = "timed out" if r.timed_out else f"exit {r.exit_code}"
            ok = r.exit_code == 0 and not r.timed_out
            parts.append(Text.assemble(("$ ", "bold"), (r.keystrokes.rstrip(), "bold"),
                                       (f"   [{status}]", "green" if ok else "red")))
            if r.output.strip():
                parts.append(Text(_cut(r.output.rstrip()) + (" [output truncated]" if r.truncated else ""), style="dim"))
        if turn.action is not None and turn.action.task_complete:
            parts.append(Text("task_complete", style="cyan"))
    parts.append(Rule("verdict", align="left"))
    parts.append(_verdict(t))
    if t.verifier_output.strip():
        parts.append(Panel(escape(_cut(t.verifier_output.strip())), title="verifier", title_align="left"))
    return Group(*parts)


def render_task(task: Task, trajectories: Sequence[Trajectory] = ()) -> Group:
    parts: list = [_header("task", task), Panel(escape(task.instruction.strip()), title="instruction", title_align="left")]
    for path, text in sorted(task.files.items()):
        parts.append(Panel(escape(_cut(text.rstrip("\n"))), title=f"file {path}", title_align="left", border_style="blue"))
    for path in sorted(task.binary_files):
        parts.append(Text(f"binary file {path} ({len(task.binary_files[path])} base64 characters)", style="blue"))
    if task.solution:
        parts.append(Panel(Syntax("\n".join(task.solution), "bash", theme="ansi_dark", word_wrap=True),
                           title="reference solution", title_align="left", border_style="green"))
    for path, text in sorted(task.tests.items()):
        lexer = "bash" if path.endswith(".sh") else "python" if path.endswith(".py") else "text"
        parts.append(Panel(Syntax(_cut(text.rstrip("\n")), lexer, theme="ansi_dark", word_wrap=True),
                           title=f"tests/{path}", title_align="left", border_style="magenta"))
    if trajectories:
        table = Table(title="trajectories of this task", title_justify="left")
        for col in ("id", "agent", "verdict", "reward", "turns"):
            table.add_column(col)
        for t in trajectories:
            table.add_row(t.id, t.agent, Text("PASS", "green") if t.passed else Text("FAIL", "red"),
                          f"{t.reward:g}", str(t.n_turns))
        parts.append(table)
    return Group(*parts)


def show(record_id: str, *, tasks: Sequence[Path], trajectories: Path | None, console: Console) -> str:
    """Render the trajectory or task with ``record_id``; returns which kind was shown."""
    traj, of_task = (None, [])
    if trajectories is not None and trajectories.exists():
        traj, of_task = find_trajectories(trajectories, record_id)
    if traj is not None:
        console.print(render_trajectory(traj))
        return "trajectory"
    existing = [p for p in tasks if p.exists()]
    task = find_task(existing, record_id)
    if task is not None:
        console.print(render_task(task, of_task))
        return "task"
    searched = [str(p) for p in [*existing, *([trajectories] if trajectories is not None and trajectories.exists() else [])]]
    if not searched:
        raise DataError("no tasks or trajectories file found: pass --tasks / --trajectories")
    known = [i for p in searched for i in _ids(Path(p))]
    close = difflib.get_close_matches(record_id, known, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise DataError(f"no task or trajectory with id {record_id!r} in {', '.join(searched)}{hint}")


@click.command("show")
@click.argument("record_id", metavar="ID")
@click.option("--tasks", "tasks_file", type=click.Path(dir_okay=False, path_type=Path), multiple=True,
              help="Look the id up in this tasks JSONL (default: data/tasks/tasks.jsonl and heldout.jsonl); repeatable.")
@click.option("--trajectories", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("data/trajectories/trajectories.jsonl"), show_default=True,
              help="Look the id up in this trajectories JSONL.")
@click.option("--width", type=click.IntRange(min=40), default=None, help="Render at this width (default: the terminal's).")
@domain_errors()
def show_cmd(record_id: str, tasks_file: tuple[Path, ...], trajectories: Path, width: int | None) -> None:
    """Show one task or trajectory: instruction, each turn's commands and outputs, the verdict."""
    tasks = list(tasks_file) or [Path("data/tasks/tasks.jsonl"), Path("data/tasks/heldout.jsonl")]
    console = Console(width=width, highlight=False)
    show(record_id, tasks=tasks, trajectories=trajectories, console=console)
