"""Train/validation split by task family, stratified by domain, and the curriculum order.

All variants of one seed (or one skill combination) form a family; a family goes to one split
only, so validation loss measures generalization to unseen task templates, not recall of a
sibling variant. The choice is a seeded hash, so it is stable across runs and machines and
adding a family does not reshuffle the others.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Iterable

from termcorpus.curate.filters import stable_rank
from termcorpus.records import Trajectory


def family_domains(records: Iterable[Trajectory]) -> dict[str, str]:
    """Each family's domain: the most common among its trajectories (ties: alphabetical)."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for r in records:
        counts[r.family][r.domain] += 1
    return {f: min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0] for f, c in sorted(counts.items())}


def choose_validation_families(fam_domain: dict[str, str], *, val_fraction: float, seed: int) -> set[str]:
    """Pick ~``val_fraction`` of the families for validation, spread over domains by quota.

    At least one family is held out when ``val_fraction > 0`` and there are two or more families,
    and at least one always stays in train. Domains get quotas by largest remainder (Hamilton);
    inside a domain, families are taken in seeded-hash order.
    """
    n = len(fam_domain)
    if val_fraction <= 0 or n < 2:
        return set()
    n_val = min(n - 1, max(1, round(val_fraction * n)))
    by_domain: dict[str, list[str]] = defaultdict(list)
    for fam, dom in fam_domain.items():
        by_domain[dom].append(fam)
    domains = sorted(by_domain)
    quota_exact = {d: n_val * len(by_domain[d]) / n for d in domains}
    quota = {d: math.floor(q) for d, q in quota_exact.items()}
    rest = n_val - sum(quota.values())
    order = sorted(domains, key=lambda d: (-(quota_exact[d] - quota[d]), stable_rank(seed, d), d))
    for d in order[:rest]:
        quota[d] += 1
    chosen: set[str] = set()
    for d in domains:
        ranked = sorted(by_domain[d], key=lambda f: (stable_rank(seed, f), f))
        chosen.update(ranked[: quota[d]])
    return chosen


def n_chars(t: Trajectory) -> int:
    return sum(len(m.content) for m in t.messages)


def curriculum_order(records: Iterable[Trajectory]) -> list[Trajectory]:
    """Single-step, short trajectories first: sort by (commands, characters, id)."""
    return sorted(records, key=lambda t: (t.n_commands, n_chars(t), t.id))
