"""The skill taxonomy: primitive terminal skills, grouped by domain, in ``data/skills/*.yaml``.

Schema of a skill file (one file per domain is the convention, any number of files works)::

    domain: data_processing          # default domain of the skills below (one of records.DOMAINS)
    skills:
      - id: text_filtering           # snake_case, unique across all skill files
        description: Keep or drop the lines of a text file that match a fixed string.
        domain: data_processing      # optional, overrides the file's domain
        block:                       # optional: a building block for skill-based composition
          op: keep_matching          # a step of termcorpus.generate.compose.OPS
          instruction: keep only the lines containing '{{word}}'
          command: grep '{{word}}' {{src}} > {{dst}}

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

A ``block`` makes the skill usable by the skill composer: ``op`` names a reference step
implemented in Python (it picks its own arguments from the data it receives, e.g. a ``word``
present in the current lines, and computes the expected output so the verifier can embed it).
``instruction`` is the phrase describing the step and ``command`` the shell command solving it;
both are templates (``{{name}}``) over the op's arguments plus ``src`` (the file the step reads)
and ``dst`` (the file it writes). Several skills may share an op with different wording.

The seed stage writes the normalized taxonomy (sorted by id) to ``data/taxonomy.json``.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from termcorpus.errors import DataError
from termcorpus.records import DOMAINS, SCHEMA_VERSION
from termcorpus.tasks.specs import SkillTemplate
from termcorpus.tasks.yamlio import load_yaml, node_line, validate_file

ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_domain(v: str | None) -> str | None:
    if v is not None and v not in DOMAINS:
        raise ValueError(f"unknown domain {v!r}; expected one of {', '.join(DOMAINS)}")
    return v


class SkillBlock(_Model):
    """A composable step: a reference op plus the words and command that express it."""

    op: str = Field(min_length=1)
    instruction: str = Field(min_length=1)
    command: str = Field(min_length=1)


class Skill(_Model):
    id: str
    domain: str
    description: str = Field(min_length=1)
    block: SkillBlock | None = None
    template: SkillTemplate | None = None

    @field_validator("id")
    @classmethod
    def _snake(cls, v: str) -> str:
        if not ID_RE.match(v):
            raise ValueError(f"skill id {v!r} must be snake_case (a-z, 0-9, _)")
        return v

    @field_validator("domain")
    @classmethod
    def _known_domain(cls, v: str) -> str:
        return _check_domain(v)  # type: ignore[return-value]


class _FileSkill(Skill):
    domain: str | None = None  # type: ignore[assignment]


class SkillFile(_Model):
    domain: str | None = None
    skills: list[_FileSkill] = Field(min_length=1)

    @field_validator("domain")
    @classmethod
    def _known_domain(cls, v: str | None) -> str | None:
        return _check_domain(v)


class Taxonomy(_Model):
    """All skills, sorted by id; what ``data/taxonomy.json`` holds."""

    schema_version: str = SCHEMA_VERSION
    domains: list[str] = Field(default_factory=lambda: list(DOMAINS))
    skills: list[Skill]

    def by_id(self) -> dict[str, Skill]:
        return {s.id: s for s in self.skills}


def _check_block(block: SkillBlock, where: str) -> None:
    # imported here: the op registry lives with the composer (generate/), the schema here
    from termcorpus.generate.compose import OPS
    from termcorpus.generate.template import refs

    if block.op not in OPS:
        raise DataError(f"field 'block.op': unknown op {block.op!r}; known: {', '.join(sorted(OPS))}", where=where)
    known = set(OPS[block.op].args) | {"src", "dst"}
    for field in ("instruction", "command"):
        for name in refs(getattr(block, field)):
            if name not in known:
                raise DataError(
                    f"field 'block.{field}': unknown name {{{{{name}}}}}; op {block.op} provides {', '.join(sorted(known))}",
                    where=where,
                )


def load_skill_file(path: Path) -> list[tuple[Skill, str]]:
    """The file's skills, each with its ``file:line``."""
    data, root = load_yaml(path)
    sf = validate_file(path, data, root, SkillFile)
    out = []
    for i, s in enumerate(sf.skills):
        where = f"{path}:{node_line(root, ('skills', i, 'id'))}"
        domain = s.domain or sf.domain
        if domain is None:
            raise DataError(f"skill '{s.id}': field 'domain' is missing (set it on the skill or the file)", where=where)
        if s.block is not None:
            _check_block(s.block, f"{path}:{node_line(root, ('skills', i, 'block'))}")
        skill = Skill(id=s.id, domain=domain, description=s.description, block=s.block, template=s.template)
        if skill.template is not None:
            _check_template(skill, path, root, i)
        out.append((skill, where))
    return out


def _check_template(skill: Skill, path: Path, root: object, index: int) -> None:
    # imported here: seeds.py imports this module; the seed checks (pools, generators, slot
    # references, a dry-run render) apply to a template unchanged
    from termcorpus.tasks.seeds import check_skill_template

    try:
        check_skill_template(skill)
    except (ValueError, DataError) as e:
        msg = str(e)
        m = re.match(r"field '([^']+)'(.*)", msg, re.S)
        if m:
            parts = tuple(int(x) if x.isdigit() else x for x in m.group(1).split("."))
            msg = f"field 'template.{m.group(1)}'{m.group(2)}"
        else:
            parts = ()
        line = node_line(root, ("skills", index, "template", *parts))  # type: ignore[arg-type]
        raise DataError(f"skill '{skill.id}': {msg}", where=f"{path}:{line}") from None


def yaml_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        raise DataError("directory not found", where=str(directory))
    return sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def load_taxonomy(directory: str | Path, strict: bool = True, skipped: list[str] | None = None) -> Taxonomy:
    """Read every ``*.yaml`` under ``directory``; a bad file raises DataError (or, with
    ``strict=False``, is skipped and its error appended to ``skipped``)."""
    skills: dict[str, tuple[Skill, str]] = {}
    for path in yaml_files(Path(directory)):
        try:
            loaded = load_skill_file(path)
            here: dict[str, str] = {}
            for s, where in loaded:
                first = skills[s.id][1] if s.id in skills else here.get(s.id)
                if first:
                    raise DataError(f"field 'id': skill id '{s.id}' is already defined at {first}", where=where)
                here[s.id] = where
            for s, where in loaded:
                skills[s.id] = (s, where)
        except DataError as e:
            if strict or skipped is None:
                raise
            skipped.append(str(e))
    if not skills:
        raise DataError("no skills found (expected *.yaml files with a 'skills' list)", where=str(directory))
    return Taxonomy(skills=[skills[k][0] for k in sorted(skills)])
