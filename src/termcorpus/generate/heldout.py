"""The held-out evaluation sets that generate writes beside the training pool, and clean splits.

Every held-out task carries ``Task.eval_set``:

- ``heldout_variants``: new draws of trained templates (``pipeline.variants_of``): recall.
- ``heldout_compositions``: composed tasks whose skill sequence training never saw (the composer).
- ``heldout_families``: whole seed families that never enter the training pool
  (:func:`choose_heldout_families`: a stable hash of the generation seed and the seed id,
  round-robin over the domains, so the choice is the same on every run and covers domains).
- ``novel_names``: variants of trained templates whose every name slot (file, directory,
  pattern and value names: the pools of ``NAME_POOLS``) is a made-up word, redrawn until neither
  the name nor any of its parts (split at ``_``, ``-``, ``.`` and digits) occurs as a word in any
  training text (:func:`training_words`: every instruction, file, solution and test of the
  training pool). A set of its own, not a subset of the variants.

Clean splits (:func:`clean_split`): a held-out task is dropped, with a counted reason, when it
shares its instruction, its solution or a test file with a training task, or when a training
task contains its concrete instance by the slot-aware n-gram rule of
:mod:`termcorpus.curate.decontam` (14-grams by default).
"""

from __future__ import annotations

import random
import re
from collections import Counter
from typing import Iterable, Sequence

from termcorpus.curate.decontam import DecontamIndex, items_from_tasks
from termcorpus.generate.mutate import render_variant, stable_seed
from termcorpus.generate.pools import _CONSONANTS, _VOWELS, draw
from termcorpus.records import HELDOUT_SETS, Task
from termcorpus.tasks.seeds import Seed, round_robin_by_domain

EVAL_SETS = HELDOUT_SETS

# Pools whose values are names (of files, directories, columns, patterns, users, hosts, ...);
# ext, shell, ip and version are formats the template needs, not names.
NAME_POOLS: frozenset[str] = frozenset({
    "noun", "adj", "verb", "word", "dir", "column", "category", "user", "package", "stem", "func", "key",
    "module", "host",
})
# Pools documented as lowercase letters only (they sort the same in every locale).
_LETTERS_ONLY = frozenset({"noun", "adj", "verb", "word", "dir", "column", "category", "user", "package", "module"})
NGRAM = 14
MAX_ATTEMPTS = 40
_LETTERS = re.compile(r"[a-z]+")


def name_parts(value: str) -> list[str]:
    """The parts of a name, split at ``_``, ``-``, ``.``, digits (and anything else not a letter),
    lowercased: ``Tavoki_pelu-07.csv`` -> ``tavoki``, ``pelu``, ``csv``."""
    return _LETTERS.findall(value.lower())


def training_words(tasks: Iterable[Task]) -> set[str]:
    """Every word (lowercased letter run, see :func:`name_parts`) of the training text: each
    task's instruction, text files, solution and tests."""
    words: set[str] = set()
    for t in tasks:
        for text in (t.instruction, *t.files.values(), *t.solution, *t.tests.values()):
            words.update(_LETTERS.findall(text.lower()))
    return words


def _syllables(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(_CONSONANTS) + rng.choice(_VOWELS) for _ in range(n))


def made_up(pool: str, rng: random.Random) -> str:
    """A made-up value for a name pool, shaped like the pool's own values (letters only where the
    pool is; ``host`` keeps its ``-NN`` suffix); other pools draw as usual."""
    if pool not in NAME_POOLS:
        return draw(pool, rng)
    word = _syllables(rng, 4)
    if pool == "host":
        return f"{word}-{rng.randint(1, 99):02d}"
    if pool in ("stem", "func", "key") and rng.random() < 0.3:
        return f"{word}_{_syllables(rng, 4)}"
    return word


def name_values(seed: Seed, task: Task) -> list[str]:
    """The task's values of the seed's name-pool slots (what novel_names makes up)."""
    return [task.slots[k] for k, spec in seed.slots.items() if spec.pool in NAME_POOLS and k in task.slots]


def has_name_slots(seed: Seed) -> bool:
    return any(spec.pool in NAME_POOLS for spec in seed.slots.values())


def choose_heldout_families(seeds: Sequence[Seed], k: int, gen_seed: int) -> list[Seed]:
    """``k`` seeds (at most a quarter of them) held out whole: per domain in a stable hashed
    order, taken round-robin over ``records.DOMAINS``; returned sorted by id."""
    return round_robin_by_domain(seeds, min(k, len(seeds) // 4),
                                 key=lambda s: (stable_seed("heldout_family", gen_seed, s.id), s.id))


def novel_name_tasks(seeds: Sequence[Seed], n: int, gen_seed: int, words: set[str], drops: Counter) -> list[Task]:
    """``n`` novel_names tasks over ``seeds`` (trained templates with a name slot), round-robin in
    a stable hashed order; each redrawn until no part of a made-up name is in ``words``."""
    pool = sorted((s for s in seeds if has_name_slots(s)), key=lambda s: (stable_seed("novel", gen_seed, s.id), s.id))
    out: list[Task] = []
    if not pool:
        drops["novel_names_no_template"] += n
        return out
    for i in range(n):
        seed = pool[i % len(pool)]
        for attempt in range(MAX_ATTEMPTS):
            vs = stable_seed("novel_names", gen_seed, seed.id, i, attempt)
            try:
                task = render_variant(seed, random.Random(vs), variant_id=f"{seed.id}-n{i:04d}", gen_seed=vs,
                                      pick=made_up)
            except ValueError:
                drops["novel_names_render_error"] += 1
                continue
            if any(part in words for v in name_values(seed, task) for part in name_parts(v)):
                continue
            out.append(task.model_copy(update={"eval_set": "novel_names"}))
            break
        else:
            drops["novel_names_seen"] += 1
    return out


def clean_split(train: Sequence[Task], heldout: Sequence[Task], drops: Counter, *, ngram: int = NGRAM) -> list[Task]:
    """The held-out tasks that share nothing with training (see the module doc); each dropped
    one is counted under ``heldout_shares_instruction``, ``heldout_shares_solution``,
    ``heldout_shares_test`` or ``heldout_contaminated``."""
    instructions = {t.instruction for t in train}
    solutions = {"\n".join(t.solution) for t in train}
    tests = {text for t in train for text in t.tests.values()}
    kept: list[Task] = []
    for t in heldout:
        if t.instruction in instructions:
            drops["heldout_shares_instruction"] += 1
        elif "\n".join(t.solution) in solutions:
            drops["heldout_shares_solution"] += 1
        elif any(text in tests for text in t.tests.values()):
            drops["heldout_shares_test"] += 1
        else:
            kept.append(t)
    if not kept or ngram <= 0:
        return kept
    index = DecontamIndex(items_from_tasks(kept), ngram)
    dirty: set[str] = set()
    for t in train:
        dirty.update(item.id for item in index.matches(task_pieces(t)))
    if dirty:
        drops["heldout_contaminated"] += len(dirty)
    return [t for t in kept if t.id not in dirty]


def task_pieces(task: Task) -> tuple[str, ...]:
    """A task's texts as decontamination compares them (its instruction and its solution)."""
    return (task.instruction, "\n".join(task.solution))
