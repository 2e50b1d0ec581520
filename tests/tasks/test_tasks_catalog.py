"""The seed stage: normalized outputs are deterministic and readable back; errors are one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from termcorpus.errors import DataError
from termcorpus.generate.catalog import build_catalog, read_seeds, read_taxonomy, write_catalog

REPO = Path(__file__).resolve().parents[2]


def test_catalog_round_trip_is_byte_identical(tmp_path):
    cat = build_catalog(seeds_dir=REPO / "data/seeds", skills_dir=REPO / "data/skills")
    write_catalog(cat, seeds_out=tmp_path / "a.jsonl", taxonomy_out=tmp_path / "a.json")
    tax = read_taxonomy(tmp_path / "a.json")
    seeds = read_seeds(tmp_path / "a.jsonl", tax)
    assert [s.id for s in seeds] == sorted(s.id for s in seeds)
    cat.seeds, cat.taxonomy = seeds, tax
    write_catalog(cat, seeds_out=tmp_path / "b.jsonl", taxonomy_out=tmp_path / "b.json")
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def test_read_seeds_rejects_a_skill_missing_from_the_taxonomy(tmp_path):
    cat = build_catalog(seeds_dir=REPO / "data/seeds", skills_dir=REPO / "data/skills")
    write_catalog(cat, seeds_out=tmp_path / "s.jsonl", taxonomy_out=tmp_path / "t.json")
    data = json.loads((tmp_path / "t.json").read_text())
    data["skills"] = [s for s in data["skills"] if s["id"] != "symlinks"]
    (tmp_path / "t.json").write_text(json.dumps(data))
    with pytest.raises(DataError, match=r"s\.jsonl:\d+: seed 'fo_symlink': field 'skills': unknown skill id 'symlinks'"):
        read_seeds(tmp_path / "s.jsonl", read_taxonomy(tmp_path / "t.json"))


def _stage(tmp_path: Path, seeds: Path) -> subprocess.CompletedProcess[str]:
    (tmp_path / "params.yaml").write_text("seed:\n  strict: true\n")
    return subprocess.run(
        [sys.executable, str(REPO / "stages/seed.py"), "--seeds", str(seeds), "--skills", str(REPO / "data/skills"),
         "--out", "data/seeds.jsonl", "--taxonomy-out", "data/taxonomy.json", "--metrics", "metrics/seed.json",
         "--detail", "reports/seed_detail.json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )


def test_seed_stage_writes_outs_and_per_domain_metrics(tmp_path):
    proc = _stage(tmp_path, REPO / "data/seeds")
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads((tmp_path / "metrics/seed.json").read_text())
    # the headline is the seed count; skills and per-domain counts are detail (issue 20)
    assert set(metrics) == {"seeds"} and metrics["seeds"] >= 40
    detail = json.loads((tmp_path / "reports/seed_detail.json").read_text())
    assert detail["n_seeds"] == metrics["seeds"] and detail["n_skills"] >= 30
    assert sum(v > 0 for v in detail["seeds_by_domain"].values()) >= 7
    assert (tmp_path / "data/taxonomy.json").exists()
    assert len((tmp_path / "data/seeds.jsonl").read_text().splitlines()) == metrics["seeds"]


def test_seed_stage_bad_file_is_one_line_and_exit_2(tmp_path):
    bad = tmp_path / "seeds"
    bad.mkdir()
    (bad / "x.yaml").write_text("domain: security\nseeds:\n  - id: Bad-Id\n")
    proc = _stage(tmp_path, bad)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "x.yaml:3" in lines[0], proc.stderr
