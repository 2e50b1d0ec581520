"""Skill-based composition: chain 3-5 skill blocks into one multi-step task.

Each composable skill in the taxonomy has a ``block`` naming an op below. The composer draws a
chain of distinct skills, generates one input file of lines ``word word number``, and runs the
ops' Python reference implementations step by step: step *i* reads the file step *i-1* wrote.
Ops choose their own arguments from the data they receive (a ``word`` that occurs in some but
not all lines, a line count smaller than the file), so every step does real work; a chain that
would produce an empty file or a step that does not apply (a numeric op after the numbers were
cut away) is redrawn. The expected content of every step's output is embedded in ``test.sh``.

The reference implementations follow GNU coreutils / mawk in the C locale (byte order sorts,
substring grep, ``wc -l`` of a newline-terminated file).
"""

from __future__ import annotations

import base64
import json
import random
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Sequence

from termcorpus.generate.mutate import stable_seed, wrap_test
from termcorpus.generate.pools import ADJECTIVES, NOUNS, draw
from termcorpus.generate.template import render
from termcorpus.records import GeneratorInfo, Task
from termcorpus.tasks.skills import Skill

GENERATOR_NAME = "skill_composition"
GENERATOR_VERSION = "1.0"

Lines = list[str]


class NotApplicable(Exception):
    """The op cannot run meaningfully on this data; the composer redraws."""


def _tokens(lines: Lines) -> list[str]:
    return sorted({w for line in lines for w in line.split() if w.isalpha()})


def _partial_word(rng: random.Random, lines: Lines, allow_all: bool = False) -> str:
    """A word (as a substring, like grep) found in some lines but, unless allowed, not all."""
    cands = []
    for w in _tokens(lines):
        hits = sum(w in line for line in lines)
        if hits and (allow_all or hits < len(lines)):
            cands.append(w)
    if not cands:
        raise NotApplicable("no word splits the lines")
    return rng.choice(cands)


def _last_numbers(lines: Lines) -> list[int]:
    try:
        return [int(line.split()[-1]) for line in lines]
    except (ValueError, IndexError):
        raise NotApplicable("lines do not end in a number") from None


def _sort_numeric_key(line: str) -> tuple[int, str]:
    f = line.split()
    if len(f) != 3 or not f[2].isdigit():
        raise NotApplicable("third field is not a number")
    return int(f[2]), line


@dataclass(frozen=True)
class Op:
    """A reference step: arguments drawn from the data, then applied to the lines."""

    name: str
    args: tuple[str, ...]
    terminal: bool
    draw_args: Callable[[random.Random, Lines], dict[str, str]]
    apply: Callable[[Lines, dict[str, str]], Lines]


def _no_args(rng: random.Random, lines: Lines) -> dict[str, str]:
    return {}


def _count(rng: random.Random, lines: Lines) -> dict[str, str]:
    if len(lines) < 3:
        raise NotApplicable("too few lines to cut")
    return {"n": str(rng.randint(2, len(lines) - 1))}


def _replace(rng: random.Random, lines: Lines) -> dict[str, str]:
    old = _partial_word(rng, lines, allow_all=True)
    text = "\n".join(lines)
    new = rng.choice([a for a in ADJECTIVES if a not in text])
    return {"old": old, "new": new}


def _changes(op: Callable[[Lines], Lines]) -> Callable[[Lines, dict[str, str]], Lines]:
    def apply(lines: Lines, args: dict[str, str]) -> Lines:
        out = op(lines)
        if out == lines:
            raise NotApplicable("step would not change the file")
        return out

    return apply


OPS: dict[str, Op] = {
    op.name: op
    for op in (
        Op("keep_matching", ("word",), False, lambda r, ls: {"word": _partial_word(r, ls)},
           lambda ls, a: [x for x in ls if a["word"] in x]),
        Op("drop_matching", ("word",), False, lambda r, ls: {"word": _partial_word(r, ls)},
           lambda ls, a: [x for x in ls if a["word"] not in x]),
        Op("sort_lines", (), False, _no_args, _changes(sorted)),
        Op("sort_unique", (), False, _no_args, _changes(lambda ls: sorted(set(ls)))),
        Op("sort_numeric", (), False, _no_args, _changes(lambda ls: sorted(ls, key=_sort_numeric_key))),
        Op("replace_word", ("old", "new"), False, _replace, lambda ls, a: [x.replace(a["old"], a["new"]) for x in ls]),
        Op("upper_case", (), False, _no_args, _changes(lambda ls: [x.upper() for x in ls])),
        Op("first_field", (), False, _no_args, _changes(lambda ls: [x.split(" ")[0] for x in ls])),
        Op("head_lines", ("n",), False, _count, lambda ls, a: ls[: int(a["n"])]),
        Op("tail_lines", ("n",), False, _count, lambda ls, a: ls[-int(a["n"]):]),
        Op("reverse_lines", (), False, _no_args, _changes(lambda ls: ls[::-1])),
        Op("number_lines", (), False, _no_args, lambda ls, a: [f"{i}: {x}" for i, x in enumerate(ls, 1)]),
        Op("count_lines", (), True, _no_args, lambda ls, a: [str(len(ls))]),
        Op("count_matching", ("word",), True, lambda r, ls: {"word": _partial_word(r, ls, allow_all=True)},
           lambda ls, a: [str(sum(a["word"] in x for x in ls))]),
        Op("sum_field", (), True, _no_args, lambda ls, a: [str(sum(_last_numbers(ls)))]),
        Op("max_field", (), True, _no_args, lambda ls, a: [str(max(_last_numbers(ls)))]),
    )
}


def composable(skills: Sequence[Skill]) -> list[Skill]:
    """The skills that carry a block, sorted by id."""
    return sorted((s for s in skills if s.block is not None and s.block.op in OPS), key=lambda s: s.id)


def _input_lines(rng: random.Random) -> Lines:
    vocab = rng.sample(NOUNS, 6)
    n = rng.randint(8, 14)
    nums = rng.sample(range(10, 1000), n)
    lines = [f"{rng.choice(vocab)} {rng.choice(vocab)} {nums[i]}" for i in range(n)]
    for _ in range(rng.randint(1, 3)):  # repeated lines give dedup steps something to do
        lines.insert(rng.randint(0, len(lines)), rng.choice(lines))
    return lines


def _file_text(lines: Lines) -> str:
    return "".join(x + "\n" for x in lines)


_CONNECTIVES = ("Then", "Next", "After that")


def _prose(source: str, phrases: list[str]) -> str:
    """Join the step phrases into sentences a person would write (First ..., Then ..., Finally ...)."""
    sentences = []
    for i, phrase in enumerate(phrases):
        if i == 0:
            lead = "First"
        elif i == len(phrases) - 1:
            lead = "Finally"
        else:
            lead = _CONNECTIVES[(i - 1) % len(_CONNECTIVES)]
        sentences.append(f"{lead}, {phrase}.")
    return f"I need {source} worked through a few steps, keeping every intermediate file. " + " ".join(sentences)


def compose_task(skills: Sequence[Skill], *, index: int, gen_seed: int, min_skills: int, max_skills: int,
                 max_attempts: int = 50) -> Task | None:
    """One composed task (or None when no valid chain was found in ``max_attempts`` draws)."""
    pool = composable(skills)
    plain = [s for s in pool if not OPS[s.block.op].terminal]  # type: ignore[union-attr]
    final = [s for s in pool if OPS[s.block.op].terminal]  # type: ignore[union-attr]
    for attempt in range(max_attempts):
        seed = stable_seed(gen_seed, "skill", index, attempt)
        rng = random.Random(seed)
        k = rng.randint(min_skills, max_skills)
        use_final = bool(final) and rng.random() < 0.5
        if k - use_final > len(plain) or k < 1:
            continue
        chain = rng.sample(plain, k - use_final) + ([rng.choice(final)] if use_final else [])
        task = _build(chain, rng, index=index, seed=seed)
        if task is not None:
            return task
    return None


def _build(chain: list[Skill], rng: random.Random, *, index: int, seed: int) -> Task | None:
    lines = _input_lines(rng)
    names: list[str] = []
    while len(names) < len(chain) + 1:
        stem = draw("stem", rng)
        if stem not in names:
            names.append(stem)
    files = [f"{n}.txt" for n in names]
    slots: dict[str, str] = {"input": files[0]}
    phrases, commands, outputs = [], [], {}
    current = lines
    for i, skill in enumerate(chain):
        op = OPS[skill.block.op]  # type: ignore[union-attr]
        try:
            args = op.draw_args(rng, current)
            result = op.apply(current, args)
        except NotApplicable:
            return None
        if not result or result == [""]:
            return None
        values = {**args, "src": files[i], "dst": files[i + 1]}
        phrases.append(render(skill.block.instruction, values))  # type: ignore[union-attr]
        commands.append(render(skill.block.command, values))  # type: ignore[union-attr]
        outputs[files[i + 1]] = _file_text(result)
        slots.update({f"s{i + 1}_{k}": v for k, v in args.items()})
        slots[f"s{i + 1}_out"] = files[i + 1]
        current = result
    family = "+".join(sorted(s.id for s in chain))
    domains = Counter(s.domain for s in chain)
    top = max(domains.values())
    domain = next(s.domain for s in chain if domains[s.domain] == top)
    instruction = _prose(files[0], phrases)
    expected = base64.b64encode(json.dumps(outputs, sort_keys=True).encode()).decode("ascii")
    body = (
        "python3 - <<'PY' || fail \"a step's output is wrong\"\n"
        "import base64, json, sys\n"
        f"want = json.loads(base64.b64decode('{expected}'))\n"
        "for path, text in sorted(want.items()):\n"
        "    try:\n"
        "        got = open(path).read()\n"
        "    except OSError:\n"
        "        sys.exit(f'{path} is missing')\n"
        "    if [x.rstrip() for x in got.splitlines()] != text.splitlines():\n"
        "        sys.exit(f'{path} does not hold the expected lines')\n"
        "PY\n"
    )
    return Task(
        id=f"skill-v{index:04d}",
        family=family,
        source="skill",
        domain=domain,
        skills=[s.id for s in chain],
        difficulty="hard" if len(chain) >= 4 else "medium",
        instruction=instruction,
        files={files[0]: _file_text(lines)},
        solution=commands,
        tests={"test.sh": wrap_test(body)},
        generator=GeneratorInfo(name=GENERATOR_NAME, version=GENERATOR_VERSION, seed=seed),
        slots=slots,
    )
