"""The published corpus: rows, Hugging Face features, a byte-deterministic save and the card.

Columns follow NVIDIA's released Terminal-Corpus (``messages``, ``trajectory_id``,
``task_group_id``, ``model_name``, ``subset``, ``domain``, ``n_assistant_turns``) so the two can
be mixed, plus our own (``family``, ``skills``, ``slot_values``, ...). ``slot_values`` are the
names and numbers substituted into the task template: the trainer uses them to keep names out of
its vocabulary.

Determinism: ``datasets`` fingerprints an in-memory table by its content, and one shard per split
(also for an empty split, which would otherwise be saved with no data file and fail to load)
gives the same bytes for the same rows; a test checks two builds are byte-identical.

Besides ``save_to_disk``'s Arrow files (``datasets.load_from_disk``), the corpus directory holds
the same splits as Parquet (``parquet/<split>.parquet``, for ``load_dataset("parquet", ...)``,
pandas, DuckDB, or a Hub upload) and ``rejects.jsonl``: every trajectory a curation step removed,
with its reason. ``load_from_disk`` only reads ``dataset_dict.json`` and the split folders, so the
extra files do not disturb it.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path
from typing import Any, Mapping

from termcorpus.curate.split import n_chars
from termcorpus.errors import DataError
from termcorpus.records import Trajectory

SPLITS = ("train", "validation")
PARQUET_DIR = "parquet"
REJECTS_FILE = "rejects.jsonl"

SUBSETS = {"seed": "seed_based", "skill": "skill_based", "import": "dataset_adapters", "llm": "dataset_adapters",
           "adapter": "dataset_adapters"}

# Column name -> (kind, help). Kinds: str, int, float, bool, list_str, messages.
COLUMNS: dict[str, tuple[str, str]] = {
    "messages": ("messages", "the chat in training format: a list of {role, content}"),
    "trajectory_id": ("str", "unique id of the trajectory"),
    "task_id": ("str", "id of the task it solves"),
    "task_group_id": ("str", "the task family (Terminal-Corpus name); splits never share one"),
    "family": ("str", "same as task_group_id (termcorpus name)"),
    "model_name": ("str", "the teacher model that wrote the assistant turns"),
    "agent": ("str", "the teacher agent (oracle, openai, ...)"),
    "subset": ("str", "seed_based, skill_based or dataset_adapters"),
    "domain": ("str", "task domain"),
    "skills": ("list_str", "skills the task exercises"),
    "slot_values": ("list_str", "values substituted into the task template (sorted by slot name)"),
    "n_assistant_turns": ("int", "assistant messages in the chat"),
    "n_commands": ("int", "commands the agent typed"),
    "n_chars": ("int", "characters of all message contents"),
    "reward": ("float", "verifier reward, 0..1"),
    "passed": ("bool", "the verifier passed"),
}


def features() -> Any:
    """The corpus schema as ``datasets.Features`` (explicit, so an empty split keeps it)."""
    from datasets import Features, List, Value

    kinds = {
        "str": Value("string"),
        "int": Value("int64"),
        "float": Value("float64"),
        "bool": Value("bool"),
        "list_str": List(Value("string")),
        "messages": List({"role": Value("string"), "content": Value("string")}),
    }
    return Features({name: kinds[kind] for name, (kind, _) in COLUMNS.items()})


def subset_of(t: Trajectory) -> str:
    try:
        return SUBSETS[t.source]
    except KeyError:
        raise DataError(
            f"trajectory {t.id!r} has source {t.source!r}; expected one of {', '.join(SUBSETS)}"
        ) from None


def to_row(t: Trajectory) -> dict[str, Any]:
    return {
        "messages": [{"role": m.role, "content": m.content} for m in t.messages],
        "trajectory_id": t.id,
        "task_id": t.task_id,
        "task_group_id": t.family,
        "family": t.family,
        "model_name": t.model,
        "agent": t.agent,
        "subset": subset_of(t),
        "domain": t.domain,
        "skills": list(t.skills),
        "slot_values": [t.slots[k] for k in sorted(t.slots)],
        "n_assistant_turns": sum(1 for m in t.messages if m.role == "assistant"),
        "n_commands": t.n_commands,
        "n_chars": n_chars(t),
        "reward": float(t.reward),
        "passed": bool(t.passed),
    }


def parquet_splits(splits: Mapping[str, list[Trajectory]]) -> list[str]:
    """The splits that get a Parquet copy: the non-empty ones."""
    return [name for name in SPLITS if splits.get(name)]


def save_corpus(splits: Mapping[str, list[Trajectory]], out_dir: Path, extra_files: Mapping[str, str]) -> None:
    """Save the splits as a DatasetDict in ``out_dir`` (replacing it) plus ``extra_files`` (name -> text).

    Written to a sibling temp dir first and swapped in, so a crash never leaves half a corpus,
    and stale files of an older corpus never survive.
    """
    import datasets

    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or (any(out_dir.iterdir()) and not (out_dir / "dataset_dict.json").exists())):
        raise DataError("exists and is not a corpus directory; refusing to replace it", where=str(out_dir))
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    feats = features()
    parts = {}
    for name in SPLITS:
        rows = [to_row(t) for t in splits.get(name, [])]
        columns = {col: [row[col] for row in rows] for col in feats}
        parts[name] = datasets.Dataset.from_dict(columns, features=feats, split=name)
    dd = datasets.DatasetDict(parts)
    bars_were_on = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()  # a few KB to MB: a bar per split is noise in the DVC log
    try:
        dd.save_to_disk(str(tmp), num_shards={name: 1 for name in SPLITS})
        # save_to_disk writes Arrow IPC streams, which load_dataset("parquet") cannot read; pyarrow's
        # Parquet writer puts no timestamp in the file, so these bytes are deterministic too. An
        # empty split gets no file: load_dataset fails on one ("corresponds to no data").
        (tmp / PARQUET_DIR).mkdir()
        for name in parquet_splits(splits):
            dd[name].to_parquet(str(tmp / PARQUET_DIR / f"{name}.parquet"))
    finally:
        if bars_were_on:
            datasets.enable_progress_bars()
    for name, text in extra_files.items():
        (tmp / name).write_text(text, encoding="utf-8", newline="\n")
    if out_dir.exists():
        shutil.rmtree(out_dir)
    tmp.rename(out_dir)


def _table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _size_category(n: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return name
    return "n>1M"


def dataset_card(splits: Mapping[str, list[Trajectory]], metrics: Mapping[str, Any]) -> str:
    """A Hugging Face dataset card (README.md): sources, counts, filters, split, columns, licence."""
    total = sum(len(v) for v in splits.values())
    out: list[str] = [
        "---",
        "license: apache-2.0",
        "language:",
        "- en",
        "pretty_name: Terminal-Corpus (termcorpus)",
        f"size_categories:\n- {_size_category(total)}",
        "tags:",
        "- terminal",
        "- agents",
        "- bash",
        "- terminus-2",
        "---",
        "",
        "# Terminal-Corpus (termcorpus build)",
        "",
        "Verified multi-turn terminal-agent trajectories in chat format: a teacher agent solved each "
        "generated task in a sandbox speaking the Terminus-2 JSON protocol "
        "(`{analysis, plan, commands: [{keystrokes, duration}], task_complete}`), and a verifier ran "
        "the task's tests. Built by the termcorpus `balance` stage; column names match NVIDIA's "
        "released Terminal-Corpus so the two can be mixed.",
        "",
        "## Sources",
        "",
    ]
    every = [t for name in SPLITS for t in splits.get(name, [])]
    by_subset = Counter(subset_of(t) for t in every)
    by_teacher = Counter(f"{t.agent} / {t.model}" for t in every)
    out.append(_table(["subset", "trajectories"], [[k, v] for k, v in sorted(by_subset.items())]))
    out += ["", _table(["teacher (agent / model)", "trajectories"], [[k, v] for k, v in sorted(by_teacher.items())]), ""]

    out += ["## Splits", "",
            "Split **by task family** (`task_group_id`): every variant of one seed task or skill "
            "combination lies in one split only, so validation measures generalization to unseen "
            "templates. Validation families are chosen by a seeded hash, stratified by domain.", ""]
    out.append(_table(
        ["split", "trajectories", "families"],
        [[name, len(splits.get(name, [])), len({t.family for t in splits.get(name, [])})] for name in SPLITS],
    ))
    out += ["", "### Per domain", ""]
    domains = sorted({t.domain for t in every})
    out.append(_table(["domain", *SPLITS],
                      [[d, *(sum(t.domain == d for t in splits.get(s, [])) for s in SPLITS)] for d in domains]))
    out += ["", "### Per skill", ""]
    skill_counts = {s: Counter(sk for t in splits.get(s, []) for sk in t.skills) for s in SPLITS}
    skills = sorted(set().union(*skill_counts.values()))
    out.append(_table(["skill", *SPLITS], [[k, *(skill_counts[s][k] for s in SPLITS)] for k in skills]))
    out += ["", "### Per subset", ""]
    sub_counts = {s: Counter(subset_of(t) for t in splits.get(s, [])) for s in SPLITS}
    out.append(_table(["subset", *SPLITS], [[k, *(sub_counts[s][k] for s in SPLITS)] for k in sorted(by_subset)]))
    out += ["", "### Validation families", ""]
    val_fams = sorted({t.family for t in splits.get("validation", [])})
    out.append(", ".join(f"`{f}`" for f in val_fams) if val_fams else "(none)")

    out += ["", "## Filters", "",
            f"Input trajectories: {metrics['input_records']}; kept: {metrics['kept_records']}. "
            "Filters ran in this order; every drop is counted by reason.", ""]
    rows = []
    for name in metrics["filter_order"]:
        c = metrics["filters"][name]
        reasons = ", ".join(f"{k[len('dropped_'):]}: {v}" for k, v in c.items() if k.startswith("dropped_"))
        rows.append([name, c["kept"], c["dropped"], reasons or "-"])
    out.append(_table(["filter", "kept", "dropped", "dropped by reason"], rows))
    out += ["", "The privileged-command rules are listed in `termcorpus.curate.safety` (each a regex and a reason).",
            f"Every removed trajectory is listed in `{REJECTS_FILE}` (one JSON object per line: `id`, `filter`, "
            "`reason`, `detail`).", ""]
    nd = metrics.get("near_dup") or {}
    if nd.get("enabled"):
        out += [f"**Near duplicates**: MinHash LSH ({nd['num_perm']} permutations, fixed seed) proposes, over word "
                "3-grams of the instruction plus every keystroke (whitespace collapsed, digits masked), earlier "
                f"trajectories (by id) whose Jaccard similarity may reach {nd['threshold']}; the exact similarity "
                "decides. Trajectories filled with different slot values are different instances of a template "
                "and never count as near duplicates, so the name and value diversity of the variants stays.", ""]
    dc = metrics.get("decontamination") or {}
    if dc.get("ngram"):
        out += [f"**Decontamination**: a training trajectory is dropped when it shares {dc['ngram']}-grams "
                f"(whitespace tokens) with the evaluation material ({dc.get('eval_tasks', 0)} held-out tasks, "
                f"{dc.get('validation_trajectories', 0)} validation trajectories) that reproduce all the slot "
                "values of one evaluation text: a concrete evaluation instance. Template text alone does not "
                "count, since held-out variants are new variants of the trained families by design.", ""]
    bal = metrics.get("balance") or {}
    if bal.get("per_skill_cap") or bal.get("upsample_min"):
        out += [f"**Skill balance** (train split): at most {bal.get('per_skill_cap') or 'unlimited'} trajectories "
                f"per skill, skills below {bal.get('upsample_min') or 0} repeated up to it "
                f"(copies added: {metrics.get('upsampled', 0)}, their ids ending in `#r1`, `#r2`, ...).", ""]
    if metrics.get("curriculum"):
        out += ["The train split is in curriculum order: fewest commands first, then shortest, then by id.", ""]

    out += ["## Loading", "",
            "With `datasets` (the Arrow files `save_to_disk` wrote):", "",
            "```python",
            "from datasets import load_from_disk",
            "corpus = load_from_disk(\"data/corpus\")  # DatasetDict: train, validation",
            "```", "",
            f"Or from the Parquet copies in `{PARQUET_DIR}/` (same rows and order; an empty split has no "
            "file, since `load_dataset` cannot load one):", "",
            "```python",
            "from datasets import load_dataset",
            "corpus = load_dataset(\"parquet\", data_files={",
            *[f"    \"{name}\": \"data/corpus/{PARQUET_DIR}/{name}.parquet\"," for name in parquet_splits(splits)],
            "})",
            "```", ""]
    out += ["## Columns", "", _table(["column", "meaning"], [[f"`{k}`", h] for k, (_, h) in COLUMNS.items()]), ""]
    out += ["## Licence", "",
            "Apache-2.0. Task texts, seeds and trajectories were written or generated by the termcorpus "
            "project; no third-party data is included unless a dataset adapter imported it (subset "
            "`dataset_adapters`), in which case that source's licence applies too.", ""]
    return "\n".join(out)
