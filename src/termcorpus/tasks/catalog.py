"""The seed stage's library side: read + check seeds and skills, normalize them, count them.

``build_catalog`` loads ``data/skills`` then ``data/seeds`` (seeds are checked against the
skills), ``write_catalog`` writes ``data/seeds.jsonl`` (one seed per line, sorted by id) and
``data/taxonomy.json``; ``read_seeds`` / ``read_taxonomy`` are what the generate stage uses.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from pydantic import ValidationError

from termcorpus.errors import DataError
from termcorpus.records import DOMAINS, format_validation_error, read_jsonl
from termcorpus.tasks.seeds import Seed, load_seeds
from termcorpus.tasks.skills import Taxonomy, load_taxonomy


@dataclass
class Catalog:
    seeds: list[Seed]
    taxonomy: Taxonomy
    skipped: list[str] = field(default_factory=list)

    def metrics(self) -> dict[str, object]:
        seeds_by_domain = Counter(s.domain for s in self.seeds)
        skills_by_domain = Counter(s.domain for s in self.taxonomy.skills)
        use = Counter(k for s in self.seeds for k in s.skills)
        return {
            "n_seeds": len(self.seeds),
            "n_skills": len(self.taxonomy.skills),
            "n_composable_skills": sum(s.block is not None for s in self.taxonomy.skills),
            "n_custom_skills": sum(s.template is not None for s in self.taxonomy.skills),
            "n_domains_with_seeds": len(seeds_by_domain),
            "seeds_by_domain": {d: seeds_by_domain.get(d, 0) for d in DOMAINS},
            "skills_by_domain": {d: skills_by_domain.get(d, 0) for d in DOMAINS},
            "seeds_by_skill": {s.id: use.get(s.id, 0) for s in self.taxonomy.skills},
            "n_skipped_files": len(self.skipped),
        }


def build_catalog(*, seeds_dir: str | Path, skills_dir: str | Path, strict: bool = True) -> Catalog:
    """Load and check everything; with ``strict=False`` bad files are skipped and listed."""
    skipped: list[str] = []
    taxonomy = load_taxonomy(skills_dir, strict=strict, skipped=skipped)
    seeds = load_seeds(seeds_dir, taxonomy, strict=strict, skipped=skipped)
    return Catalog(seeds=seeds, taxonomy=taxonomy, skipped=skipped)


def _write_lines(path: Path, lines: Iterable[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="\n") as fh:
        for line in lines:
            fh.write(line + "\n")
    tmp.replace(path)


def seed_json(seed: Seed) -> str:
    """The normalized form of a seed: aliases (``int``), no unset options."""
    return seed.model_dump_json(by_alias=True, exclude_none=True)


def write_catalog(catalog: Catalog, *, seeds_out: str | Path, taxonomy_out: str | Path) -> None:
    _write_lines(Path(seeds_out), (seed_json(s) for s in sorted(catalog.seeds, key=lambda s: s.id)))
    data = catalog.taxonomy.model_dump(mode="json", exclude_none=True, by_alias=True)
    # Key order is kept, not sorted: a custom skill's template draws its slots (and case keys)
    # in declaration order, so sorting them would change the tasks. Model field order is fixed,
    # so the bytes stay deterministic.
    _write_lines(Path(taxonomy_out), [json.dumps(data, indent=2, ensure_ascii=False)])


def read_taxonomy(path: str | Path) -> Taxonomy:
    path = Path(path)
    if not path.exists():
        raise DataError("file not found (run the seed stage first)", where=str(path))
    try:
        return Taxonomy.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as e:
        raise DataError(format_validation_error(e), where=str(path))


def read_seeds(path: str | Path, taxonomy: Taxonomy) -> list[Seed]:
    """Normalized seeds; each must name only skills of ``taxonomy``."""
    seeds = read_jsonl(path, Seed)
    known = taxonomy.by_id()
    for lineno, s in enumerate(seeds, 1):
        for k in s.skills:
            if k not in known:
                raise DataError(f"seed '{s.id}': field 'skills': unknown skill id {k!r}", where=f"{path}:{lineno}")
    return seeds
