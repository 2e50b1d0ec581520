"""``termcorpus tasks``: export tasks as Harbor directories, import Harbor / Terminal-Bench
directories, and run the validity gate on any of them.

The lead's ``cli.py`` registers :data:`tasks_group` on the main group. Each command maps its
options onto one library call; a domain error becomes one line on stderr and exit code 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from termcorpus.errors import DataError, TermcorpusError


class _TasksGroup(click.Group):
    """Same error contract as the main group, also when this group is invoked on its own."""

    def invoke(self, ctx: click.Context):  # type: ignore[no-untyped-def]
        try:
            return super().invoke(ctx)
        except TermcorpusError as e:
            click.echo(f"error: {e}", err=True)
            ctx.exit(e.exit_code)


@click.group("tasks", cls=_TasksGroup)
def tasks_group() -> None:
    """Export, import and check tasks (Harbor / Terminal-Bench task directories)."""


def load_tasks(sources: tuple[str, ...] | list[str], notes: list[str] | None = None) -> list:
    """Tasks from JSONL files, task directories, or directories of task directories (in order)."""
    from termcorpus.records import Task, read_jsonl
    from termcorpus.tasks.interop import find_task_dirs, import_task_dir

    tasks: list[Task] = []
    for src in sources:
        p = Path(src)
        if p.is_file():
            tasks.extend(read_jsonl(p, Task))
        elif p.is_dir() and (p / "tasks.jsonl").is_file() and not (p / "task.toml").exists():
            tasks.extend(read_jsonl(p / "tasks.jsonl", Task))
        elif p.is_dir():
            tasks.extend(import_task_dir(d, notes=notes) for d in find_task_dirs(p))
        else:
            raise DataError("no such file or directory", where=str(p))
    return tasks


@tasks_group.command("export")
@click.option("--format", "fmt", type=click.Choice(["harbor"]), default="harbor", show_default=True,
              help="Write task directories in this format.")
@click.option("--tasks", "tasks_path", required=True, type=click.Path(dir_okay=False),
              help="Read the tasks from this JSONL file (e.g. data/tasks/tasks.jsonl).")
@click.option("--limit", type=click.IntRange(min=0), default=0, show_default=True,
              help="Export only the first N tasks (0: all).")
@click.argument("out_dir", type=click.Path(file_okay=False))
def export_cmd(fmt: str, tasks_path: str, limit: int, out_dir: str) -> None:
    """Write each task as OUT_DIR/<task id>/ (instruction.md, task.toml, environment/, solution/, tests/)."""
    from termcorpus.records import Task, read_jsonl
    from termcorpus.tasks.interop import export_many

    paths = export_many(read_jsonl(tasks_path, Task), out_dir, limit=limit)
    click.echo(f"exported {len(paths)} task(s) as {fmt} directories to {out_dir}")


@tasks_group.command("import")
@click.argument("dirs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False),
              help="Write the imported tasks to this JSONL file.")
def import_cmd(dirs: tuple[str, ...], out_path: str) -> None:
    """Read Harbor or Terminal-Bench task directories (or folders of them) into a JSONL file."""
    from termcorpus.records import write_jsonl

    notes: list[str] = []
    tasks = load_tasks(dirs, notes)
    seen: set[str] = set()
    for t in tasks:
        if t.id in seen:
            raise DataError(f"two task directories give the id {t.id!r}")
        seen.add(t.id)
    for n in notes:
        click.echo(f"note: {n}", err=True)
    write_jsonl(out_path, tasks)
    click.echo(f"imported {len(tasks)} task(s) to {out_path}")


_MARK = {True: "pass", False: "fail", None: "-"}


@tasks_group.command("check")
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="Check this many tasks in parallel.")
@click.option("--timeout-sec", type=click.FloatRange(min=0.1), default=20.0, show_default=True,
              help="Stop any one command after this many seconds.")
@click.option("--memory-mb", type=click.IntRange(min=32), default=1024, show_default=True,
              help="Limit each sandboxed process to this much memory.")
@click.option("--full/--fast", default=True, show_default=True,
              help="Run every agent on every task (full table), or stop at the first failed check.")
def check_cmd(sources: tuple[str, ...], workers: int, timeout_sec: float, memory_mb: int, full: bool) -> None:
    """Run the validity gate (oracle passes; null and shortcut agents fail) and print a table.

    SOURCES are task JSONL files, task directories, or folders of task directories. Exits 1
    when any task fails the gate.
    """
    from termcorpus.execute.gate import GATE_AGENTS, run_gate
    from termcorpus.sandbox import SandboxConfig

    notes: list[str] = []
    tasks = load_tasks(sources, notes)
    for n in notes:
        click.echo(f"note: {n}", err=True)
    if not tasks:
        raise DataError("no tasks to check")
    cfg = SandboxConfig(backend="bwrap", timeout_sec=timeout_sec, memory_mb=memory_mb)
    report = run_gate(tasks, cfg, workers, full=full, desc="check")
    width = max(len("task"), *(len(t.id) for t in tasks))
    cols = [max(len(a), 4) for a in GATE_AGENTS]
    click.echo("  ".join([f"{'task':<{width}}"] + [f"{a:<{w}}" for a, w in zip(GATE_AGENTS, cols)] + ["verdict"]))
    for i, t in enumerate(tasks):
        v = report.verdicts[i]
        cells = []
        for a, w in zip(GATE_AGENTS, cols):
            o = v.outcome(a)
            cells.append(f"{_MARK[o.passed if o else None]:<{w}}")
        verdict = "ok" if v.kept else f"DROP {v.reason}" + (f" ({v.detail})" if v.detail else "")
        click.echo("  ".join([f"{t.id:<{width}}"] + cells + [verdict]))
    n_bad = sum(not v.kept for v in report.verdicts.values())
    click.echo(f"{len(tasks) - n_bad}/{len(tasks)} task(s) pass the gate")
    sys.exit(1 if n_bad else 0)
