"""The params the ablation grid turns: balance.fraction (data scale) and generate.seed_tasks (skill-only)."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pytest

from termcorpus.curate import build_corpus
from termcorpus.curate.samples import make_trajectory, trajectory_lines
from termcorpus.generate.pipeline import generate_tasks
from termcorpus.params import BalanceParams
from termcorpus.generate.catalog import build_catalog

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def trajectories(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("knobs")
    trajs = []
    domains = ["file_operations", "data_processing", "security"]
    for f in range(9):
        for v in range(1 + f % 4):  # families of 1..4 variants
            i = f * 10 + v
            trajs.append(make_trajectory(f"t{i:03d}", family=f"fam{f}", domain=domains[f % 3],
                                         commands=[[f"ls d{i}"]], slots={"dir": f"d{i}"}))
    p = tmp / "trajectories.jsonl"
    p.write_text(trajectory_lines(trajs), encoding="utf-8")
    return p


def _build(trajectories: Path, out: Path, fraction: float) -> dict:
    return build_corpus(trajectories=trajectories, params=BalanceParams(val_fraction=0.3, fraction=fraction),
                        out_dir=out)


def test_fraction_keeps_a_share_of_every_train_family_and_leaves_validation_alone(trajectories, tmp_path):
    full = _build(trajectories, tmp_path / "full", 1.0)
    half = _build(trajectories, tmp_path / "half", 0.5)
    assert half["families_by_split"] == full["families_by_split"]
    assert half["splits"]["validation"] == full["splits"]["validation"]
    import datasets

    def per_family(path: Path) -> Counter:
        return Counter(datasets.load_from_disk(str(path))["train"]["task_group_id"])

    full_counts, half_counts = per_family(tmp_path / "full"), per_family(tmp_path / "half")
    assert set(half_counts) == set(full_counts)
    assert all(half_counts[f] == max(1, math.ceil(n / 2)) for f, n in full_counts.items())
    dropped = sum(full_counts.values()) - sum(half_counts.values())
    assert dropped > 0
    assert half["filters"]["fraction"] == {"kept": sum(half_counts.values()), "dropped": dropped, "dropped_fraction": dropped}
    assert half["kept_records"] == half["splits"]["train"]["records"] + half["splits"]["validation"]["records"]
    assert half["fraction"] == 0.5 and "fraction" not in full["filters"]


def test_fraction_choice_is_deterministic(trajectories, tmp_path):
    a = _build(trajectories, tmp_path / "a", 0.34)
    b = _build(trajectories, tmp_path / "b", 0.34)
    assert a == b
    assert (tmp_path / "a" / "README.md").read_bytes() == (tmp_path / "b" / "README.md").read_bytes()


def test_seed_tasks_off_gives_a_skill_only_pool_with_the_same_heldout_variants():
    cat = build_catalog(seeds_dir=REPO / "data/seeds", skills_dir=REPO / "data/skills")
    kw = dict(seed=7, n_variants=2, n_heldout_variants=1, skill_tasks=12, max_seeds=9)
    mixed = generate_tasks(cat.seeds, cat.taxonomy, **kw)
    skill_only = generate_tasks(cat.seeds, cat.taxonomy, seed_tasks=False, **kw)
    assert {t.source for t in skill_only.tasks} == {"skill"} and len(skill_only.tasks) == 12
    assert Counter(t.source for t in mixed.tasks) == {"seed": 18, "skill": 12}
    assert [t.id for t in skill_only.heldout] == [t.id for t in mixed.heldout]
