"""The seed stage's library side: read + check seeds and skills, normalize them, count them.

``build_catalog`` loads ``data/skills`` then ``data/seeds`` (seeds are checked against the
skills), ``write_catalog`` writes ``data/seeds.jsonl`` (one seed per line, sorted by id) and
``data/taxonomy.json``; ``read_seeds`` / ``read_taxonomy`` are what the generate stage uses.

The seed and skill *models* are task specs (tasks/seeds.py, tasks/skills.py); checking a file
beyond its types needs the generator's vocabulary (pools, data generators, composable blocks,
templates, a dry-run render), so loading and checking live here, with the generator.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from pydantic import ValidationError

from termcorpus.errors import DataError
from termcorpus.generate.blocks import BLOCKS
from termcorpus.generate.blocks.base import KINDS
from termcorpus.generate.datagen import GENERATORS, generator_params
from termcorpus.generate.mutate import render_variant
from termcorpus.generate.pools import POOLS
from termcorpus.generate.template import refs
from termcorpus.records import DOMAINS, format_validation_error, read_jsonl
from termcorpus.tasks.seeds import BUILTIN_TEST_NAMES, Seed, SeedFile, skill_seed
from termcorpus.tasks.skills import Skill, SkillFile, Taxonomy, YamlBlock, yaml_files
from termcorpus.tasks.yamlio import load_yaml, node_line, validate_file


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


# ---- skill files ----------------------------------------------------------------------

def _check_block(block: str | YamlBlock, where: str) -> None:
    if isinstance(block, str):
        if block not in BLOCKS:
            raise DataError(f"field 'block': unknown block {block!r}; known: {', '.join(sorted(BLOCKS))}", where=where)
        return
    for k in block.consumes:
        if k not in KINDS or k == "none":
            raise DataError(f"field 'block.consumes': unknown kind {k!r}; expected one of "
                            f"{', '.join(sorted(set(KINDS) - {'none'}))}", where=where)
    texts = {"instruction": block.instruction, "command": block.command, "check": block.check,
             **{f"files.{p}": p + t for p, t in block.files.items()}}
    for field, text in texts.items():
        for name in refs(text):
            if name not in ("src", "dst"):
                raise DataError(f"field 'block.{field}': unknown name {{{{{name}}}}}; a YAML block knows src, dst",
                                where=where)


def load_skill_file(path: Path) -> list[tuple[Skill, str]]:
    """The file's skills, each with its ``file:line``."""
    data, root = load_yaml(path)
    sf = validate_file(path, data, root, SkillFile)
    out = []
    for i, s in enumerate(sf.skills):
        where = f"{path}:{node_line(root, ('skills', i, 'id'))}"
        domain = s.domain or sf.domain
        if domain is None:
            raise DataError(f"skill '{s.id}': field 'domain' is missing (set it on the skill or the file)", where=where)
        if s.block is not None:
            _check_block(s.block, f"{path}:{node_line(root, ('skills', i, 'block'))}")
        skill = Skill(id=s.id, domain=domain, description=s.description, block=s.block, template=s.template)
        if skill.template is not None:
            _check_template(skill, path, root, i)
        out.append((skill, where))
    return out


def _check_template(skill: Skill, path: Path, root: object, index: int) -> None:
    # the seed checks (pools, generators, slot references, a dry-run render) apply to a
    # template unchanged
    try:
        check_skill_template(skill)
    except (ValueError, DataError) as e:
        msg = str(e)
        m = re.match(r"field '([^']+)'(.*)", msg, re.S)
        if m:
            parts = tuple(int(x) if x.isdigit() else x for x in m.group(1).split("."))
            msg = f"field 'template.{m.group(1)}'{m.group(2)}"
        else:
            parts = ()
        line = node_line(root, ("skills", index, "template", *parts))  # type: ignore[arg-type]
        raise DataError(f"skill '{skill.id}': {msg}", where=f"{path}:{line}") from None


def _merge_files(
    directory: str | Path,
    load: Callable[[Path], list[tuple[str, Any, str, str]]],
    already_defined: Callable[[str, str, str], DataError],
    *, strict: bool, skipped: list[str] | None,
) -> dict[str, tuple[Any, str]]:
    """``{id: (item, origin)}`` over every ``*.yaml`` under ``directory``, shared by the skill and
    seed loaders. ``load(path)`` gives ``(id, item, origin, where)`` per item; an id defined twice
    (in one file or across files) raises ``already_defined(id, first origin, where)``. A bad file
    raises DataError, or with ``strict=False`` is skipped whole and its error appended to ``skipped``."""
    found: dict[str, tuple[Any, str]] = {}
    for path in yaml_files(Path(directory)):
        try:
            loaded = load(path)
            here: dict[str, str] = {}
            for key, _item, origin, where in loaded:
                first = found[key][1] if key in found else here.get(key)
                if first:
                    raise already_defined(key, first, where)
                here[key] = origin
            for key, item, origin, _where in loaded:
                found[key] = (item, origin)
        except DataError as e:
            if strict or skipped is None:
                raise
            skipped.append(str(e))
    return found


def load_taxonomy(directory: str | Path, strict: bool = True, skipped: list[str] | None = None) -> Taxonomy:
    """Read every ``*.yaml`` under ``directory``; a bad file raises DataError (or, with
    ``strict=False``, is skipped and its error appended to ``skipped``)."""
    skills = _merge_files(
        directory, lambda path: [(s.id, s, where, where) for s, where in load_skill_file(path)],
        lambda key, first, where: DataError(f"field 'id': skill id '{key}' is already defined at {first}", where=where),
        strict=strict, skipped=skipped,
    )
    if not skills:
        raise DataError("no skills found (expected *.yaml files with a 'skills' list)", where=str(directory))
    return Taxonomy(skills=[skills[k][0] for k in sorted(skills)])


# ---- seed files -----------------------------------------------------------------------

def check_seed(seed: Seed, taxonomy: Taxonomy) -> None:
    """Semantic checks beyond types; raises ValueError('field ...: problem') on the first one."""
    known_skills = taxonomy.by_id()
    for i, s in enumerate(seed.skills):
        if s not in known_skills:
            raise ValueError(f"field 'skills.{i}': unknown skill id {s!r} (not in the skill taxonomy)")
    defined: dict[str, str] = {}
    for name, spec in seed.slots.items():
        where = f"field 'slots.{name}'"
        if spec.pool is not None and spec.pool not in POOLS:
            raise ValueError(f"{where}: unknown pool {spec.pool!r}; known: {', '.join(sorted(POOLS))}")
        if spec.template is not None:
            for r in refs(spec.template):
                if r not in defined:
                    raise ValueError(f"{where}: template names {{{{{r}}}}}, which is not an earlier slot")
        if spec.add is not None and defined.get(spec.add[0]) not in ("int", "add"):
            raise ValueError(f"{where}: add needs an earlier int slot, got {spec.add[0]!r}")
        if spec.add is not None and seed.slots[spec.add[0]].k > 1:
            raise ValueError(f"{where}: add needs a single integer slot, {spec.add[0]!r} has k > 1")
        defined[name] = spec.kind
        for key in spec.cases[0] if spec.cases else ():
            if f"{name}_{key}" in seed.slots:
                raise ValueError(f"{where}: case key {key!r} makes slot {name}_{key}, which is also declared")
            defined[f"{name}_{key}"] = "case"

    def check_refs(text: str, field: str, extra: frozenset[str] = frozenset()) -> None:
        for r in refs(text):
            if r not in defined and r not in extra:
                raise ValueError(f"field '{field}': names {{{{{r}}}}}, which is not a slot of this seed")

    check_refs(seed.instruction, "instruction")
    for i, c in enumerate(seed.solution):
        check_refs(c, f"solution.{i}")
    check_refs(seed.test, "test", BUILTIN_TEST_NAMES)
    for i, f in enumerate(seed.files):
        check_refs(f.path, f"files.{i}.path")
        if f.text is not None:
            check_refs(f.text, f"files.{i}.text")
        else:
            if f.gen not in GENERATORS:
                raise ValueError(f"field 'files.{i}.gen': unknown generator {f.gen!r}; known: {', '.join(sorted(GENERATORS))}")
            params = generator_params(f.gen)
            for k, v in f.args.items():
                if k not in params:
                    raise ValueError(f"field 'files.{i}.args.{k}': generator {f.gen} has no argument {k!r}; it takes {', '.join(params)}")
                check_refs(v, f"files.{i}.args.{k}")
    used: set[str] = set(refs(seed.instruction) + refs(seed.test))
    for text in [*seed.solution, *(spec.template or "" for spec in seed.slots.values())]:
        used.update(refs(text))
    used.update(spec.add[0] for spec in seed.slots.values() if spec.add)
    for f in seed.files:
        used.update(refs(f.path) + refs(f.text or ""))
        for v in f.args.values():
            used.update(refs(v))
    for name, spec in seed.slots.items():
        names = {name} | {f"{name}_{key}" for key in (spec.cases[0] if spec.cases else ())}
        if not names & used:
            raise ValueError(f"field 'slots.{name}': slot is never used")
    # a dry run renders two variants: catches bad generator arguments and unsafe rendered paths
    for index in (0, 1):
        render_variant(seed, random.Random(index), variant_id=f"{seed.id}-check", gen_seed=index)


def check_skill_template(skill: Skill) -> None:
    """The seed checks of :func:`check_seed` on a skill's template; raises ValueError('field ...')."""
    check_seed(skill_seed(skill), Taxonomy(skills=[skill]))


def load_seed_file(path: Path, taxonomy: Taxonomy) -> list[Seed]:
    data, root = load_yaml(path)
    sf = validate_file(path, data, root, SeedFile)
    out = []
    for i, s in enumerate(sf.seeds):
        line = node_line(root, ("seeds", i))
        domain = s.domain or sf.domain
        if domain is None:
            raise DataError(f"seed '{s.id}': field 'domain' is missing (set it on the seed or the file)", where=f"{path}:{line}")
        seed = Seed.model_validate({**s.model_dump(by_alias=True, exclude_none=True), "domain": domain,
                                    "origin": f"{path.name}:{line}"})
        try:
            check_seed(seed, taxonomy)
        except (ValueError, DataError) as e:
            msg = str(e)
            m = re.match(r"field '([^']+)'", msg)
            loc = ("seeds", i, *(int(x) if x.isdigit() else x for x in m.group(1).split("."))) if m else ("seeds", i)
            raise DataError(f"seed '{s.id}': {msg}", where=f"{path}:{node_line(root, loc)}")
        out.append(seed)
    return out


def load_seeds(directory: str | Path, taxonomy: Taxonomy, strict: bool = True,
               skipped: list[str] | None = None) -> list[Seed]:
    """Read and check every ``*.yaml`` under ``directory``; seeds sorted by id. A bad file raises
    DataError (or, with ``strict=False``, is skipped and its error appended to ``skipped``)."""
    seeds = _merge_files(
        directory,
        lambda path: [(s.id, s, s.origin, f"{path}:{s.origin.rsplit(':', 1)[1]}")
                      for s in load_seed_file(path, taxonomy)],
        lambda key, first, where: DataError(f"seed '{key}': field 'id': already defined at {first}", where=where),
        strict=strict, skipped=skipped,
    )
    if not seeds:
        raise DataError("no seeds found (expected *.yaml files with a 'seeds' list)", where=str(directory))
    return [seeds[k][0] for k in sorted(seeds)]
