"""The held-out evaluation sets: read from generate's heldout.jsonl by ``Task.eval_set``, plus user task dirs.

generate writes every held-out task with its set's name (generate/heldout.py says how each is
built and what it guarantees):

- ``heldout_variants``: new draws of trained templates (recall of a template);
- ``heldout_compositions``: composed tasks whose ordered skill sequence training never saw;
- ``heldout_compositions_novel_pairs``: composed tasks none of whose adjacent skill pairs
  training saw either (scored as a set of its own);
- ``heldout_families``: seed families never trained on (generate holds them out whole);
- ``novel_names``: trained templates whose every name is made up and unseen in training;
- ``extra``: Harbor / Terminal-Bench task directories named in ``evaluate.extra_tasks``,
  imported with ``tasks.interop.import_task_dir`` (empty when none are named).

Two checks at evaluation time, each counted per set in ``info``: a task the execute stage's
validity gate did not keep (``gate.jsonl``) is skipped (``skipped_gate``), and the sets built on
trained templates (``heldout_variants``, ``novel_names``) keep only tasks whose family is in the
corpus TRAIN split (``not_trained``: the template went to the validation split, or all its
trajectories failed). The corpus's validation split stays what it is for: validation loss and
champion selection; it no longer defines an evaluation set.

Each set is sampled down to ``max_tasks`` deterministically: families in a seeded order, tasks
taken round-robin across them, so a small sample still covers as many families as it can.
"""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path
from typing import Sequence

from termcorpus.errors import ConfigError, DataError
from termcorpus.records import HELDOUT_SETS as GENERATED_SETS
from termcorpus.records import Task, read_jsonl

EVAL_SETS: tuple[str, ...] = (*GENERATED_SETS, "extra")
# Sets whose tasks come from templates the model must have trained on.
TRAINED_TEMPLATE_SETS = ("heldout_variants", "novel_names")

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


def load_extra_tasks(paths: Sequence[str], *, notes: list[str] | None = None) -> list[Task]:
    """Import every Harbor / Terminal-Bench task dir named in ``paths`` (a task dir or a parent of many).

    Task ids must be unique across all of them. Steps that cannot be replayed without Docker go to
    ``notes`` (see ``import_task_dir``).
    """
    from termcorpus.tasks.interop import find_task_dirs, import_task_dir

    tasks: list[Task] = []
    origin: dict[str, Path] = {}
    for i, p in enumerate(paths):
        if not isinstance(p, str) or not p.strip():
            raise ConfigError(f"'evaluate.extra_tasks[{i}]' must be a directory path, got {p!r}")
        for d in find_task_dirs(Path(p)):
            task = import_task_dir(d, notes=notes)
            if task.id in origin:
                raise DataError(f"task id {task.id!r} is also imported from {origin[task.id]}: "
                                "extra task ids must be unique", where=str(d))
            origin[task.id] = d
            tasks.append(task)
    return tasks


def _info(pool: Sequence[Task], picked: Sequence[Task]) -> dict[str, int]:
    return {
        "available_tasks": len(pool),
        "available_families": len({t.family for t in pool}),
        "n_tasks": len(picked),
        "n_families": len({t.family for t in picked}),
    }


def select_eval_sets(
    *, tasks_dir: Path, corpus_dir: Path, max_tasks: int, seed: int, extra_tasks: Sequence[str] = (),
    gate_path: Path | None = None,
) -> tuple[dict[str, list[Task]], dict[str, dict[str, int]]]:
    """The sampled evaluation sets (``EVAL_SETS``) and, per set, how many tasks / families were
    available and taken, and how many were skipped (``skipped_gate``, ``not_trained``).
    ``gate_path``: the execute stage's ``gate.jsonl`` (None: no task is skipped for the gate).
    ``extra`` also reports ``import_notes``: Dockerfile steps not replayed."""
    from termcorpus.execute.gate import read_failed

    tasks_dir = Path(tasks_dir)
    train_fams, _val_fams = corpus_split_families(Path(corpus_dir))
    heldout_path = tasks_dir / "heldout.jsonl"
    heldout = _read_tasks(heldout_path) if heldout_path.exists() else []
    failed = read_failed(Path(gate_path)) if gate_path is not None else {}
    candidates: dict[str, list[Task]] = {}
    skipped: dict[str, dict[str, int]] = {}
    for name in GENERATED_SETS:
        members = [t for t in heldout if t.eval_set == name]
        gated = [t for t in members if t.id not in failed]
        trained = [t for t in gated if name not in TRAINED_TEMPLATE_SETS or t.family in train_fams]
        candidates[name] = trained
        skipped[name] = {"skipped_gate": len(members) - len(gated), "not_trained": len(gated) - len(trained)}
    if not any(candidates.values()):
        raise DataError(
            f"no held-out task to evaluate: {heldout_path.name} has no task of the sets "
            f"{', '.join(GENERATED_SETS)} that passed the gate (and, for variants and novel names, whose "
            f"family is in the corpus train split)", where=str(tasks_dir)
        )
    notes: list[str] = []
    # Real-task folders become checked per-folder sets in evaluate.extra (they need the sandbox).
    candidates["extra"] = []
    sets: dict[str, list[Task]] = {}
    info: dict[str, dict[str, int]] = {}
    for name in EVAL_SETS:
        pool = candidates[name]
        sets[name] = sample_tasks(pool, max_tasks, f"{seed}:{name}")
        info[name] = {**_info(pool, sets[name]), **skipped.get(name, {})}
    info["extra"]["import_notes"] = len(notes)
    return sets, info
