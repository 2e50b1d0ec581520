"""Seed tasks: human-written task templates in ``data/seeds/*.yaml``.

Schema of a seed file::

    domain: file_operations            # default domain of the seeds below (records.DOMAINS)
    seeds:
      - id: fo_move_by_ext             # snake_case, unique across all seed files
        skills: [file_moving, globbing]    # ids from the skill taxonomy (data/skills)
        difficulty: easy               # optional: easy | medium | hard (default: by solution length)
        timeout_sec: 30                # optional per-command limit for the task's environment
        weight: 1                      # optional: this many times generate.n_variants training variants
        slots:                         # named values drawn per variant, in this order
          src: {pool: dir}             # one value of a named pool (generate/pools.py)
          dst: {pool: dir}             # pool values are distinct within a variant
          cols: {pool: column, k: 3, sep: ","}   # k distinct values joined by sep
          n: {int: [5, 20]}            # an integer in [lo, hi]; with k: k distinct ones joined
          ext: {choice: [txt, log]}    # one of the listed strings
          out: {template: "{{src}}_list.txt"}    # built from earlier slots
          m: {add: [n, 1]}             # an earlier integer slot plus a constant
          conv:                        # one of several coupled cases; sets conv_from, conv_f
            cases: [{from: km, f: "0.621"}, {from: kg, f: "2.205"}]
        instruction: >-                # what the agent reads; every name the solution needs
          Move every .{{ext}} file from {{src}} into a new directory {{dst}}.
        files:                         # input files, created in the task's working dir /app
          - path: "{{src}}/notes.{{ext}}"
            text: "hello {{dst}}\\n"   # literal content (a template), or:
          - path: "{{src}}"
            gen: tree                  # a named data generator (generate/datagen/) ...
            args: {ext: "{{ext}}", k: "{{n}}"}   # ... and its arguments (templates)
        solution:                      # reference shell commands, one per agent turn (1-4),
          - mkdir -p {{dst}}           # relative to the working directory /app
          - mv {{src}}/*.{{ext}} {{dst}}/
        test: |                        # body of tests/test.sh (bash), run in /app after the agent
          test -d {{dst}} || fail "{{dst}} is missing"

Templates use ``{{name}}`` only (see generate/template.py). The ``test`` body is wrapped by
the generator into a complete ``test.sh``: shebang, the CANARY comment, ``cd "${APP_DIR:-/app}"``,
a ``fail MESSAGE`` function (prints, writes reward 0, exits 1) and, after the body, reward 1.
The body may also use ``{{_orig_b64}}``: base64 of a JSON object ``{path: original text}`` of
all input files, for checks against the state before the agent ran. A null agent must fail the
test and the reference solution must pass it (tests/generate checks every seed).

The seed stage validates every file (types, known skills, pools, generators, that every
template names a defined slot, and a dry-run render of one variant), then writes the seeds
sorted by id to ``data/seeds.jsonl``.

A skill file may carry the same template under a skill's ``template:`` key (a custom skill,
docs/SKILLS.md); :func:`skill_seed` turns it into a Seed and ``check_skill_template`` runs
these checks on it (both in generate/catalog.py: the checks need the generator's vocabulary).
"""

from __future__ import annotations

import re
from typing import Annotated, Callable, Literal, Sequence

from pydantic import Field

from termcorpus.records import DOMAINS, SCHEMA_VERSION, Domain
from termcorpus.tasks.skills import Skill, snake_id
from termcorpus.tasks.specs import (  # noqa: F401 (SLOT_NAME_RE, SkillTemplate and the checks are re-exported)
    SLOT_NAME_RE, FileSpec, SkillTemplate, SlotMap, SlotSpec, Solution, _Model, check_slot_names, one_line_commands,
)

BUILTIN_TEST_NAMES = frozenset({"_orig_b64"})
CUSTOM_FAMILY_PREFIX = "custom-"


class Seed(_Model):
    """A task template; what ``data/seeds.jsonl`` holds, one per line."""

    schema_version: str = SCHEMA_VERSION
    id: Annotated[str, snake_id("seed")]
    domain: Domain
    skills: list[str] = Field(min_length=1)
    difficulty: Literal["easy", "medium", "hard"] | None = None
    timeout_sec: float | None = Field(default=None, gt=0, le=3600)
    weight: int = Field(default=1, ge=1, le=16, description="training variants = weight x generate.n_variants")
    slots: SlotMap = Field(default_factory=dict)
    instruction: str = Field(min_length=1)
    files: list[FileSpec] = Field(default_factory=list)
    solution: Solution
    test: str = Field(min_length=1)
    origin: str = Field(default="", description="file:line the seed was read from")

    def effective_difficulty(self) -> str:
        if self.difficulty:
            return self.difficulty
        return "easy" if len(self.solution) == 1 else "medium" if len(self.solution) <= 3 else "hard"


class _FileSeed(Seed):
    domain: Domain | None = None  # type: ignore[assignment]


class SeedFile(_Model):
    domain: Domain | None = None
    seeds: list[_FileSeed] = Field(min_length=1)


def custom_family(skill_id: str) -> str:
    """The task family of a custom skill's template (``custom-<skill id>``)."""
    return CUSTOM_FAMILY_PREFIX + skill_id


def skill_seed(skill: Skill) -> Seed:
    """The seed that a skill's ``template`` stands for: id, domain and skills come from the skill."""
    t = skill.template
    if t is None:
        raise ValueError(f"skill {skill.id!r} has no template")
    return Seed(id=skill.id, domain=skill.domain, skills=[skill.id], difficulty=t.difficulty,
                timeout_sec=t.timeout_sec, slots=t.slots, instruction=t.instruction, files=t.files,
                solution=t.solution, test=t.test, origin=f"skill {skill.id}")


def round_robin_by_domain(seeds: Sequence["Seed"], k: int, key: Callable[["Seed"], object]) -> list["Seed"]:
    """``k`` seeds taken round-robin over ``records.DOMAINS`` (each domain's seeds in ``key``
    order), so a small selection still covers every domain; returned sorted by id. ``k`` must
    not exceed ``len(seeds)``."""
    queues = {d: sorted((s for s in seeds if s.domain == d), key=key) for d in DOMAINS}
    out: list[Seed] = []
    while len(out) < k:
        for d in DOMAINS:
            if queues[d] and len(out) < k:
                out.append(queues[d].pop(0))
    return sorted(out, key=lambda s: s.id)
