"""build_corpus: validated trajectories -> filtered, balanced, split Hugging Face corpus.

Order of work: read (sorted by id, so the outcome never depends on file order) -> filters
(failed, nonsense, privileged, canary, exact duplicate, per-domain cap) -> split by family ->
curriculum order of the train split -> save (DatasetDict + README.md card + lineage.json).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

from tqdm import tqdm

from termcorpus.curate.dataset import SPLITS, dataset_card, save_corpus, subset_of
from termcorpus.curate.filters import (
    CanaryFilter,
    DomainCapFilter,
    ExactDedupFilter,
    FailedFilter,
    Filter,
    NonsenseFilter,
    SafetyFilter,
)
from termcorpus.curate.split import (
    choose_validation_families,
    curriculum_order,
    family_domains,
)
from termcorpus.errors import DataError
from termcorpus.params import BalanceParams
from termcorpus.records import Trajectory, iter_jsonl
from termcorpus.runtime import dvc_md5


def load_trajectories(path: Path) -> list[Trajectory]:
    records = list(tqdm(iter_jsonl(path, Trajectory), desc="read trajectories", unit="traj", disable=None))
    seen: dict[str, int] = {}
    for i, r in enumerate(records, 1):
        if r.id in seen:
            raise DataError(f"duplicate trajectory id {r.id!r} (also on record {seen[r.id]})", where=f"{path}:{i}")
        seen[r.id] = i
    return sorted(records, key=lambda r: r.id)


def apply_filters(records: list[Trajectory], params: BalanceParams) -> tuple[list[Trajectory], list[Filter]]:
    """Run the filter chain; returns the survivors and the filters (with their counts)."""
    chain: list[Filter] = []
    if params.filter_failed:
        chain.append(FailedFilter())
    chain += [NonsenseFilter(), SafetyFilter(), CanaryFilter(), ExactDedupFilter()]
    for f in chain:
        records = f.run(records)
    if params.per_domain_cap > 0:
        cap = DomainCapFilter(params.per_domain_cap, params.seed).fit(records)
        records = cap.run(records)
        chain.append(cap)
    return records, chain


def lineage_summary(trajectories: Path, records: list[Trajectory]) -> dict[str, str]:
    """What the corpus was built from (read by tracking.log_corpus_version as lineage.json)."""

    def one_or_digest(values: set[str]) -> str:
        vals = sorted(v for v in values if v)
        if len(vals) <= 1:
            return vals[0] if vals else ""
        return "sha256:" + hashlib.sha256("\n".join(vals).encode("utf-8")).hexdigest()

    task_digests = sorted({r.lineage.task_digest for r in records})
    return {
        "trajectories_digest": dvc_md5(trajectories),
        "task_set_digest": hashlib.sha256("\n".join(task_digests).encode("utf-8")).hexdigest(),
        "seeds_digest": one_or_digest({r.lineage.seeds_digest for r in records}),
        "git_rev": one_or_digest({r.lineage.git_rev for r in records}),
    }


def _split_stats(rows: list[Trajectory]) -> dict[str, Any]:
    return {
        "records": len(rows),
        "families": len({t.family for t in rows}),
        "by_domain": dict(sorted(Counter(t.domain for t in rows).items())),
        "by_subset": dict(sorted(Counter(subset_of(t) for t in rows).items())),
        "assistant_turns": sum(1 for t in rows for m in t.messages if m.role == "assistant"),
    }


def build_corpus(*, trajectories: Path, params: BalanceParams, out_dir: Path) -> dict[str, Any]:
    """Filter, split and save the corpus in ``out_dir``; returns the curation metrics."""
    records = load_trajectories(Path(trajectories))
    kept, chain = apply_filters(records, params)
    val_fams = choose_validation_families(
        family_domains(kept), val_fraction=params.val_fraction, seed=params.seed
    )
    train = [t for t in kept if t.family not in val_fams]
    validation = [t for t in kept if t.family in val_fams]
    if params.curriculum:
        train = curriculum_order(train)
    splits = {"train": train, "validation": validation}
    metrics: dict[str, Any] = {
        "input_records": len(records),
        "kept_records": len(kept),
        "filter_order": [f.name for f in chain],
        "filters": {f.name: f.counts() for f in chain},
        "splits": {name: _split_stats(splits[name]) for name in SPLITS},
        "families_by_split": {name: sorted({t.family for t in splits[name]}) for name in SPLITS},
        "curriculum": params.curriculum,
        "seed": params.seed,
        "val_fraction": params.val_fraction,
    }
    if not train:
        raise DataError(
            f"no trajectory survived curation ({len(records)} read; drops: "
            + ", ".join(f"{f.name} {f.counts()['dropped']}" for f in chain) + ")",
            where=str(trajectories),
        )
    lineage = lineage_summary(Path(trajectories), records)
    save_corpus(
        splits,
        Path(out_dir),
        {
            "README.md": dataset_card(splits, metrics),
            "lineage.json": json.dumps(lineage, indent=2, sort_keys=True) + "\n",
        },
    )
    return metrics


def corpus_counts(metrics: dict[str, Any]) -> dict[str, Any]:
    """The numeric summary logged with the corpus version in MLflow."""
    dropped: Counter[str] = Counter()
    for c in metrics["filters"].values():
        for k, v in c.items():
            if k.startswith("dropped_"):
                dropped[k[len("dropped_"):]] += v
    return {
        "records": {"input": metrics["input_records"], "kept": metrics["kept_records"],
                    **{name: metrics["splits"][name]["records"] for name in SPLITS}},
        "families": {name: metrics["splits"][name]["families"] for name in SPLITS},
        "dropped": dict(sorted(dropped.items())),
    }
