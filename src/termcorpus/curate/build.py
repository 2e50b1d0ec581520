"""build_corpus: validated trajectories -> filtered, balanced, split Hugging Face corpus.

Order of work: read (sorted by id, so the outcome never depends on file order) -> filters
(failed, nonsense, privileged, canary, exact duplicate, near duplicate, per-domain cap) -> split
by family -> training split only: decontamination against the evaluation material (held-out
tasks + the validation split), data-scale fraction, per-skill cap, rare-skill upsampling ->
curriculum order of the train split -> save (DatasetDict + parquet copies + README.md card +
lineage.json + rejects.jsonl).

The validation split is neither decontaminated nor balanced: it is evaluation material itself,
and its loss must stay comparable between runs that balance differently.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

from tqdm import tqdm

from termcorpus.curate.balance import SkillCapFilter, domain_counts, skill_counts, upsample_rare_skills
from termcorpus.curate.dataset import REJECTS_FILE, SPLITS, dataset_card, save_corpus, subset_of
from termcorpus.curate.decontam import DecontamFilter, items_from_tasks, items_from_trajectories
from termcorpus.curate.dedup import NearDupFilter
from termcorpus.curate.filters import (
    CanaryFilter,
    DomainCapFilter,
    ExactDedupFilter,
    FailedFilter,
    Filter,
    GroupSampleFilter,
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
from termcorpus.records import Task, Trajectory, iter_jsonl
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
    if params.near_dup:
        chain.append(NearDupFilter(params.near_dup_threshold, params.near_dup_num_perm))
    for f in chain:
        records = f.run(records)
    if params.per_domain_cap > 0:
        cap = DomainCapFilter(params.per_domain_cap, params.seed).fit(records)
        records = cap.run(records)
        chain.append(cap)
    return records, chain


class FamilyFractionFilter(GroupSampleFilter):
    """Keep ``ceil(fraction * n)`` of each family's n trajectories, chosen by a seeded hash of their ids.

    The data-scale ablation (``balance.fraction``): every family keeps at least one trajectory, so
    the set of training families (and with it the validation split and the evaluation sets) stays
    the same; only the number of variants per family shrinks. Call ``fit`` first, like DomainCapFilter.
    """

    name = "fraction"

    def __init__(self, fraction: float, seed: int) -> None:
        super().__init__(seed, group_by="family", quota=lambda n: max(1, math.ceil(fraction * n - 1e-9)))
        self.fraction = fraction


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
    }


def _split_stats(rows: list[Trajectory]) -> dict[str, Any]:
    return {
        "records": len(rows),
        "families": len({t.family for t in rows}),
        "by_domain": dict(sorted(Counter(t.domain for t in rows).items())),
        "by_subset": dict(sorted(Counter(subset_of(t) for t in rows).items())),
        "assistant_turns": sum(1 for t in rows for m in t.messages if m.role == "assistant"),
    }


def load_eval_tasks(path: Path) -> list[Task]:
    """The held-out evaluation tasks (generate's heldout.jsonl), in file order."""
    return list(tqdm(iter_jsonl(path, Task), desc="read eval tasks", unit="task", disable=None))


def build_corpus(*, trajectories: Path, params: BalanceParams, out_dir: Path,
                 eval_tasks: Path | None = None) -> dict[str, Any]:
    """Filter, split and save the corpus in ``out_dir``; returns the curation metrics.

    ``eval_tasks``: the held-out task JSONL to decontaminate against (with
    ``params.decontam_ngram > 0``); the validation split is always part of the evaluation material.
    """
    records = load_trajectories(Path(trajectories))
    held_out = load_eval_tasks(Path(eval_tasks)) if eval_tasks is not None else []
    kept, chain = apply_filters(records, params)
    val_fams = choose_validation_families(
        family_domains(kept), val_fraction=params.val_fraction, seed=params.seed
    )
    train = [t for t in kept if t.family not in val_fams]
    validation = [t for t in kept if t.family in val_fams]
    decontam: dict[str, Any] = {"ngram": params.decontam_ngram}
    if params.decontam_ngram > 0:
        dec = DecontamFilter(items_from_tasks(held_out) + items_from_trajectories(validation), params.decontam_ngram)
        train = dec.run(train)
        chain.append(dec)
        decontam.update(eval_tasks=len(held_out), validation_trajectories=len(validation),
                        indexed_ngrams=len(dec.index))
    if params.fraction < 1.0:
        # Only the train split shrinks, so validation loss and evaluation stay comparable.
        frac = FamilyFractionFilter(params.fraction, params.seed).fit(train)
        train = frac.run(train)
        chain.append(frac)
    before_balance = train
    if params.per_skill_cap > 0:
        cap = SkillCapFilter(params.per_skill_cap, params.seed).fit(train)
        train = cap.run(train)
        chain.append(cap)
    train, upsampled = upsample_rare_skills(train, params.upsample_min, params.seed)
    kept = train + validation
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
        "fraction": params.fraction,
        "near_dup": {"enabled": params.near_dup, "threshold": params.near_dup_threshold,
                     "num_perm": params.near_dup_num_perm},
        "decontamination": decontam,
        "upsampled": upsampled,
        "balance": {
            "per_skill_cap": params.per_skill_cap,
            "upsample_min": params.upsample_min,
            "input_by_domain": domain_counts(records),
            "train_by_domain": {"before": domain_counts(before_balance), "after": domain_counts(train)},
            "train_by_skill": {"before": skill_counts(before_balance), "after": skill_counts(train)},
        },
    }
    if not train:
        raise DataError(
            f"no trajectory survived curation ({len(records)} read; drops: "
            + ", ".join(f"{f.name} {f.counts()['dropped']}" for f in chain) + ")",
            where=str(trajectories),
        )
    lineage = lineage_summary(Path(trajectories), records)
    rejects = [r for f in chain for r in f.rejects]
    save_corpus(
        splits,
        Path(out_dir),
        {
            "README.md": dataset_card(splits, metrics),
            "lineage.json": json.dumps(lineage, indent=2, sort_keys=True) + "\n",
            REJECTS_FILE: "".join(r.model_dump_json() + "\n" for r in rejects),
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
        "upsampled": metrics.get("upsampled", 0),
    }
