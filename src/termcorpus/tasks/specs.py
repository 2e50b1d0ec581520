"""Template building blocks shared by seeds (tasks/seeds.py) and custom skills (tasks/skills.py).

``SlotSpec`` (a value drawn per variant) and ``FileSpec`` (an input file) are the pieces of a seed
template; ``SkillTemplate`` is the same template without an id, domain or skill list, carried by a
skill file's ``template:`` key so a team can add a task family in YAML alone (see docs/SKILLS.md).
They live in their own module because the skill schema needs them and seeds.py imports skills.py.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

SLOT_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


_KINDS = ("pool", "int_range", "choice", "template", "add", "cases")


class SlotSpec(_Model):
    """One named value drawn per variant; exactly one of pool / int / choice / template / add /
    cases (a case sets ``<slot>_<key>`` for each of its keys, and ``<slot>`` to its index)."""

    pool: str | None = None
    int_range: list[int] | None = Field(default=None, alias="int", min_length=2, max_length=2)
    choice: list[str] | None = Field(default=None, min_length=1)
    template: str | None = None
    add: tuple[str, int] | None = None
    cases: list[dict[str, str]] | None = Field(default=None, min_length=1)
    k: int = Field(default=1, ge=1, le=50)
    sep: str = ","

    @field_validator("choice", "cases", mode="before")
    @classmethod
    def _scalars_to_str(cls, v: object) -> object:
        # YAML reads `600` or `0.621` as numbers; slot values are always strings
        def conv(x: object) -> object:
            if isinstance(x, bool):
                return str(x).lower()
            return str(x) if isinstance(x, (int, float)) else x

        if isinstance(v, list):
            return [{k: conv(x) for k, x in c.items()} if isinstance(c, dict) else conv(c) for c in v]
        return v

    @model_validator(mode="after")
    def _one_kind(self) -> "SlotSpec":
        kinds = [n for n in _KINDS if getattr(self, n) is not None]
        if len(kinds) != 1:
            raise ValueError("a slot needs exactly one of: pool, int, choice, template, add, cases")
        if self.cases is not None:
            keys = list(self.cases[0])
            if not keys or any(list(c) != keys for c in self.cases):
                raise ValueError("every case needs the same keys, in the same order")
            for key in keys:
                if not SLOT_NAME_RE.match(key):
                    raise ValueError(f"case key {key!r} must be snake_case")
        if self.int_range is not None and self.int_range[0] > self.int_range[1]:
            raise ValueError(f"int range [{self.int_range[0]}, {self.int_range[1]}] is empty")
        if self.k > 1 and self.pool is None and self.int_range is None:
            raise ValueError("k > 1 is only allowed with pool or int slots")
        if self.int_range is not None and self.k > self.int_range[1] - self.int_range[0] + 1:
            raise ValueError(f"k={self.k} distinct integers do not fit in {self.int_range}")
        return self

    @property
    def kind(self) -> str:
        for n in _KINDS:
            if getattr(self, n) is not None:
                return "int" if n == "int_range" else n
        raise AssertionError("unreachable: validated")


class FileSpec(_Model):
    """One input file (or, for multi-file generators, a directory of them)."""

    path: str = Field(min_length=1)
    text: str | None = None
    gen: str | None = None
    args: dict[str, str] = Field(default_factory=dict)

    @field_validator("args", mode="before")
    @classmethod
    def _scalars_to_str(cls, v: object) -> object:
        # YAML reads `rows: 10` as an int; generator arguments are templates, i.e. strings
        if isinstance(v, dict):
            return {k: (str(x).lower() if isinstance(x, bool) else str(x)) if isinstance(x, (int, float, bool)) else x
                    for k, x in v.items()}
        return v

    @model_validator(mode="after")
    def _text_or_gen(self) -> "FileSpec":
        if (self.text is None) == (self.gen is None):
            raise ValueError("a file needs exactly one of: text, gen")
        if self.text is not None and self.args:
            raise ValueError("args are only allowed with gen")
        return self


def check_slot_names(slots: dict[str, SlotSpec]) -> dict[str, SlotSpec]:
    """Slot names are snake_case and never start with '_' (reserved for generated values)."""
    for name in slots:
        if not SLOT_NAME_RE.match(name):
            raise ValueError(f"slot name {name!r} must be snake_case and not start with '_'")
    return slots


def one_line_commands(commands: list[str]) -> list[str]:
    """Each solution command is one non-empty line (one agent turn); surrounding space is dropped."""
    for c in commands:
        if not c.strip() or "\n" in c.strip():
            raise ValueError("each solution command must be one non-empty line")
    return [c.strip() for c in commands]


# The slots and the solution of a seed or a skill template, checked by the functions above.
SlotMap = Annotated[dict[str, SlotSpec], AfterValidator(check_slot_names)]
Solution = Annotated[list[str], Field(min_length=1, max_length=4), AfterValidator(one_line_commands)]


class SkillTemplate(_Model):
    """A skill's own mini seed: the fields of a seed (tasks/seeds.py) less id, domain and skills,
    which come from the skill. Tasks made from it form the family ``custom-<skill id>``."""

    difficulty: Literal["easy", "medium", "hard"] | None = None
    timeout_sec: float | None = Field(default=None, gt=0, le=3600)
    slots: SlotMap = Field(default_factory=dict)
    instruction: str = Field(min_length=1)
    files: list[FileSpec] = Field(default_factory=list)
    solution: Solution
    test: str = Field(min_length=1)
