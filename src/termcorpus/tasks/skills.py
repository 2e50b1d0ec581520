"""The skill taxonomy: primitive terminal skills, grouped by domain, in ``data/skills/*.yaml``.

Schema of a skill file (one file per domain is the convention, any number of files works)::

    domain: data_processing          # default domain of the skills below (one of records.DOMAINS)
    skills:
      - id: text_filtering           # snake_case, unique across all skill files
        description: Keep or drop the lines of a text file that match a fixed string.
        domain: data_processing      # optional, overrides the file's domain
        block: text_filtering        # optional: a Python block of termcorpus.generate.blocks

      - id: kube_listing             # a YAML-only block: no Python, closes a chain
        description: List resources with a CLI.
        block:
          consumes: [rows, words]    # artifact kinds it reads (generate/blocks/base.py KINDS)
          instruction: write the first field of every line of {{src}} to {{dst}}
          command: awk '{print $1}' {{src}} > {{dst}}
          check: '[ "$(cat {{dst}})" = "$(cut -d" " -f1 {{src}})" ]'

      - id: line_joining             # a custom skill: its own task template, no Python needed
        description: Join the lines of a file into one line (paste -s).
        template:                    # a seed without id/domain/skills (schema: tasks/seeds.py)
          slots: {f: {pool: stem}, out: {pool: stem}, n: {int: [4, 9]}}
          instruction: Join the lines of {{f}}.txt with commas into one line in {{out}}.txt.
          files: [{path: "{{f}}.txt", gen: lines, args: {n: "{{n}}"}}]
          solution: ["paste -sd, {{f}}.txt > {{out}}.txt"]
          test: |
            [ "$(cat {{out}}.txt)" = "$(paste -sd, {{f}}.txt)" ] || fail "wrong line"

A ``template`` turns the skill into a task family of its own, ``custom-<skill id>`` (task source
``skill``): the generate stage renders ``n_variants`` training and ``n_heldout_variants``
held-out variants of it exactly like a seed, and the seed stage checks it like a seed (known
pools and generators, every name defined, a dry-run render); a mistake stops with
``file:line: skill 'id': field 'template...'``. docs/SKILLS.md has the full guide.

A ``block`` makes the skill usable by the skill composer. A string names a Python block of
:mod:`termcorpus.generate.blocks` (typed: it consumes an artifact kind, produces one, picks its
arguments from the data and models its result so test.sh can check it). A mapping is a
:class:`YamlBlock`: templates over ``{{src}}``/``{{dst}}`` for the phrase, the command and a
bash check of the effect; it can only be a chain's last step. docs/SKILLS.md has the guide.

The seed stage writes the normalized taxonomy (sorted by id) to ``data/taxonomy.json``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from termcorpus.errors import DataError
from termcorpus.records import DOMAINS, SCHEMA_VERSION, Domain
from termcorpus.tasks.specs import SkillTemplate

ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def snake_id(kind: str) -> AfterValidator:
    """The check of a ``kind`` id (seed, skill): snake_case, one clear error otherwise."""
    def check(v: str) -> str:
        if not ID_RE.match(v):
            raise ValueError(f"{kind} id {v!r} must be snake_case (a-z, 0-9, _)")
        return v

    return AfterValidator(check)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class YamlBlock(_Model):
    """A composable step written in YAML only (no Python): it reads the previous step's file and
    can only close a chain, since the composer cannot model what its command writes.

    Every text field is a template over ``{{src}}`` (the file the previous step wrote) and
    ``{{dst}}`` (a fresh file name ending in ``.ext``)."""

    consumes: list[str] = Field(min_length=1, description="artifact kinds the block can read")
    instruction: str = Field(min_length=1, description="the step's phrase in the task text")
    command: str = Field(min_length=1, description="the shell command that does the step")
    check: str = Field(min_length=1, description="a bash condition, true iff the step's effect is right")
    files: dict[str, str] = Field(default_factory=dict, description="extra input files: path -> text")
    ext: str = Field(default="txt", pattern=r"^[a-z0-9]{1,8}$")


class Skill(_Model):
    id: Annotated[str, snake_id("skill")]
    domain: Domain
    description: str = Field(min_length=1)
    block: str | YamlBlock | None = None
    template: SkillTemplate | None = None


class _FileSkill(Skill):
    domain: Domain | None = None  # type: ignore[assignment]


class SkillFile(_Model):
    domain: Domain | None = None
    skills: list[_FileSkill] = Field(min_length=1)


class Taxonomy(_Model):
    """All skills, sorted by id; what ``data/taxonomy.json`` holds."""

    schema_version: str = SCHEMA_VERSION
    domains: list[str] = Field(default_factory=lambda: list(DOMAINS))
    skills: list[Skill]

    def by_id(self) -> dict[str, Skill]:
        return {s.id: s for s in self.skills}


def yaml_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        raise DataError("directory not found", where=str(directory))
    return sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
