"""Seed-based mutation: turn one seed template into concrete, distinct task variants.

A variant is fully determined by ``random.Random(variant_seed(generate.seed, seed id, index))``:
slot values are drawn in declaration order, then the input files are generated, then every
template is rendered. The same params therefore give the same bytes on every machine (Python's
``random`` is stable for integer seeds), and one variant can be rebuilt alone from its id.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
from typing import Callable, Mapping

from termcorpus.generate.datagen import run_generator
from termcorpus.generate.pools import draw
from termcorpus.generate.template import refs, render
from termcorpus.records import CANARY, Environment, GeneratorInfo, Task, check_relative_path
from termcorpus.tasks.seeds import Seed, SlotSpec

GENERATOR_NAME = "seed_mutation"
GENERATOR_VERSION = "1.0"

# Every test.sh starts the same way: the canary (so curation can prove no verifier text reached
# training data), the working directory (overridable so a local self-check can run it outside a
# sandbox), and a `fail` helper that records reward 0.
TEST_HEADER = """#!/bin/bash
# termcorpus verifier -- {canary} -- never train on this file
cd "${{APP_DIR:-/app}}" || exit 1
export LC_ALL=C
_logs="${{LOGS_DIR:-/logs/verifier}}"
_reward() {{ mkdir -p "$_logs" 2>/dev/null && echo "$1" > "$_logs/reward.txt" 2>/dev/null; true; }}
fail() {{ echo "FAIL: $*"; _reward 0; exit 1; }}
""".format(canary=CANARY)
TEST_FOOTER = "echo PASS\n_reward 1\nexit 0\n"


def stable_seed(*parts: object) -> int:
    """A 63-bit integer from the parts, identical on every platform and Python version."""
    h = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).digest()
    return int.from_bytes(h[:8], "big") >> 1


def variant_seed(gen_seed: int, seed_id: str, index: int, attempt: int = 0) -> int:
    # attempt > 0 only when an earlier draw duplicated another variant
    return stable_seed(gen_seed, seed_id, index) if attempt == 0 else stable_seed(gen_seed, seed_id, index, attempt)


def wrap_test(body: str) -> str:
    return TEST_HEADER + body.rstrip("\n") + "\n" + TEST_FOOTER


def draw_slots(slots: Mapping[str, SlotSpec], rng: random.Random,
               pick: Callable[[str, random.Random], str] = draw) -> tuple[dict[str, str], frozenset[str]]:
    """Slot values (name -> string) and the set of atoms to keep out of generated filler.

    ``pick(pool, rng)`` draws one pool value (default :func:`pools.draw`; the novel_names set
    passes one that makes names up, generate/heldout.py)."""
    values: dict[str, str] = {}
    used: set[str] = set()
    for name, spec in slots.items():
        if spec.pool is not None:
            picks: list[str] = []
            for _ in range(200 * spec.k):
                v = pick(spec.pool, rng)
                if v not in used:
                    used.add(v)
                    picks.append(v)
                    if len(picks) == spec.k:
                        break
            else:
                raise ValueError(f"field 'slots.{name}': pool {spec.pool!r} ran out of distinct values")
            values[name] = spec.sep.join(picks)
        elif spec.int_range is not None:
            lo, hi = spec.int_range
            if spec.k == 1:
                values[name] = str(rng.randint(lo, hi))
            else:
                values[name] = spec.sep.join(map(str, rng.sample(range(lo, hi + 1), spec.k)))
            used.update(values[name].split(spec.sep))
        elif spec.choice is not None:
            values[name] = rng.choice(spec.choice)
            used.add(values[name])
        elif spec.template is not None:
            values[name] = render(spec.template, values)
        elif spec.cases is not None:
            i = rng.randrange(len(spec.cases))
            values[name] = str(i)
            for key, v in spec.cases[i].items():
                values[f"{name}_{key}"] = v
        else:
            base, plus = spec.add  # type: ignore[misc]
            values[name] = str(int(values[base]) + plus)
    return values, frozenset(used)


def render_files(seed: Seed, values: Mapping[str, str], rng: random.Random, avoid: frozenset[str]) -> dict[str, str]:
    files: dict[str, str] = {}
    for i, spec in enumerate(seed.files):
        path = render(spec.path, values)
        if spec.text is not None:
            produced: str | dict[str, str] = render(spec.text, values)
        else:
            args = {k: render(v, values) for k, v in spec.args.items()}
            try:
                produced = run_generator(spec.gen, args, rng, avoid)  # type: ignore[arg-type]
            except ValueError as e:
                raise ValueError(f"field 'files.{i}.args': generator {spec.gen}: {e}") from None
        items = produced.items() if isinstance(produced, dict) else [("", produced)]
        for sub, text in items:
            full = sub if path in (".", "") else (f"{path.rstrip('/')}/{sub}" if sub else path)
            try:
                check_relative_path(full)
            except ValueError as e:
                raise ValueError(f"field 'files.{i}.path': {e}") from None
            if full in files:
                raise ValueError(f"field 'files.{i}.path': {full!r} is produced twice")
            files[full] = text
    return files


def render_variant(seed: Seed, rng: random.Random, *, variant_id: str, gen_seed: int,
                   family: str | None = None, source: str = "seed",
                   pick: Callable[[str, random.Random], str] = draw) -> Task:
    """One concrete task from ``seed`` using the draws of ``rng``; ``family`` (default: the seed
    id) and ``source`` let a custom skill's template (tasks/seeds.skill_seed) name its own;
    ``pick`` draws pool values (see :func:`draw_slots`)."""
    values, avoid = draw_slots(seed.slots, rng, pick)
    files = render_files(seed, values, rng, avoid)
    test_values: Mapping[str, str] = values
    if "_orig_b64" in refs(seed.test):
        orig = json.dumps(files, sort_keys=True, separators=(",", ":")).encode("utf-8")
        test_values = {**values, "_orig_b64": base64.b64encode(orig).decode("ascii")}
    env = Environment(timeout_sec=seed.timeout_sec) if seed.timeout_sec else Environment()
    return Task(
        id=variant_id,
        family=family or seed.id,
        source=source,  # type: ignore[arg-type]
        domain=seed.domain,
        skills=list(seed.skills),
        difficulty=seed.effective_difficulty(),  # type: ignore[arg-type]
        instruction=render(seed.instruction, values).strip(),
        files=files,
        solution=[render(c, values) for c in seed.solution],
        tests={"test.sh": wrap_test(render(seed.test, test_values))},
        environment=env,
        generator=GeneratorInfo(name=GENERATOR_NAME, version=GENERATOR_VERSION, seed=gen_seed),
        slots=values,
    )
