"""LLM task synthesis: ask an OpenAI-compatible model to write new tasks, keep only valid ones.

Each request shows the model one *source* (a seed, with a concrete variant as the example, or a
combination of skills) and asks for a new task as one JSON object::

    {"instruction": str, "files": {path: text}, "solution": [command, ...], "test_sh": str}

The answer is parsed with light repair (code fences and chatter around the object, trailing
commas, raw newlines inside strings, ``/app/`` prefixes on file paths), turned into a
:class:`~termcorpus.records.Task` (``source="llm"``, ``family="llm-<source id>"``; ``test_sh`` is
wrapped like a seed's test: canary, ``cd /app``, a ``fail`` helper, reward file). Every answer
that is not kept is counted under one reason: ``unparseable``, ``bad_schema``, ``too_large``,
``invalid_task``, ``duplicate``. Kept tasks join the training pool and, like every task, pass
the validity gate of the execute stage (:mod:`termcorpus.execute.gate`) in the configured
sandbox before any trajectory of theirs is kept: the oracle (the task's own solution) must score
1, the null agent and the shortcut agents must fail.

Model output is untrusted: nothing here runs it; it only ever runs inside the sandbox.

Determinism: request ``k`` uses source ``k mod len(sources)`` and a topic drawn from
``(seed, k)``, so the prompts are fixed by the params; with temperature 0 and a deterministic
server the kept tasks are the same bytes on every run.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from dataclasses import dataclass
from typing import Any, Protocol, Sequence, Union

from pydantic import ValidationError
from tqdm import tqdm

from termcorpus.errors import ConfigError
from termcorpus.generate.mutate import TEST_FOOTER, TEST_HEADER, render_variant, stable_seed, variant_seed, wrap_test
from termcorpus.jsonobj import first_json_object
from termcorpus.records import Environment, GeneratorInfo, Message, Task, format_validation_error
from termcorpus.tasks.seeds import Seed
from termcorpus.tasks.skills import Skill

GENERATOR_NAME = "llm_synthesis"
GENERATOR_VERSION = "1.0"

MAX_COMMANDS = 6
MAX_FILES = 20
MAX_FILE_CHARS = 20_000  # all files of one task together
MAX_TEXT_CHARS = 4_000  # instruction, one command, the test
EXAMPLE_FILE_LINES = 8  # an example's input files are cut to this many lines (prompt size)

# Reasons counted here; the execute stage's gate counts its own (execute.gate.REASONS).
DROP_REASONS = ("unparseable", "bad_schema", "invalid_task", "too_large", "duplicate")

# Subjects a request may be steered towards, so that requests over the same source differ even
# at temperature 0.
TOPICS = (
    "a small shop's inventory", "web server access logs", "student grades", "weather station readings",
    "a book catalog", "build logs of a C project", "user accounts", "sales by region",
    "configuration files", "a music playlist", "error reports", "bank transactions",
    "a recipe collection", "sensor measurements", "package version lists", "a to-do list",
)

SYSTEM_PROMPT = """\
You write practice tasks for a command-line agent. Reply with one JSON object and nothing else:
{"instruction": "...", "files": {"relative/path": "file text"}, "solution": ["command", ...], "test_sh": "..."}
- instruction: what to do; name every file, directory and value the solution needs.
- files: small text input files, created in the working directory /app before the agent starts.
- solution: 1 to 4 shell commands, run in order in /app, that solve the task.
- test_sh: bash run in /app afterwards. Check the result and call fail "reason" on anything wrong, \
e.g. test -f out.txt || fail "out.txt is missing". It must fail when nothing was done.
Standard Linux tools and python3 are available; there is no network."""

SynthesisInput = Union[Seed, Sequence[Skill]]


@dataclass(frozen=True)
class Source:
    """What one request is about: a seed (with an example variant) or a skill combination."""

    id: str
    domain: str
    skills: tuple[str, ...]
    skill_lines: tuple[str, ...] = ()  # "id: description" for skill combinations
    example: dict | None = None
    timeout_sec: float | None = None


def as_source(item: SynthesisInput) -> Source:
    """A seed or a non-empty sequence of skills as a :class:`Source`."""
    if isinstance(item, Source):
        return item
    if isinstance(item, Seed):
        return Source(id=item.id, domain=item.domain, skills=tuple(item.skills), example=_example(item),
                      timeout_sec=item.timeout_sec)
    skills = list(item)
    if not skills or not all(isinstance(s, Skill) for s in skills):
        raise ConfigError("LLM synthesis sources must be seeds or non-empty lists of skills")
    return Source(
        id="+".join(s.id for s in skills),
        domain=skills[0].domain,
        skills=tuple(s.id for s in skills),
        skill_lines=tuple(f"{s.id}: {s.description.strip()}" for s in skills),
    )


def _test_body(test_sh: str) -> str:
    """A wrapped seed test without the shared header and footer (what the model should write)."""
    body = test_sh
    if body.startswith(TEST_HEADER):
        body = body[len(TEST_HEADER):]
    if body.endswith(TEST_FOOTER):
        body = body[: -len(TEST_FOOTER)]
    return body.strip("\n")


def _example(seed: Seed) -> dict | None:
    """Variant 0 of the seed as the answer format, input files cut short to keep the prompt small."""
    vs = variant_seed(0, seed.id, 0)
    try:
        task = render_variant(seed, random.Random(vs), variant_id=f"{seed.id}-example", gen_seed=vs)
    except ValueError:
        return None  # a seed that does not render shows its skills only

    def cut(text: str) -> str:
        lines = text.splitlines(keepends=True)
        return text if len(lines) <= EXAMPLE_FILE_LINES else "".join(lines[:EXAMPLE_FILE_LINES]) + "...\n"

    files = {p: cut(t) for p, t in sorted(task.files.items())[:3]}
    return {"instruction": task.instruction, "files": files, "solution": list(task.solution),
            "test_sh": _test_body(task.tests["test.sh"])}


def topic_for(seed: int, index: int) -> str:
    return TOPICS[random.Random(stable_seed(seed, "llm-topic", index)).randrange(len(TOPICS))]


def synthesis_messages(source: SynthesisInput, *, index: int, seed: int) -> list[Message]:
    """The chat of request ``index``: fixed system prompt + this source, topic and number."""
    src = as_source(source)
    lines = [f"Domain: {src.domain}"]
    if src.skill_lines:
        lines.append("Skills, all needed in one task:")
        lines.extend(f"- {s}" for s in src.skill_lines)
    else:
        lines.append(f"Skills: {', '.join(src.skills)}")
    lines.append(f"Topic: {topic_for(seed, index)}")
    if src.example is not None:
        lines.append("An example task of this kind:")
        lines.append(json.dumps(src.example, ensure_ascii=False))
        lines.append(f"Write task #{index}: a new task about the topic that practices the same skills, "
                     "different from the example.")
    else:
        lines.append(f"Write task #{index}: a new task about the topic that needs these skills.")
    return [Message(role="system", content=SYSTEM_PROMPT), Message(role="user", content="\n".join(lines))]


# -- parsing ------------------------------------------------------------------------------------
def parse_task_answer(text: str) -> dict | None:
    """The first JSON object in a model answer, after repair; ``None`` when there is none.

    Each ``{`` is tried in order, as written and then without trailing commas, so an outer
    object with a slip wins over a well-formed object nested inside it.
    """
    return first_json_object(text, lenient=True)[0]


class Rejected(ValueError):
    """An answer that cannot become a task; ``reason`` is the drop counter's key."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def _str_field(obj: dict, key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        raise Rejected("bad_schema", f"'{key}' must be a non-empty string")
    if len(value) > MAX_TEXT_CHARS:
        raise Rejected("too_large", f"'{key}' has {len(value)} characters")
    return value.strip()


def _files_field(obj: dict) -> dict[str, str]:
    files = obj.get("files", {})
    if files is None:
        files = {}
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        raise Rejected("bad_schema", "'files' must map paths to text")
    if len(files) > MAX_FILES or sum(len(v) for v in files.values()) > MAX_FILE_CHARS:
        raise Rejected("too_large", f"{len(files)} files, {sum(len(v) for v in files.values())} characters")
    out = {}
    for path, text in files.items():
        # Models often write the absolute path they were told about; task files are relative to /app.
        rel = path[len("/app/"):] if path.startswith("/app/") else path
        out[rel.strip()] = text
    return out


def _solution_field(obj: dict) -> list[str]:
    sol = obj.get("solution")
    if isinstance(sol, str):
        sol = [line for line in sol.splitlines() if line.strip()]
    if not isinstance(sol, list) or not sol or not all(isinstance(c, str) and c.strip() for c in sol):
        raise Rejected("bad_schema", "'solution' must be a non-empty list of commands")
    if len(sol) > MAX_COMMANDS or any(len(c) > MAX_TEXT_CHARS for c in sol):
        raise Rejected("too_large", f"{len(sol)} solution commands")
    return [c.strip() for c in sol]


def _difficulty(n_commands: int) -> str:
    return "easy" if n_commands <= 1 else "medium" if n_commands <= 3 else "hard"


def build_task(answer: dict, source: SynthesisInput, *, index: int, seed: int) -> Task:
    """A Task from a parsed answer; raises :class:`Rejected` (bad_schema / too_large / invalid_task)."""
    src = as_source(source)
    instruction = _str_field(answer, "instruction")
    test_body = _str_field(answer, "test_sh")
    files = _files_field(answer)
    solution = _solution_field(answer)
    env = Environment(timeout_sec=src.timeout_sec) if src.timeout_sec else Environment()
    try:
        return Task(
            id=f"llm-{src.id}-{index:04d}",
            family=f"llm-{src.id}",
            source="llm",
            domain=src.domain,
            skills=list(src.skills),
            difficulty=_difficulty(len(solution)),
            instruction=instruction,
            files=files,
            solution=solution,
            tests={"test.sh": wrap_test(test_body)},
            environment=env,
            generator=GeneratorInfo(name=GENERATOR_NAME, version=GENERATOR_VERSION,
                                    seed=stable_seed(seed, "llm", index)),
        )
    except ValidationError as e:
        raise Rejected("invalid_task", format_validation_error(e))


def _key(task: Task) -> str:
    h = hashlib.sha256(task.instruction.encode("utf-8"))
    h.update(b"\0")
    h.update(task.tests["test.sh"].encode("utf-8"))
    return h.hexdigest()


def candidate_task(answer: str, source: SynthesisInput, *, index: int, seed: int) -> tuple[Task | None, str]:
    """The task an answer describes, or ``(None, reason)`` (``unparseable`` / ``bad_schema`` /
    ``too_large`` / ``invalid_task``); the gate has not run yet."""
    obj = parse_task_answer(answer)
    if obj is None:
        return None, "unparseable"
    try:
        return build_task(obj, source, index=index, seed=seed), ""
    except Rejected as d:
        return None, d.reason


class ChatClient(Protocol):
    """What synthesis needs of an endpoint client: one chat completion with a ``.content``
    (``agents.openai_agent.OpenAIChatAgent``; the caller builds it, so generate imports no agent)."""

    def complete(self, messages: list[Message]) -> Any: ...


def synthesize_tasks(
    sources: Sequence[SynthesisInput],
    *,
    client: ChatClient | None,
    n: int,
    seed: int,
    existing: Sequence[Task] = (),
) -> tuple[list[Task], Counter]:
    """Request ``n`` tasks (request ``k`` about ``sources[k % len(sources)]``); keep the valid ones.

    Returns the kept tasks in request order and a Counter of drop reasons (``DROP_REASONS``);
    the validity gate runs later, in the execute stage. ``existing`` tasks count for the
    duplicate check. ``client`` asks the endpoint (read its ``usage`` afterwards); it may be
    None only when ``n`` is 0. An unreachable endpoint raises ``EnvironmentProblem``: that is
    not a drop.
    """
    if n < 0:
        raise ConfigError(f"'generate.llm_tasks' must be >= 0, got {n}")
    drops: Counter = Counter()
    if n == 0:
        return [], drops
    if not sources:
        raise ConfigError("LLM synthesis has no sources (no seeds or skills selected)")
    if client is None:
        raise ConfigError("LLM synthesis needs an endpoint client", where="params.yaml:generate.llm_base_url")
    srcs = [as_source(s) for s in sources]
    agent = client
    seen = {_key(t) for t in existing}
    candidates: list[Task] = []
    for index in tqdm(range(n), desc="llm-synthesis", unit="request", disable=None):
        src = srcs[index % len(srcs)]
        answer = agent.complete(synthesis_messages(src, index=index, seed=seed)).content
        task, reason = candidate_task(answer, src, index=index, seed=seed)
        if task is not None and _key(task) in seen:
            task, reason = None, "duplicate"
        if task is None:
            drops[reason] += 1
            continue
        seen.add(_key(task))
        candidates.append(task)
    return candidates, drops


__all__ = [
    "DROP_REASONS", "GENERATOR_NAME", "GENERATOR_VERSION", "ChatClient", "Rejected", "SYSTEM_PROMPT", "Source", "as_source",
    "build_task", "candidate_task", "parse_task_answer", "synthesis_messages", "synthesize_tasks", "topic_for",
]
