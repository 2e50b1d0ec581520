"""The held-out evaluation sets, chosen by the corpus's family split, plus user task dirs.

- ``heldout_variants``: tasks of ``tasks_dir/heldout.jsonl`` (fresh variants that generate kept
  aside) whose family is in the corpus TRAIN split: the model trained on other variants of these
  families, never on these tasks. Measures generalisation to new names and values.
- ``heldout_unseen_names``: the ``heldout_variants`` candidates none of whose slot values
  (``Task.slots``: the names and values put into the template) occurs anywhere in the text of a
  TRAIN-split message. Measures copying names the model has never seen (``unseen_slot_tasks``
  says what "occurs" means). Often small: its size is reported, not padded.
- ``heldout_families``: tasks of ``tasks_dir/tasks.jsonl`` whose family is in the corpus
  VALIDATION split: no variant of these families was trained on. Measures generalisation to new
  templates / skill combinations.
- ``extra``: Harbor / Terminal-Bench task directories named in ``evaluate.extra_tasks``,
  imported with ``tasks.interop.import_task_dir`` (empty when none are named).

Each set is sampled down to ``max_tasks`` deterministically: families in a seeded order, tasks
taken round-robin across them, so a small sample still covers as many families as it can.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from pathlib import Path
from typing import Iterable, Sequence

from termcorpus.errors import ConfigError, DataError
from termcorpus.records import Task, read_jsonl

EVAL_SETS: tuple[str, ...] = ("heldout_variants", "heldout_unseen_names", "heldout_families", "extra")

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


# A value "occurs" in a text where it stands as a whole name: not glued to a letter, digit or
# underscore on either side ("data" occurs in "cat data.csv" but not in "metadata").
_WORD = re.compile(r"[A-Za-z0-9_]+")


def _occurs(value: str, text: str) -> bool:
    start = 0
    while (i := text.find(value, start)) >= 0:
        before = text[i - 1] if i else " "
        after = text[i + len(value)] if i + len(value) < len(text) else " "
        if not (before.isascii() and (before.isalnum() or before == "_")) and \
                not (after.isascii() and (after.isalnum() or after == "_")):
            return True
        start = i + 1
    return False


def seen_values(values: Iterable[str], texts: Iterable[str]) -> set[str]:
    """The ``values`` that occur as whole names (see ``_occurs``) in at least one of ``texts``.

    One pass over the texts: each value is keyed by its longest word piece, and only a text that
    contains that piece as a word is searched for the full value, so a large corpus costs about
    one tokenisation of its text.
    """
    by_anchor: dict[str, list[str]] = defaultdict(list)
    bare: list[str] = []  # no letter or digit at all (e.g. "--"): searched in every text
    for v in sorted(set(values)):
        pieces = _WORD.findall(v)
        if pieces:
            by_anchor[max(pieces, key=len)].append(v)
        elif v:
            bare.append(v)
    seen: set[str] = set()
    for text in texts:
        if not by_anchor and not bare:
            break
        for v in [v for v in bare if v in text]:
            seen.add(v)
            bare.remove(v)
        for word in set(_WORD.findall(text)) & by_anchor.keys():
            found = [v for v in by_anchor[word] if v == word or _occurs(v, text)]
            seen.update(found)
            left = [v for v in by_anchor[word] if v not in seen]
            if left:
                by_anchor[word] = left
            else:
                del by_anchor[word]
    return seen


def slot_values(task: Task) -> list[str]:
    """The task's non-blank slot values (the names and values substituted into its template)."""
    return sorted({v for v in task.slots.values() if v.strip()})


def corpus_train_texts(corpus_dir: Path) -> Iterable[str]:
    """Every TRAIN-split chat of a saved corpus as one text (its messages' contents, joined)."""
    import datasets

    dd = datasets.load_from_disk(str(corpus_dir))
    for split in dd:
        if split not in TRAIN_SPLITS:
            continue
        if "messages" not in dd[split].column_names:
            raise DataError(f"split '{split}' has no 'messages' column: cannot tell which names training saw",
                            where=str(corpus_dir))
        for batch in dd[split].select_columns(["messages"]).iter(batch_size=512):
            for chat in batch["messages"]:
                yield "\n".join(str(m.get("content") or "") for m in chat or [])


def unseen_slot_tasks(tasks: Sequence[Task], texts: Iterable[str]) -> list[Task]:
    """The tasks that have slot values and none of which occurs in any of ``texts``.

    A task without slots (skill compositions, imports) has no names to be unseen and is left out.
    Small numbers and common words will usually occur somewhere, so a task with such a slot is
    not "unseen" even when its file names are: the set is strict by design.
    """
    with_slots = [t for t in tasks if slot_values(t)]
    seen = seen_values((v for t in with_slots for v in slot_values(t)), texts)
    return [t for t in with_slots if not seen.intersection(slot_values(t))]


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
    *, tasks_dir: Path, corpus_dir: Path, max_tasks: int, seed: int, extra_tasks: Sequence[str] = ()
) -> tuple[dict[str, list[Task]], dict[str, dict[str, int]]]:
    """The sampled evaluation sets (``EVAL_SETS``) and, per set, how many tasks / families were
    available and taken. ``extra`` also reports ``import_notes``: Dockerfile steps not replayed."""
    tasks_dir = Path(tasks_dir)
    train_fams, val_fams = corpus_split_families(Path(corpus_dir))
    heldout_path = tasks_dir / "heldout.jsonl"
    heldout = _read_tasks(heldout_path) if heldout_path.exists() else []
    all_tasks = _read_tasks(tasks_dir / "tasks.jsonl")
    variants = [t for t in heldout if t.family in train_fams]
    candidates = {
        "heldout_variants": variants,
        "heldout_unseen_names": unseen_slot_tasks(variants, corpus_train_texts(Path(corpus_dir))) if variants else [],
        "heldout_families": [t for t in all_tasks if t.family in val_fams],
    }
    if not any(candidates.values()):
        raise DataError(
            f"no held-out task to evaluate: none of {heldout_path.name}'s families is in the corpus train "
            f"split and none of tasks.jsonl's families is in its validation split", where=str(tasks_dir)
        )
    notes: list[str] = []
    # Real-task folders become checked per-folder sets in evaluate.extra (they need the sandbox).
    candidates["extra"] = []
    sets: dict[str, list[Task]] = {}
    info: dict[str, dict[str, int]] = {}
    for name in EVAL_SETS:
        pool = candidates[name]
        sets[name] = sample_tasks(pool, max_tasks, f"{seed}:{name}")
        info[name] = _info(pool, sets[name])
    info["extra"]["import_notes"] = len(notes)
    return sets, info
