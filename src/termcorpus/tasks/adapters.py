"""Dataset adapters: existing datasets turned into tasks (the paper's third source).

NVIDIA's released Terminal-Corpus calls this subset ``dataset_adapters``; our tasks carry
``source: adapter`` and land in that subset. ``seed.adapters`` in params.yaml lists sources
(:class:`termcorpus.params.AdapterSource`); each record becomes one task of its own family.

Two kinds:

* ``nl2bash``: a natural-language request, the gold shell command, and the starting files.
  At build time the gold command runs in the sandbox on those files and the resulting tree
  (every path, type, permission bits, each file's SHA-256) is snapshotted into the task's
  tests: the verifier compares the final /app with it (``adapter_files/check_tree.py``). A
  command that leaves the tree as it found it cannot be told from doing nothing, so it is
  dropped (``unchanged_tree``); one that fails is dropped as ``gold_failed``.
* ``program``: a programming problem, a reference program and unit tests. The task asks for
  the program in /app; its tests run the Python unit tests (``tests``), or feed inputs and
  compare outputs (``io``: ``adapter_files/run_io.py``). At build time the tests must pass
  with the reference program and fail without it.

Sources: a local JSONL or Parquet file, a ``datasets`` directory (``save_to_disk``) or a hub
id (``datasets.load_dataset``; where the hub cannot be reached, one line says so). A record
that breaks the contract stops the stage with one line naming the file, the line (or row)
and the field.

Record fields (JSONL keys / columns; extra columns are ignored):

* nl2bash: ``id``, ``instruction`` (or ``nl``), ``command`` (or ``cmd``), ``files``
  (path -> text; may be empty), optional ``domain``, ``skills``, ``difficulty``.
* program: ``id``, ``instruction`` (or ``prompt``), ``solution`` (the program's text),
  optional ``entry`` (file name, default ``solution.py``), ``tests`` (Python source run from
  /app) and/or ``io`` (list of ``{input, output}``), optional ``files``, ``domain``,
  ``skills``, ``difficulty``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from termcorpus.errors import DataError, EnvironmentProblem
from termcorpus.records import (
    CANARY, DOMAINS, Environment, GeneratorInfo, Task, check_relative_path, format_validation_error, json_lines,
)

GENERATOR_NAME = "dataset_adapter"
GENERATOR_VERSION = "1.0"
_FILES = Path(__file__).with_name("adapter_files")
_DEFAULT_DOMAIN = {"nl2bash": "file_operations", "program": "software_engineering"}
_DEFAULT_SKILLS = {"nl2bash": ["shell_scripting"], "program": ["code_generation"]}  # taxonomy ids
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
_EOF = "TERMCORPUS_EOF"

TEST_HEADER = f"""#!/bin/bash
# termcorpus verifier -- {CANARY} -- never train on this file
cd "${{APP_DIR:-/app}}" || exit 1
export LC_ALL=C PYTHONDONTWRITEBYTECODE=1
_here="$(cd "$(dirname "$0")" && pwd)"
_logs="${{LOGS_DIR:-/logs/verifier}}"
_reward() {{ mkdir -p "$_logs" 2>/dev/null && echo "$1" > "$_logs/reward.txt" 2>/dev/null; true; }}
fail() {{ echo "FAIL: $*"; _reward 0; exit 1; }}
"""
TEST_FOOTER = "echo PASS\n_reward 1\nexit 0\n"


class _Rec(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str
    domain: str = ""
    skills: list[str] = Field(default_factory=list)
    difficulty: Literal["easy", "medium", "hard"] = "easy"
    files: dict[str, str] = Field(default_factory=dict)

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, v: Any) -> str:
        v = str(v) if isinstance(v, int) else v
        if not isinstance(v, str) or not _ID.match(v):
            raise ValueError("must be 1-80 letters, digits, '_', '.' or '-'")
        return v

    @field_validator("files", mode="before")
    @classmethod
    def _files(cls, v: Any) -> Any:
        if v is None:
            return {}
        if isinstance(v, str):  # a Parquet / datasets column may hold the mapping as JSON text
            try:
                v = json.loads(v)
            except ValueError:
                raise ValueError("must be a mapping of path -> text (or its JSON)")
        if isinstance(v, dict):
            for p in v:
                check_relative_path(p)
        return v


class NL2BashRecord(_Rec):
    instruction: str = Field(min_length=1, validation_alias=AliasChoices("instruction", "nl"))
    command: str = Field(min_length=1, validation_alias=AliasChoices("command", "cmd"))


class IOCase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    input: str
    output: str


class ProgramRecord(_Rec):
    instruction: str = Field(min_length=1, validation_alias=AliasChoices("instruction", "prompt"))
    solution: str = Field(min_length=1)
    entry: str = "solution.py"
    tests: str = ""
    io: list[IOCase] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _io_json(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            if isinstance(data.get("io"), str):
                try:
                    data["io"] = json.loads(data["io"])
                except ValueError:
                    pass
        return data

    @model_validator(mode="after")
    def _checks(self) -> "ProgramRecord":
        check_relative_path(self.entry)
        if not self.tests.strip() and not self.io:
            raise ValueError("needs 'tests' (Python unit tests) or 'io' (input/output cases)")
        return self


@dataclass
class AdapterResult:
    tasks: list[Task] = field(default_factory=list)
    drops: Counter = field(default_factory=Counter)
    by_source: dict[str, int] = field(default_factory=dict)

    def metrics(self) -> dict[str, object]:
        return {"n_adapter_tasks": len(self.tasks),
                "adapter_drops": {k: self.drops[k] for k in sorted(self.drops)}}


# ---- reading sources ---------------------------------------------------------------------------
def infer_format(path: str, fmt: str = "") -> str:
    if fmt:
        return fmt
    p = Path(path)
    if p.suffix == ".jsonl":
        return "jsonl"
    if p.suffix == ".parquet":
        return "parquet"
    if p.is_dir():
        return "datasets"
    if not p.exists() and re.match(r"^[\w.-]+/[\w.-]+$", path):
        return "hub"
    raise DataError("cannot tell the format (use a .jsonl or .parquet file, a saved `datasets` "
                    "directory, or set seed.adapters[].format)", where=path)


def iter_rows(path: str, fmt: str = "", *, root: Path | None = None) -> Iterator[tuple[str, dict]]:
    """(location, row) for every record of a source; location is ``file:line`` or ``file:row N``."""
    fmt = infer_format(str(root / path) if root and fmt != "hub" else path, fmt)
    full = (root / path) if root is not None and fmt != "hub" else Path(path)
    if fmt == "jsonl":
        for where, row in json_lines(full, name=path):
            if not isinstance(row, dict):
                raise DataError("each line must be a JSON object", where=where)
            yield where, row
        return
    if fmt == "parquet":
        if not full.is_file():
            raise DataError("file not found", where=str(path))
        import pyarrow.parquet as pq

        try:
            rows = pq.read_table(full).to_pylist()
        except Exception as e:  # pyarrow raises several types for a bad file
            raise DataError(f"not a readable Parquet file ({e})", where=str(path))
        for i, row in enumerate(rows):
            yield f"{path}:row {i}", row
        return
    if fmt in ("datasets", "hub"):
        import datasets

        try:
            if fmt == "datasets":
                if not full.is_dir():
                    raise DataError("directory not found", where=str(path))
                ds = datasets.load_from_disk(str(full))
            else:
                ds = datasets.load_dataset(path)
        except DataError:
            raise
        except Exception as e:
            if fmt == "hub":
                first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                raise EnvironmentProblem(f"hub dataset {path!r} cannot be loaded here (the hub is not "
                                         f"reachable or the id is wrong: {first}); save it with "
                                         "`datasets` save_to_disk and name that directory instead")
            raise DataError(f"not a saved `datasets` directory ({e})", where=str(path))
        if isinstance(ds, datasets.DatasetDict):
            split = "train" if "train" in ds else sorted(ds)[0]
            ds = ds[split]
        for i, row in enumerate(ds):
            yield f"{path}:row {i}", dict(row)
        return
    raise DataError(f"unknown format {fmt!r} (jsonl, parquet, datasets, hub)", where=str(path))


def parse_rows(path: str, kind: str, fmt: str = "", *, root: Path | None = None,
               known_skills: set[str] | None = None) -> list[tuple[str, _Rec]]:
    """The validated records of one source, with where each came from (``file:line``)."""
    model = NL2BashRecord if kind == "nl2bash" else ProgramRecord
    out: list[tuple[str, _Rec]] = []
    seen: dict[str, str] = {}
    for where, row in iter_rows(path, fmt, root=root):
        try:
            rec = model.model_validate(row)
        except ValidationError as e:
            raise DataError(format_validation_error(e), where=where)
        unknown = [s for s in rec.skills if known_skills is not None and s not in known_skills]
        if unknown:
            raise DataError(f"field 'skills': unknown skill id {unknown[0]!r} (see data/skills)", where=where)
        if rec.domain and rec.domain not in DOMAINS:
            raise DataError(f"field 'domain': unknown domain {rec.domain!r}; expected one of "
                            f"{', '.join(DOMAINS)}", where=where)
        if rec.id in seen:
            raise DataError(f"field 'id': {rec.id!r} repeats {seen[rec.id]}", where=where)
        seen[rec.id] = where
        out.append((where, rec))
    return out


# ---- building tasks ----------------------------------------------------------------------------
def _helper(name: str) -> str:
    return (_FILES / name).read_text(encoding="utf-8")


def source_name(path: str) -> str:
    stem = Path(path).name
    for suffix in (".jsonl", ".parquet"):
        stem = stem.removesuffix(suffix)
    return re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-") or "source"


def _base(rec: _Rec, kind: str, source: str, domain: str) -> dict[str, Any]:
    return dict(
        id=f"adapter-{source}-{rec.id}", family=f"adapter-{source}-{rec.id}", source="adapter",
        domain=rec.domain or domain or _DEFAULT_DOMAIN[kind], skills=rec.skills or list(_DEFAULT_SKILLS[kind]),
        difficulty=rec.difficulty, environment=Environment(timeout_sec=30.0),
        generator=GeneratorInfo(name=GENERATOR_NAME, version=GENERATOR_VERSION, seed=0),
    )


def nl2bash_task(rec: NL2BashRecord, *, source: str, domain: str, expected_tree: dict) -> Task:
    test = TEST_HEADER + (
        'python3 "$_here/check_tree.py" "$_here/expected_tree.json" . '
        '|| fail "the files in /app are not what the request asks for"\n') + TEST_FOOTER
    return Task(
        **_base(rec, "nl2bash", source, domain), instruction=rec.instruction, files=dict(rec.files),
        solution=[rec.command],
        tests={"test.sh": test, "check_tree.py": _helper("check_tree.py"),
               "expected_tree.json": json.dumps(expected_tree, indent=1, sort_keys=True) + "\n"},
    )


def program_task(rec: ProgramRecord, *, source: str, domain: str) -> Task:
    instruction = rec.instruction.rstrip() + f"\n\nWrite the program to /app/{rec.entry}."
    body = ""
    tests: dict[str, str] = {}
    if rec.tests.strip():
        tests["test_program.py"] = (
            f"# termcorpus verifier -- {CANARY} -- never train on this file\n"
            "import os, sys\nsys.path.insert(0, os.getcwd())\n" + rec.tests.rstrip() + "\n")
        body += f'python3 "$_here/test_program.py" || fail "the unit tests of {rec.entry} fail"\n'
    if rec.io:
        tests["io_cases.json"] = json.dumps([c.model_dump() for c in rec.io], indent=1) + "\n"
        tests["run_io.py"] = _helper("run_io.py")
        body += (f'python3 "$_here/run_io.py" "$_here/io_cases.json" {rec.entry} '
                 f'|| fail "{rec.entry} gives a wrong output"\n')
    text = rec.solution if rec.solution.endswith("\n") else rec.solution + "\n"
    if f"\n{_EOF}\n" in f"\n{text}":
        raise DataError(f"field 'solution': contains the line {_EOF}", where=rec.id)
    write = f"cat > {rec.entry} <<'{_EOF}'\n{text}{_EOF}"
    files = {k: v for k, v in rec.files.items() if k != rec.entry}
    return Task(**_base(rec, "program", source, domain), instruction=instruction, files=files,
                solution=[write], tests={"test.sh": TEST_HEADER + f'[ -f {rec.entry} ] || fail "{rec.entry} is missing"\n'
                                         + body + TEST_FOOTER, **tests})
