"""The two held-out evaluation sets, chosen by the corpus's family split.

- ``heldout_variants``: tasks of ``tasks_dir/heldout.jsonl`` (fresh variants that generate kept
  aside) whose family is in the corpus TRAIN split: the model trained on other variants of these
  families, never on these tasks. Measures generalisation to new names and values.
- ``heldout_families``: tasks of ``tasks_dir/tasks.jsonl`` whose family is in the corpus
  VALIDATION split: no variant of these families was trained on. Measures generalisation to new
  templates / skill combinations.

Each set is sampled down to ``max_tasks`` deterministically: families in a seeded order, tasks
taken round-robin across them, so a small sample still covers as many families as it can.
"""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path

from termcorpus.errors import DataError
from termcorpus.records import Task, read_jsonl

EVAL_SETS: tuple[str, ...] = ("heldout_variants", "heldout_families")

TRAIN_SPLITS = ("train",)
VALIDATION_SPLITS = ("validation", "val", "valid")
FAMILY_COLUMNS = ("family", "task_group_id")


def corpus_split_families(corpus_dir: Path) -> tuple[set[str], set[str]]:
    """``(train families, validation families)`` of a corpus saved with ``DatasetDict.save_to_disk``."""
    import datasets

    corpus_dir = Path(corpus_dir)
    if not corpus_dir.exists():
        raise DataError("corpus directory not found", where=str(corpus_dir))
    try:
        dd = datasets.load_from_disk(str(corpus_dir))
    except (FileNotFoundError, ValueError, OSError) as e:
        raise DataError(f"not a saved Hugging Face dataset ({str(e).splitlines()[0][:160]})", where=str(corpus_dir))
    if not isinstance(dd, datasets.DatasetDict):
        raise DataError("expected a DatasetDict with 'train' and 'validation' splits, got one Dataset",
                        where=str(corpus_dir))
    train: set[str] = set()
    val: set[str] = set()
    for split in dd:
        if split in TRAIN_SPLITS:
            target = train
        elif split in VALIDATION_SPLITS:
            target = val
        else:
            continue
        cols = dd[split].column_names
        col = next((c for c in FAMILY_COLUMNS if c in cols), None)
        if col is None:
            raise DataError(f"split '{split}' has no family column (expected one of {', '.join(FAMILY_COLUMNS)})",
                            where=str(corpus_dir))
        target.update(str(f) for f in dd[split].select_columns([col])[col])
    if not train and not val:
        raise DataError(f"corpus has no 'train' or 'validation' split (splits: {', '.join(dd) or 'none'})",
                        where=str(corpus_dir))
    both = sorted(train & val)
    if both:
        raise DataError(f"family '{both[0]}' is in both the train and validation splits "
                        f"({len(both)} such families): the split must be by family", where=str(corpus_dir))
    return train, val


def sample_tasks(tasks: list[Task], max_tasks: int, seed: int | str) -> list[Task]:
    """Up to ``max_tasks`` tasks (0: all), round-robin over families in a seeded order, sorted by id."""
    by_family: dict[str, list[Task]] = defaultdict(list)
    for t in sorted(tasks, key=lambda t: t.id):
        by_family[t.family].append(t)
    rng = random.Random(seed)
    families = sorted(by_family)
    rng.shuffle(families)
    for f in families:
        rng.shuffle(by_family[f])
    picked: list[Task] = []
    depth = 0
    while len(picked) < len(tasks) and (max_tasks == 0 or len(picked) < max_tasks):
        for f in families:
            if depth < len(by_family[f]):
                picked.append(by_family[f][depth])
                if max_tasks and len(picked) == max_tasks:
                    break
        depth += 1
    return sorted(picked, key=lambda t: t.id)


def _read_tasks(path: Path) -> list[Task]:
    tasks = read_jsonl(path, Task)
    seen: set[str] = set()
    for t in tasks:
        if t.id in seen:
            raise DataError(f"duplicate task id {t.id!r}", where=str(path))
        seen.add(t.id)
    return tasks


def select_eval_sets(
    *, tasks_dir: Path, corpus_dir: Path, max_tasks: int, seed: int
) -> tuple[dict[str, list[Task]], dict[str, dict[str, int]]]:
    """The sampled evaluation sets and, per set, how many tasks / families were available and taken."""
    tasks_dir = Path(tasks_dir)
    train_fams, val_fams = corpus_split_families(Path(corpus_dir))
    heldout_path = tasks_dir / "heldout.jsonl"
    heldout = _read_tasks(heldout_path) if heldout_path.exists() else []
    all_tasks = _read_tasks(tasks_dir / "tasks.jsonl")
    candidates = {
        "heldout_variants": [t for t in heldout if t.family in train_fams],
        "heldout_families": [t for t in all_tasks if t.family in val_fams],
    }
    if not any(candidates.values()):
        raise DataError(
            f"no held-out task to evaluate: none of {heldout_path.name}'s families is in the corpus train "
            f"split and none of tasks.jsonl's families is in its validation split", where=str(tasks_dir)
        )
    sets: dict[str, list[Task]] = {}
    info: dict[str, dict[str, int]] = {}
    for name in EVAL_SETS:
        pool = candidates[name]
        sets[name] = sample_tasks(pool, max_tasks, f"{seed}:{name}")
        info[name] = {
            "available_tasks": len(pool),
            "available_families": len({t.family for t in pool}),
            "n_tasks": len(sets[name]),
            "n_families": len({t.family for t in sets[name]}),
        }
    return sets, info
