"""Task interchange, the public entry points: Harbor export, Harbor and Terminal-Bench 1 import.

The work is split by job:

* :mod:`termcorpus.tasks.harbor_export` - a Task as a Harbor task directory;
* :mod:`termcorpus.tasks.harbor_import` - a Harbor directory as a Task (lossless for our own);
* :mod:`termcorpus.tasks.tb_import` - a Terminal-Bench 1 directory as a Task;
* :mod:`termcorpus.tasks.dockerfile` - the Dockerfile reader both importers share (the build
  itself is :mod:`termcorpus.sandbox.layers`);
* :mod:`termcorpus.tasks.taskfiles` - safe reading of task files and field mapping.

Foreign tasks import with ``source = "import"`` and keep their Dockerfile (plus the build
context its COPY/ADD name) as ``environment.dockerfile``: the sandbox builds it. Unsafe content
is refused with one line (:class:`DataError`): ``..`` or absolute paths, symlinks pointing
outside the task, COPY from outside the build context, files over 10 MB.

:func:`import_folder` imports every task directory of a folder and reports, per task,
"imported", "imported with notes" or "refused" with the reason: one bad task never drops the
folder. :func:`load_tasks` reads tasks from any mix of JSONL files and task folders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from termcorpus.errors import DataError
from termcorpus.records import Task, read_jsonl
from termcorpus.tasks.harbor_export import (  # noqa: F401 - public names
    AGENT_TIMEOUT_FACTOR, HARBOR_SCHEMA_VERSION, TURN_MARKER, export_harbor, export_many,
)
from termcorpus.tasks.harbor_import import import_harbor
from termcorpus.tasks.taskfiles import (  # noqa: F401 - public names
    INTEROP_VERSION, MAX_FILE_BYTES, MAX_FILES, detect_format, find_task_dirs, safe_dir_name,
)
from termcorpus.tasks.tb_import import import_terminal_bench


def import_task_dir(dir: str | Path, *, notes: list[str] | None = None) -> Task:
    """Read a Harbor or Terminal-Bench 1 task directory as a Task.

    What is read differently from Docker (ignored instructions, a solution batch replayed
    another way, a category mapped to a default) is appended to ``notes`` when a list is given;
    anything unsafe or unreadable raises :class:`DataError`.
    """
    given = Path(dir)
    if not given.is_dir():
        raise DataError("not a directory", where=str(given))
    # Resolved once: every containment check below compares resolved paths.
    path = given.resolve()
    sink: list[str] = notes if notes is not None else []
    try:
        safe_dir_name(path.name)
    except DataError as e:
        raise DataError(str(e), where=str(given))
    fmt = detect_format(path)
    if fmt == "harbor":
        return import_harbor(path, sink)
    if fmt == "terminal-bench":
        return import_terminal_bench(path, sink)
    raise DataError("not a task directory (no task.toml or task.yaml)", where=str(path))


@dataclass
class ImportOutcome:
    """What happened to one task directory."""

    dir: str
    status: str  # "imported" | "imported with notes" | "refused"
    task_id: str = ""
    notes: list[str] = field(default_factory=list)
    reason: str = ""


@dataclass
class ImportReport:
    tasks: list[Task]
    outcomes: list[ImportOutcome]

    @property
    def n_refused(self) -> int:
        return sum(o.status == "refused" for o in self.outcomes)

    def lines(self) -> list[str]:
        out = []
        for o in self.outcomes:
            if o.status == "refused":
                out.append(f"refused   {o.dir}: {o.reason}")
            else:
                out.append(f"{'imported' if not o.notes else 'noted   '}  {o.dir} -> {o.task_id}")
                out += [f"            note: {n}" for n in o.notes]
        out.append(f"{len(self.tasks)} imported ({sum(bool(o.notes) for o in self.outcomes if o.status != 'refused')} "
                   f"with notes), {self.n_refused} refused, of {len(self.outcomes)} task directories")
        return out


def import_folder(root: str | Path) -> ImportReport:
    """Import every task directory under ``root`` (or ``root`` itself); never stops at a bad one.

    Task ids must be unique: a second directory with an id already taken is refused.
    """
    tasks: list[Task] = []
    outcomes: list[ImportOutcome] = []
    seen: dict[str, str] = {}
    for d in find_task_dirs(root):
        notes: list[str] = []
        try:
            task = import_task_dir(d, notes=notes)
            if task.id in seen:
                raise DataError(f"task id {task.id!r} is also imported from {seen[task.id]}")
        except DataError as e:
            outcomes.append(ImportOutcome(str(d), "refused", reason=str(e)))
            continue
        seen[task.id] = str(d)
        tasks.append(task)
        outcomes.append(ImportOutcome(str(d), "imported with notes" if notes else "imported",
                                      task_id=task.id, notes=notes))
    return ImportReport(tasks, outcomes)


def load_tasks(sources: tuple[str, ...] | list[str], notes: list[str] | None = None,
               refused: list[str] | None = None) -> list[Task]:
    """Tasks from JSONL files, task directories, or directories of task directories (in order).

    A task directory that cannot be imported raises, unless ``refused`` collects its line. The one
    task loader of the CLI (``termcorpus run``, ``termcorpus tasks check``)."""
    tasks: list[Task] = []
    for src in sources:
        p = Path(src)
        if p.is_file():
            tasks.extend(read_jsonl(p, Task))
        elif p.is_dir() and (p / "tasks.jsonl").is_file() and not (p / "task.toml").exists():
            tasks.extend(read_jsonl(p / "tasks.jsonl", Task))
        elif p.is_dir():
            rep = import_folder(p)
            for o in rep.outcomes:
                if o.status == "refused":
                    if refused is None:
                        raise DataError(o.reason)
                    refused.append(f"refused {o.dir}: {o.reason}")
                elif notes is not None:
                    notes.extend(o.notes)
            tasks.extend(rep.tasks)
        else:
            raise DataError("no such file or directory", where=str(p))
    return tasks
