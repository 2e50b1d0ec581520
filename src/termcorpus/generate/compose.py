"""Skill-based composition: chain 3-5 skill blocks into one multi-step task.

Each composable skill names a block (``block:`` in data/skills/*.yaml): a Python block of
:mod:`termcorpus.generate.blocks` or a YAML-only block (:class:`~termcorpus.tasks.skills.YamlBlock`).
Blocks are typed: each consumes an artifact kind (``rows``, ``csv``, ``json``, ``dir``, ``tgz``,
...) and produces one, so a chain is a walk where step *i* works on what step *i-1* wrote or left
behind. The first step's input is generated for the kind it consumes; a block that consumes
nothing (it brings its own input) can only open a chain, and a YAML block or one that produces
nothing (``none``) can only close it. A step that cannot do real work on its input (no word to
filter on, nothing missing to clean) raises NotApplicable and the walk tries another skill.

``test.sh`` checks the effect of every step (each artifact's final content, modes, links, the
git commit, a fixed program...). Observation-dependent steps (a column position read from a
header, a path ``find`` prints, the line a traceback names) become a look turn plus a
:class:`~termcorpus.records.Derivation` the oracle applies to the real output.

Held-out compositions: a fixed, seed-determined share of the adjacent skill pairs is reserved
(:func:`reserved_pair`). Training chains never use a reserved pair, so every chain that does has
an ordered skill sequence that never occurs in training; a chain made only of reserved pairs also
has no adjacent pair that occurs in training.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Sequence

from termcorpus.generate.blocks import BLOCKS
from termcorpus.generate.blocks.base import (
    KINDS, SOURCES, Art, Block, Ctx, NotApplicable, Step, source_files,
)
from termcorpus.generate.mutate import stable_seed, wrap_test
from termcorpus.generate.template import render
from termcorpus.records import Derivation, GeneratorInfo, Task
from termcorpus.tasks.skills import Skill, YamlBlock

GENERATOR_NAME = "skill_composition"
GENERATOR_VERSION = "2.0"

# bash helpers every composed test.sh uses (after mutate.TEST_HEADER, which defines `fail`)
TEST_HELPERS = r"""_b() { printf '%s' "$1" | base64 -d; }
_same() { [ -f "$1" ] || fail "$1 is missing"; [ "$(sed 's/[[:space:]]*$//' "$1")" = "$(_b "$2" | sed 's/[[:space:]]*$//')" ] || fail "$1 does not hold the expected lines"; }
_json() { [ -f "$1" ] || fail "$1 is missing"; python3 -c 'import base64, json, sys; sys.exit(json.load(open(sys.argv[1])) != json.loads(base64.b64decode(sys.argv[2])))' "$1" "$2" 2>/dev/null || fail "$1 does not hold the expected JSON"; }
_tree() { [ -d "$1" ] || fail "$1 is missing"; [ "$(cd "$1" && find . -type f ! -path '*/.git/*' ! -path '*/__pycache__/*' | sort | xargs -r sha256sum)" = "$(_b "$2")" ] || fail "$1 does not hold the expected files"; }
"""


def reserved_pair(gen_seed: int, a: str, b: str, pct: int) -> bool:
    """Whether the adjacent pair (a, b) is kept out of training (for held-out compositions)."""
    return pct > 0 and stable_seed(gen_seed, "pair", a, b) % 100 < pct


def _yaml_step(block: YamlBlock) -> Callable[[Ctx, Art], Step]:
    def make(c: Ctx, a: Art) -> Step:
        dst = f"{c.stem()}.{block.ext}"
        v = {"src": a.path, "dst": dst}
        files = {render(p, v): render(t, v) for p, t in block.files.items()}
        return Step(render(block.instruction, v), [render(block.command, v)], Art("none", dst, None),
                    {dst: render(block.check, v) + f" || fail '{dst} is not right'"}, files=files)

    return make


def block_of(skill: Skill) -> Block | None:
    """The composable block of a skill (None when it has none or names an unknown one)."""
    b = skill.block
    if isinstance(b, str):
        return BLOCKS.get(b)
    if isinstance(b, YamlBlock):
        return Block(skill.id, tuple(b.consumes), "none", _yaml_step(b))
    return None


def composable(skills: Sequence[Skill]) -> list[Skill]:
    """The skills that carry a block, sorted by id."""
    return sorted((s for s in skills if block_of(s) is not None), key=lambda s: s.id)


@dataclass
class Chain:
    skills: list[Skill]
    steps: list[Step]
    source: Art | None


PairOk = Callable[[str, str], bool]
# A block that meets an input it cannot use (too few rows, no numbers, an empty column) raises
# NotApplicable, or fails on it in plain Python; either way the walk tries another skill.
_UNFIT = (NotApplicable, IndexError, ValueError, KeyError, ZeroDivisionError)


def _walk(pool: list[Skill], blocks: dict[str, Block], rng: random.Random, k: int, pair_ok: PairOk,
          used_so_far: Counter) -> Chain | None:
    """One random typed walk of ``k`` steps (None if it got stuck).

    Candidates are tried in a weighted random order (Efraimidis-Spirakis keys ``u ** (1 + n)``)
    where ``n`` counts the skill's earlier uses: without it, blocks that read many kinds (links,
    chmod, hashing) would fill most chains and narrow ones would hardly appear.
    """
    def order(cands: list[Skill]) -> list[Skill]:
        return sorted(cands, key=lambda s: -rng.random() ** (1 + used_so_far[s.id]))

    c = Ctx(rng)
    first = order([s for s in pool if not blocks[s.id].consumes or any(k in SOURCES for k in blocks[s.id].consumes)])[0]
    fb = blocks[first.id]
    if fb.consumes:
        kind = rng.choice([x for x in fb.consumes if x in SOURCES])
        src = Art(kind, c.name(kind), SOURCES[kind](rng))
    else:
        src = None
    cur = src or Art("none", "", None)
    chain = Chain([], [], src)
    candidates = [first]
    while len(chain.steps) < k:
        for s in order(candidates):
            try:
                step = blocks[s.id].make(c, cur)
            except _UNFIT:
                continue
            chain.skills.append(s)
            chain.steps.append(step)
            cur = step.out
            break
        else:
            return None
        if cur.kind == "none":
            break
        last = chain.skills[-1].id
        used = {x.id for x in chain.skills}
        candidates = [s for s in pool if s.id not in used and cur.kind in blocks[s.id].consumes
                      and pair_ok(last, s.id)]
        if len(chain.steps) < k and not candidates:
            return None
    return chain if len(chain.steps) == k else None


def _prose(phrases: list[str]) -> str:
    steps = " ".join(f"{i}) {p[0].upper()}{p[1:]}." for i, p in enumerate(phrases, 1))
    return f"In /app, keeping every file you make: {steps}"


def build_task(chain: Chain, *, task_id: str, seed: int, eval_set: str = "") -> Task:
    files: dict[str, str] = source_files(chain.source) if chain.source else {}
    binary: dict[str, str] = {}
    checks: dict[str, str] = {}
    solution: list[str] = []
    derivations: list[Derivation] = []
    obs_steps: list[int] = []
    for i, step in enumerate(chain.steps):
        files.update(step.files)
        binary.update(step.binary_files)
        for j, cmd in enumerate(step.commands):
            if step.derive is not None and j == step.derive_at:
                solution.append(step.derive.look)
                derivations.append(Derivation(turn=len(solution), patterns=dict(step.derive.patterns),
                                              template=step.derive.template))
                obs_steps.append(i)
            solution.append(cmd)
        for key, check in step.checks.items():
            checks.pop(key, None)  # a later step on the same path decides its final content
            checks[key] = check
    domains = Counter(s.domain for s in chain.skills)
    top = max(domains.values())
    domain = next(s.domain for s in chain.skills if domains[s.domain] == top)
    body = TEST_HELPERS + "".join(c + "\n" for c in checks.values())
    # the names a copy of this task would carry (curate/decontam.py keys instances on them)
    slots = {f"s{i + 1}_out": st.out.path for i, st in enumerate(chain.steps)}
    if chain.source is not None:
        slots["input"] = chain.source.path
    return Task(
        id=task_id,
        family="+".join(s.id for s in chain.skills),
        source="skill",
        domain=domain,
        skills=[s.id for s in chain.skills],
        difficulty="hard" if len(chain.skills) >= 4 else "medium" if len(chain.skills) > 1 else "easy",
        instruction=_prose([st.phrase for st in chain.steps]),
        files=files,
        binary_files=binary,
        solution=solution,
        tests={"test.sh": wrap_test(body)},
        generator=GeneratorInfo(name=GENERATOR_NAME, version=GENERATOR_VERSION, seed=seed),
        slots=slots,
        eval_set=eval_set,
        derivations=derivations,
        obs_dependent_steps=obs_steps,
    )


class Composer:
    """Draws composed tasks from a skill pool; ``pair_ok`` restricts adjacent pairs."""

    def __init__(self, skills: Sequence[Skill], *, gen_seed: int, min_skills: int, max_skills: int):
        self.pool = composable(skills)
        self.blocks = {s.id: block_of(s) for s in self.pool}  # type: ignore[misc]
        self.gen_seed = gen_seed
        self.min_skills, self.max_skills = min_skills, max_skills
        self.used: Counter = Counter()  # skill -> uses in the tasks composed so far (balances the draw)

    def compose(self, stream: str, index: int, *, pair_ok: PairOk, eval_set: str = "", id_prefix: str = "skill-v",
                accept: Callable[[Chain], bool] = lambda ch: True, max_attempts: int = 60,
                pool: list[Skill] | None = None) -> Task | None:
        pool = pool if pool is not None else self.pool
        if len(pool) < self.min_skills:
            return None
        for attempt in range(max_attempts):
            seed = stable_seed(self.gen_seed, stream, index, attempt)
            rng = random.Random(seed)
            k = rng.randint(self.min_skills, self.max_skills)
            chain = _walk(pool, self.blocks, rng, k, pair_ok, self.used)  # type: ignore[arg-type]
            if chain is not None and accept(chain):
                self.used.update(s.id for s in chain.skills)
                return build_task(chain, task_id=f"{id_prefix}{index:04d}", seed=seed, eval_set=eval_set)
        return None


def compose_task(skills: Sequence[Skill], *, index: int, gen_seed: int, min_skills: int, max_skills: int,
                 max_attempts: int = 60) -> Task | None:
    """One composed training-style task with no pair restriction (or None)."""
    return Composer(skills, gen_seed=gen_seed, min_skills=min_skills, max_skills=max_skills).compose(
        "skill", index, pair_ok=lambda a, b: True, max_attempts=max_attempts)


def compose_split(skills: Sequence[Skill], *, gen_seed: int, n_train: int, n_heldout: int, n_novel_pairs: int,
                  min_skills: int, max_skills: int, reserve_pct: int,
                  drops: Counter, n_singles: int = 0) -> tuple[list[Task], list[Task]]:
    """Training composed tasks + the held-out composition sets.

    Training chains avoid the reserved pairs. ``heldout_compositions`` chains hold at least one
    reserved pair (so their sequence never occurs in training) and at least one pair seen in
    training; ``heldout_compositions_novel_pairs`` chains hold reserved pairs only. Both use only
    skills that occur in the training chains.

    ``n_singles`` one-skill training tasks follow the chains: each is the opening step of a chain
    on its own (``1) <step>.``), so the words of one step meet its commands without the rest of a
    chain around them. They are drawn last, by a composer of their own, so the chains and the
    held-out sets are the same with or without them.
    """
    comp = Composer(skills, gen_seed=gen_seed, min_skills=min_skills, max_skills=max_skills)
    reserved = lambda a, b: reserved_pair(gen_seed, a, b, reserve_pct)  # noqa: E731
    train: list[Task] = []
    seen_keys: set[tuple[str, str]] = set()

    def keep(t: Task | None) -> None:
        """Add a drawn training task unless there was none or it repeats one (counted)."""
        if t is None:
            drops["no_valid_chain"] += 1
        elif (t.instruction, t.tests["test.sh"]) in seen_keys:
            drops["duplicate"] += 1
        else:
            seen_keys.add((t.instruction, t.tests["test.sh"]))
            train.append(t)

    for i in range(n_train):
        keep(comp.compose("skill", i, pair_ok=lambda a, b: not reserved(a, b)))
    trained = {s for t in train for s in t.skills}
    train_pairs = {p for t in train for p in zip(t.skills, t.skills[1:])}
    pool = [s for s in comp.pool if s.id in trained]
    held: list[Task] = []

    def mixed(ch: Chain) -> bool:
        pairs = [(a.id, b.id) for a, b in zip(ch.skills, ch.skills[1:])]
        return any(reserved(*p) for p in pairs) and any(p in train_pairs for p in pairs)

    def novel(ch: Chain) -> bool:
        return all(reserved(a.id, b.id) for a, b in zip(ch.skills, ch.skills[1:]))

    sets = (("heldout_compositions", "skill-h", n_heldout, lambda a, b: True, mixed),
            ("heldout_compositions_novel_pairs", "skill-n", n_novel_pairs, reserved, novel))
    for name, prefix, n, pair_ok, accept in sets:
        misses = 0
        for i in range(n):
            t = comp.compose(name, i, pair_ok=pair_ok, eval_set=name, id_prefix=prefix, accept=accept, pool=pool,
                             max_attempts=400)
            if t is None:
                drops[f"{name}_no_chain"] += 1
                misses += 1
                if misses >= 3:  # a small pool (a quick run) has no such chains: stop, count the rest
                    drops[f"{name}_no_chain"] += n - i - 1
                    break
            else:
                held.append(t)
    singles = Composer(skills, gen_seed=gen_seed, min_skills=1, max_skills=1)
    for i in range(n_singles):
        keep(singles.compose("skill-single", i, pair_ok=lambda a, b: True, id_prefix="skill-s"))
    return train, held


def kinds() -> list[str]:
    return sorted(KINDS)
