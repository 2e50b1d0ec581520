"""The records that flow through the pipeline: Task, the Terminus-2 action, Trajectory.

One JSON object per line (JSONL) on disk. Every record carries ``schema_version``; loading
a file turns a pydantic validation error into one line naming the file, the line and the
field. Records hold no wall-clock data, so the same inputs give the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, Iterable, Iterator, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_serializer, model_validator

from termcorpus.errors import DataError

SCHEMA_VERSION = "1.0"

DOMAINS: tuple[str, ...] = (
    "data_processing",
    "data_querying",
    "data_science",
    "debugging",
    "dependency_management",
    "file_operations",
    "scientific_computing",
    "security",
    "software_engineering",
)


def check_domain(v: str) -> str:
    """``v`` when it is one of ``DOMAINS``; a ValueError naming them otherwise."""
    if v not in DOMAINS:
        raise ValueError(f"unknown domain {v!r}; expected one of {', '.join(DOMAINS)}")
    return v


# The one domain type of tasks, seeds and skills: a string checked against DOMAINS.
Domain = Annotated[str, AfterValidator(check_domain)]

# Canary written into every generated test and solution, so that validation can prove that no
# evaluation task leaked into training data (see curate/decontaminate).
CANARY = "termcorpus-canary-7f3c2a91"
# The held-out evaluation sets generate writes (``Task.eval_set``; generate/heldout.py builds them).
HELDOUT_SETS: tuple[str, ...] = (
    "heldout_variants", "heldout_compositions", "heldout_compositions_novel_pairs", "heldout_families", "novel_names",
)


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Environment(_Record):
    image: str = "termcorpus/base:bookworm"
    workdir: str = "/app"
    timeout_sec: float = Field(default=30.0, gt=0, le=3600)
    memory_mb: int = Field(default=512, ge=16, le=65536)
    network: bool = False
    dockerfile: str = Field(
        default="",
        description="Dockerfile text of the task's own image (docker backend; build context: the "
        "task's files); empty: use `image`",
    )
    build_context: dict[str, str] = Field(
        default_factory=dict,
        description="build context of `dockerfile` (path -> base64); when set it replaces the task's "
        "files as the context, and the bwrap backend builds a cached root-filesystem layer from it",
    )

    @model_serializer(mode="wrap")
    def _omit_empty_build_context(self, handler):  # type: ignore[no-untyped-def]
        # Generated tasks have none: leaving the key out keeps their JSON and digests as before.
        data = handler(self)
        if not self.build_context and isinstance(data, dict):
            data.pop("build_context", None)
        return data


class GeneratorInfo(_Record):
    name: str
    version: str
    seed: int


class Derivation(_Record):
    """How the oracle derives one command from what the previous turn printed: each pattern (one
    regex group) is searched in that observation's output and fills ``{{name}}`` in ``template``."""

    turn: int = Field(ge=0, description="index into solution of the derived command")
    patterns: dict[str, str]
    template: str


class Task(_Record):
    """A terminal task: instruction + input files + reference solution + verifier tests."""

    schema_version: str = SCHEMA_VERSION
    id: str = Field(min_length=1)
    family: str = Field(min_length=1, description="All variants of one seed or one skill combination")
    source: Literal["seed", "skill", "import", "llm", "adapter"]
    domain: Domain
    skills: list[str] = Field(default_factory=list)
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    instruction: str = Field(min_length=1)
    files: dict[str, str] = Field(default_factory=dict, description="path under workdir -> text")
    binary_files: dict[str, str] = Field(default_factory=dict, description="path -> base64")
    solution: list[str] = Field(default_factory=list, description="shell commands, one turn each")
    tests: dict[str, str] = Field(description="path under /tests -> text; entry tests/test.sh")
    environment: Environment = Field(default_factory=Environment)
    generator: GeneratorInfo | None = None
    slots: dict[str, str] = Field(
        default_factory=dict, description="values substituted into the template (names, numbers)"
    )
    eval_set: str = Field(
        default="",
        description="empty for the training pool; otherwise the held-out evaluation set this task "
        "belongs to (heldout_variants, heldout_compositions, heldout_families, novel_names, ...)",
    )
    # skill composition (generate/compose.py): steps whose command depends on an earlier output
    derivations: list[Derivation] = Field(
        default_factory=list, description="solution turns the oracle derives from the real previous observation")
    obs_dependent_steps: list[int] = Field(
        default_factory=list, description="0-based indexes into skills of the observation-dependent steps")

    @field_validator("tests")
    @classmethod
    def _has_entry(cls, v: dict[str, str]) -> dict[str, str]:
        if "test.sh" not in v:
            raise ValueError("tests must contain the entry script 'test.sh'")
        return v

    @field_validator("files", "tests", "binary_files")
    @classmethod
    def _safe_paths(cls, v: dict[str, str]) -> dict[str, str]:
        for p in v:
            check_relative_path(p)
        return v

    def digest(self) -> str:
        return sha256_text(self.model_dump_json())


def check_relative_path(p: str) -> str:
    """Reject absolute paths and ``..`` components: task files must stay inside the task."""
    parts = p.replace("\\", "/").split("/")
    if not p or p.startswith("/") or ".." in parts or "\x00" in p:
        raise ValueError(f"unsafe path {p!r}: must be relative and stay inside the task")
    return p


class Command(_Record):
    keystrokes: str
    duration: float = Field(default=1.0, ge=0, le=600)


class Action(_Record):
    """One Terminus-2 turn as the model writes it."""

    analysis: str = ""
    plan: str = ""
    commands: list[Command] = Field(default_factory=list)
    task_complete: bool = False


def render_action(action: Action) -> str:
    """Canonical JSON of one turn (the protocol's reply): fixed key order, compact separators,
    UTF-8 kept. Training targets, the oracle and synthetic chats all write turns with it."""
    obj = {
        "analysis": action.analysis,
        "plan": action.plan,
        "commands": [{"keystrokes": c.keystrokes, "duration": c.duration} for c in action.commands],
        "task_complete": action.task_complete,
    }
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


class CommandResult(_Record):
    keystrokes: str
    output: str
    exit_code: int | None
    timed_out: bool = False
    truncated: bool = False


def observation_message(results: Iterable[CommandResult]) -> str:
    """The protocol's next user message: each command as ``$ cmd`` followed by its output.

    A non-zero exit status and a timeout are noted in one short bracket line; truncation
    already shows as a marker inside the output.
    """
    lines: list[str] = []
    for r in results:
        lines.append("$ " + r.keystrokes.rstrip("\n"))
        out = r.output.rstrip("\n")
        if out:
            lines.append(out)
        if r.timed_out:
            lines.append("[timed out]")
        elif r.exit_code not in (0, None):
            lines.append(f"[exit {r.exit_code}]")
    return "\n".join(lines) if lines else "(no commands were run)"


class Turn(_Record):
    action: Action | None = Field(description="None when the model output did not parse")
    raw: str = Field(description="the exact assistant text")
    parse_error: str | None = None
    results: list[CommandResult] = Field(default_factory=list)
    observation: str = Field(description="what the agent is shown next")


class Message(_Record):
    role: Literal["system", "user", "assistant"]
    content: str


class Lineage(_Record):
    """Content digests only: a record's bytes must depend on code, params and seeds alone.

    No git rev, host, clock or absolute path belongs here (a fresh clone must reproduce the
    committed dvc.lock); the commit a stage ran at is an MLflow tag (tracking/).
    """

    task_digest: str
    seeds_digest: str = ""

    @model_validator(mode="before")
    @classmethod
    def _drop_legacy_git_rev(cls, data: object) -> object:
        # Records written before issue 20 carry git_rev: still readable (e.g. a report's samples
        # at an old revision), never written again.
        if isinstance(data, dict) and "git_rev" in data:
            data = {k: v for k, v in data.items() if k != "git_rev"}
        return data


class Trajectory(_Record):
    """A Terminal-Corpus record: one agent's attempt at one task, verified."""

    schema_version: str = SCHEMA_VERSION
    id: str
    task_id: str
    family: str
    source: str
    domain: str
    skills: list[str]
    difficulty: str
    agent: str
    model: str
    instruction: str
    turns: list[Turn]
    messages: list[Message]
    reward: float = Field(ge=0.0, le=1.0)
    passed: bool
    n_turns: int = Field(ge=0)
    n_commands: int = Field(ge=0)
    verifier_output: str = ""
    sandbox: str
    slots: dict[str, str] = Field(default_factory=dict)
    lineage: Lineage
    # skill composition: 0-based indexes into skills of the steps whose command depended on an
    # earlier observation (copied from Task.obs_dependent_steps)
    obs_dependent_steps: list[int] = Field(default_factory=list)


M = TypeVar("M", bound=BaseModel)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def format_validation_error(err: ValidationError) -> str:
    first = err.errors()[0]
    loc = ".".join(str(x) for x in first["loc"]) or "<record>"
    return f"field '{loc}': {first['msg'].removeprefix('Value error, ')}"


def read_jsonl(path: str | Path, model: type[M]) -> list[M]:
    return list(iter_jsonl(path, model))


def json_lines(path: str | Path, *, name: str | Path | None = None) -> Iterator[tuple[str, Any]]:
    """``(where, value)`` for every non-blank line of a JSONL file, ``where`` being ``name:line``
    (``name`` defaults to ``path``); a DataError there for a missing file, bad UTF-8 or bad JSON."""
    path = Path(path)
    name = path if name is None else name
    if not path.is_file():
        raise DataError("file not found", where=str(name))
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            where = f"{name}:{lineno}"
            try:
                yield where, json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError as e:
                raise DataError(f"not UTF-8 ({e.reason} at byte {e.start})", where=where)
            except json.JSONDecodeError as e:
                raise DataError(f"invalid JSON ({e.msg}, column {e.colno})", where=where)


def iter_jsonl(path: str | Path, model: type[M]) -> Iterator[M]:
    for where, data in json_lines(path):
        try:
            yield model.model_validate(data)
        except ValidationError as e:
            raise DataError(format_validation_error(e), where=where)


def write_jsonl(path: str | Path, records: Iterable[BaseModel | dict[str, Any]]) -> int:
    """Write records atomically (temp file + rename): a crash never leaves half a file.

    A pydantic record is written as its model dump; a plain dict (a report's row) with sorted
    keys."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    n = 0
    with tmp.open("w", encoding="utf-8", newline="\n") as fh:
        for rec in records:
            fh.write(rec.model_dump_json() if isinstance(rec, BaseModel)
                     else json.dumps(rec, sort_keys=True, ensure_ascii=False))
            fh.write("\n")
            n += 1
    tmp.replace(path)
    return n


def write_json(path: str | Path, data: object) -> None:
    """Write a metrics/JSON file deterministically (sorted keys, trailing newline)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def read_json(path: str | Path, *, missing: str = "file not found") -> Any:
    """The JSON value in ``path``; a DataError naming the file when it is missing (``missing``) or
    not valid JSON."""
    path = Path(path)
    if not path.exists():
        raise DataError(missing, where=str(path))
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DataError(f"not valid JSON ({e})", where=str(path))
