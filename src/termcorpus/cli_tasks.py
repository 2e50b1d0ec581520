"""``termcorpus tasks``: export tasks as Harbor directories, import Harbor / Terminal-Bench
directories, and run the validity gate on any of them.

``cli.py`` registers :data:`tasks_group` on the main group. Each command maps its options onto
one library call; a domain error becomes one line on stderr and exit code 2
(``runtime.domain_errors``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from termcorpus.errors import DataError
from termcorpus.runtime import domain_errors


class _TasksGroup(click.Group):
    """Same error contract as the main group, also when this group is invoked on its own."""

    def invoke(self, ctx: click.Context):  # type: ignore[no-untyped-def]
        with domain_errors():
            return super().invoke(ctx)


@click.group("tasks", cls=_TasksGroup)
def tasks_group() -> None:
    """Export, import and check tasks (Harbor / Terminal-Bench task directories)."""


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
@click.option("--report", "report_path", type=click.Path(dir_okay=False), default=None,
              help="Write the per-task report (JSON) here [default: OUT with .report.json].")
@click.option("--strict", is_flag=True, help="Exit 1 when any task directory is refused.")
def import_cmd(dirs: tuple[str, ...], out_path: str, report_path: str | None, strict: bool) -> None:
    """Read Harbor or Terminal-Bench task directories (or folders of them) into a JSONL file.

    Imports what it can: each directory is reported as imported, imported with notes, or
    refused with the reason. Exits 1 only when nothing imported (or, with --strict, when any
    directory was refused).
    """
    import dataclasses
    import json

    from termcorpus.records import write_jsonl
    from termcorpus.tasks.interop import ImportReport, import_folder

    tasks: list = []
    outcomes: list = []
    seen: dict[str, str] = {}
    for d in dirs:
        rep = import_folder(d)
        for t, o in zip(rep.tasks, [o for o in rep.outcomes if o.status != "refused"]):
            if t.id in seen:
                o.status, o.reason = "refused", f"task id {t.id!r} is also imported from {seen[t.id]}"
                continue
            seen[t.id] = o.dir
            tasks.append(t)
        outcomes += rep.outcomes
    report = ImportReport(tasks, outcomes)
    for line in report.lines():
        click.echo(line, err=True)
    write_jsonl(out_path, tasks)
    rpath = Path(report_path or f"{out_path}.report.json")
    rpath.write_text(json.dumps([dataclasses.asdict(o) for o in outcomes], indent=1) + "\n")
    click.echo(f"imported {len(tasks)} task(s) to {out_path}; report in {rpath}")
    if not tasks or (strict and report.n_refused):
        sys.exit(1)


def _configured_backend(sandbox: str | None, params_path: str | Path) -> str:
    """--sandbox, else execute.sandbox of the params file (the typed section), else bwrap."""
    if sandbox:
        return sandbox
    if Path(params_path).is_file():
        from termcorpus.params import load_section

        return str(load_section("execute", params_path).sandbox)
    return "bwrap"


def _params_path(ctx: click.Context) -> str:
    """The main group's ``--params`` (default params.yaml), also when this group runs on its own."""
    return ((ctx.find_root().obj or {}).get("params_path")) or "params.yaml"


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
@click.option("--sandbox", type=click.Choice(["bwrap", "docker", "local"]), default=None,
              help="Run the tasks in this sandbox backend [default: execute.sandbox of --params, else bwrap].")
@click.pass_context
def check_cmd(ctx: click.Context, sources: tuple[str, ...], workers: int, timeout_sec: float, memory_mb: int,
              full: bool, sandbox: str | None) -> None:
    """Run the validity gate (oracle passes; null and shortcut agents fail) and print a table.

    SOURCES are task JSONL files, task directories, or folders of task directories. Exits 1
    when any task fails the gate.
    """
    from termcorpus.execute.gate import GATE_AGENTS, run_gate
    from termcorpus.sandbox import SandboxConfig
    from termcorpus.tasks.interop import load_tasks

    notes: list[str] = []
    refused: list[str] = []
    tasks = load_tasks(sources, notes, refused)
    for n in notes:
        click.echo(f"note: {n}", err=True)
    if not tasks:
        raise DataError("no tasks to check" + (f" ({refused[0]})" if refused else ""))
    cfg = SandboxConfig(backend=_configured_backend(sandbox, _params_path(ctx)), timeout_sec=timeout_sec, memory_mb=memory_mb)
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
    for line in refused:
        click.echo(line)
    n_bad = sum(not v.kept for v in report.verdicts.values()) + len(refused)
    oracle_ok = sum(bool(v.outcome("oracle") and v.outcome("oracle").passed) for v in report.verdicts.values())
    null_fail = sum(bool(v.outcome("null") and not v.outcome("null").passed) for v in report.verdicts.values())
    total = len(tasks) + len(refused)
    click.echo(f"{total - n_bad}/{total} task(s) pass the gate (oracle passes {oracle_ok}, null fails "
               f"{null_fail}, {len(refused)} refused at import; sandbox {cfg.backend})")
    sys.exit(1 if n_bad else 0)
