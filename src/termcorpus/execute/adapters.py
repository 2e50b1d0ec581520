"""Build the dataset-adapter tasks of ``seed.adapters``: each record (tasks/adapters.py parses
and shapes it) is run once in the sandbox, so a task is kept only if its gold command changes
the files (nl2bash) or its reference program passes its tests while doing nothing fails
(program). Running things is execute's job; the record formats and task shapes are task specs.
"""

from __future__ import annotations

from pathlib import Path

from termcorpus.errors import DataError
from termcorpus.sandbox import check_backend, open_session
from termcorpus.tasks.adapter_files.check_tree import snapshot
from termcorpus.tasks.adapters import (AdapterResult, NL2BashRecord, ProgramRecord, nl2bash_task, parse_rows,
                                       program_task, source_name)


def _tests_pass(session) -> bool:
    """Run /tests/test.sh in a session opened with ``tests_dir=True``; True when it passes."""
    return session.run("bash /tests/test.sh >/dev/null 2>&1").exit_code == 0


def build_tasks(sources: list, sandbox_config, *, root: Path | None = None, strict: bool = True,
                known_skills: set[str] | None = None) -> AdapterResult:
    """Tasks from every source of ``seed.adapters``; each record is run once in the sandbox.

    ``strict`` stops at a record whose gold command fails or changes nothing; otherwise it is
    dropped and counted by reason. A record that breaks the contract always stops (one line).
    """
    result = AdapterResult()
    if not sources:
        return result
    check_backend(sandbox_config)
    for src in sources:
        name = source_name(src.path)
        rows = parse_rows(src.path, src.kind, src.format, root=root, known_skills=known_skills)
        n_before = len(result.tasks)
        for where, rec in rows:
            if src.kind == "nl2bash":
                assert isinstance(rec, NL2BashRecord)
                probe = nl2bash_task(rec, source=name, domain=src.domain, expected_tree={})
                with open_session(probe, sandbox_config) as s:
                    before = snapshot(s.app_dir)
                    r = s.run(rec.command)
                    after = snapshot(s.app_dir)
                reason = ("gold_failed" if r.exit_code != 0 or r.timed_out else
                          "unchanged_tree" if after == before else None)
                task = nl2bash_task(rec, source=name, domain=src.domain, expected_tree=after)
            else:
                assert isinstance(rec, ProgramRecord)
                task = program_task(rec, source=name, domain=src.domain)
                with open_session(task, sandbox_config, tests_dir=True) as s:
                    null_passes = _tests_pass(s)
                    s.run(task.solution[0])
                    oracle_passes = _tests_pass(s)
                reason = "oracle_failed" if not oracle_passes else "null_passed" if null_passes else None
            if reason is not None:
                if strict:
                    raise DataError(f"record {rec.id!r} is not a usable task ({reason}; "
                                    f"set seed.strict: false to drop it)", where=where)
                result.drops[reason] += 1
                continue
            result.tasks.append(task)
        result.by_source[src.path] = len(result.tasks) - n_before
    return result
