"""The generate stage's library function: seeds (+ taxonomy) -> training and held-out tasks.

For each selected seed, variant indexes ``0 .. n_variants-1`` become the training pool and
``n_variants .. n_variants+n_heldout_variants-1`` the held-out variants of the same family
(``eval_set: heldout_variants``). A variant whose (instruction, test) pair repeats an earlier one
is redrawn (same index, next attempt); a held-out variant must also differ in instruction,
solution and test from every training variant of its family, so evaluation never shows the
model a task text it was trained on. Variants that stay duplicates after ``MAX_ATTEMPTS`` draws
are dropped and counted under ``drops.duplicate``.

``heldout_families`` seeds are held out whole (``eval_set: heldout_families``, never in the
training pool) and ``novel_names`` tasks are drawn from trained templates with made-up names;
at the end every held-out task that shares an instruction, a solution, a test file or a 14-gram
instance with training is dropped with a counted reason (generate/heldout.py).

Custom skills (a skill file entry with a ``template``, docs/SKILLS.md) are rendered the same way,
as families ``custom-<skill id>``. Skill-based composition (``skill_tasks > 0``) appends composed
tasks to the training pool.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from tqdm import tqdm

from termcorpus.generate.compose import compose_split, composable
from termcorpus.generate.heldout import choose_heldout_families, clean_split, novel_name_tasks, training_words
from termcorpus.generate.mutate import render_variant, variant_seed
from termcorpus.records import Task
from termcorpus.tasks.seeds import Seed, custom_family, round_robin_by_domain, skill_seed
from termcorpus.tasks.skills import Taxonomy

MAX_ATTEMPTS = 20


@dataclass
class GenerateResult:
    tasks: list[Task]
    heldout: list[Task]
    drops: Counter = field(default_factory=Counter)
    n_seeds: int = 0
    n_custom_skills: int = 0

    def metrics(self) -> dict[str, object]:
        """Counts for metrics/generate.json (deterministic: no timings)."""
        everything = self.tasks + self.heldout

        def count(tasks: Iterable[Task], key) -> dict[str, int]:  # type: ignore[no-untyped-def]
            return dict(sorted(Counter(k for t in tasks for k in key(t)).items()))

        distinct = len({t.instruction for t in everything})
        return {
            "n_seeds": self.n_seeds,
            "n_custom_skills": self.n_custom_skills,
            "n_tasks": len(self.tasks),
            "n_heldout": len(self.heldout),
            "n_families": len({t.family for t in everything}),
            "tasks_by_domain": count(self.tasks, lambda t: [t.domain]),
            "heldout_by_domain": count(self.heldout, lambda t: [t.domain]),
            "heldout_by_set": count(self.heldout, lambda t: [t.eval_set]),
            "tasks_by_skill": count(self.tasks, lambda t: t.skills),
            "tasks_by_source": count(self.tasks, lambda t: [t.source]),
            "tasks_by_difficulty": count(self.tasks, lambda t: [t.difficulty]),
            "distinct_variant_ratio": round(distinct / len(everything), 6) if everything else 0.0,
            "drops": {k: self.drops[k] for k in sorted(self.drops)},
            "composed": self.composed_metrics(),
        }

    def composed_metrics(self) -> dict[str, object]:
        """Headline counts of skill-composed tasks (per-skill counts: :meth:`detail`)."""
        comp = [t for t in self.tasks if t.source == "skill" and t.generator and t.generator.name == "skill_composition"]
        held = [t for t in self.heldout if t.eval_set.startswith("heldout_compositions")]
        count = lambda ts, key: dict(sorted(Counter(key(t) for t in ts).items()))  # noqa: E731
        return {
            "n_tasks": len(comp),
            "fraction_of_training": round(len(comp) / len(self.tasks), 4) if self.tasks else 0.0,
            "n_skills_used": len({s for t in comp for s in t.skills}),
            "by_domain": count(comp, lambda t: t.domain),
            "by_n_steps": count(comp, lambda t: str(len(t.skills))),
            "obs_dependent_fraction": round(sum(bool(t.obs_dependent_steps) for t in comp) / len(comp), 4) if comp else 0.0,
            "heldout_by_set": count(held, lambda t: t.eval_set),
        }

    def detail(self) -> dict[str, object]:
        """Per-skill / per-domain / per-step detail for reports/generate_detail.json."""
        comp = [t for t in self.tasks if t.source == "skill" and t.generator and t.generator.name == "skill_composition"]
        held = [t for t in self.heldout if t.eval_set.startswith("heldout_compositions")]

        def per(ts: list[Task], key) -> dict[str, int]:  # type: ignore[no-untyped-def]
            c: Counter = Counter()
            for t in ts:
                c.update(key(t))
            return dict(sorted(c.items()))

        return {
            "composed_tasks_by_skill": per(comp, lambda t: t.skills),
            "composed_obs_dependent_by_skill": per(comp, lambda t: [t.skills[i] for i in t.obs_dependent_steps]),
            "composed_by_domain_and_steps": per(comp, lambda t: [f"{t.domain}:{len(t.skills)}"]),
            "heldout_compositions_by_skill": per(held, lambda t: t.skills),
            "heldout_compositions_by_set_and_steps": per(held, lambda t: [f"{t.eval_set}:{len(t.skills)}"]),
        }


def select_seeds(seeds: Sequence[Seed], *, domains: Sequence[str] = (), max_seeds: int = 0) -> list[Seed]:
    """Seeds of the wanted domains; with ``max_seeds``, taken round-robin over the domains (in
    records.DOMAINS order, seeds by id) so a quick run still covers every domain."""
    chosen = [s for s in seeds if not domains or s.domain in domains]
    if not max_seeds or max_seeds >= len(chosen):
        return sorted(chosen, key=lambda s: s.id)
    return round_robin_by_domain(chosen, max_seeds, key=lambda s: s.id)


def _key(task: Task) -> str:
    h = hashlib.sha256(task.instruction.encode("utf-8"))
    h.update(b"\0")
    h.update(task.tests["test.sh"].encode("utf-8"))
    return h.hexdigest()


def variants_of(seed: Seed, *, gen_seed: int, n_variants: int, n_heldout: int,
                drops: Counter, family: str | None = None, source: str = "seed",
                eval_set: str = "heldout_variants") -> tuple[list[Task], list[Task]]:
    """The training and held-out variants of one seed (``seed.weight`` x ``n_variants`` training
    ones; or, with ``family``/``source``, of a
    custom skill's template: the family also keys the random stream and names the variants)."""
    name = family or seed.id
    seen: set[str] = set()
    train_instructions: set[str] = set()
    train_solutions: set[str] = set()
    train_tests: set[str] = set()
    train: list[Task] = []
    held: list[Task] = []
    n_variants *= seed.weight
    for index in range(n_variants + n_heldout):
        heldout = index >= n_variants
        for attempt in range(MAX_ATTEMPTS):
            vs = variant_seed(gen_seed, name, index, attempt)
            try:
                task = render_variant(seed, random.Random(vs), variant_id=f"{name}-v{index:04d}", gen_seed=vs,
                                      family=family, source=source)
            except ValueError:
                drops["render_error"] += 1
                continue
            key = _key(task)
            solution = "\n".join(task.solution)
            if key in seen or (heldout and (task.instruction in train_instructions or solution in train_solutions
                                            or task.tests["test.sh"] in train_tests)):
                continue
            seen.add(key)
            if heldout:
                held.append(task.model_copy(update={"eval_set": eval_set}))
            else:
                train.append(task)
                train_instructions.add(task.instruction)
                train_solutions.add(solution)
                train_tests.add(task.tests["test.sh"])
            break
        else:
            drops["duplicate"] += 1
    return train, held


def generate_tasks(seeds: Sequence[Seed], taxonomy: Taxonomy, *, seed: int, n_variants: int,
                   n_heldout_variants: int, skill_tasks: int = 0, skill_singles: int = 0, min_skills: int = 3,
                   max_skills: int = 5,
                   domains: Sequence[str] = (), max_seeds: int = 0, seed_tasks: bool = True,
                   custom_skills: bool = False, heldout_compositions: int = 0, heldout_novel_pairs: int = 0,
                   reserved_pair_pct: int = 0, adapter_tasks: Sequence[Task] = (), heldout_families: int = 0,
                   heldout_family_variants: int = 5, novel_names: int = 0) -> GenerateResult:
    """Seed-based mutation (+ optional skill composition); same arguments, same tasks.

    ``seed_tasks=False`` leaves the seed variants out of the training pool (a skill-only corpus
    for the seed/skill ablation) but still makes their held-out variants.
    ``custom_skills`` renders every skill that carries a ``template`` (of the selected domains)
    like a seed, as family ``custom-<skill id>`` with source ``skill`` (docs/SKILLS.md); the
    generate stage turns it on through ``generate.custom_skills`` (default true).
    ``adapter_tasks`` (the seed stage's dataset-adapter tasks, tasks/adapters.py) join the
    training pool as they are, after the generated ones.
    ``heldout_families`` seeds give ``heldout_family_variants`` held-out tasks each and no
    training task; ``novel_names`` tasks come from trained templates (generate/heldout.py).
    ``skill_singles`` one-skill tasks (compose.py) join the composed training tasks.
    """
    # A custom skill's template is rendered like a seed; it also takes part in the round-robin
    # of ``max_seeds``, so a quick run stays as small as asked.
    custom = [skill_seed(s) for s in taxonomy.skills if s.template is not None] if custom_skills else []
    custom_ids = {id(s) for s in custom}
    chosen = select_seeds([*seeds, *custom], domains=domains, max_seeds=max_seeds)
    n_custom = sum(id(s) in custom_ids for s in chosen)
    result = GenerateResult(tasks=[], heldout=[], n_seeds=len(chosen) - n_custom, n_custom_skills=n_custom)
    held_out = {s.id for s in choose_heldout_families([s for s in chosen if id(s) not in custom_ids],
                                                       heldout_families, seed)}
    for s in tqdm(chosen, desc="generate", unit="seed", disable=None):
        is_custom = id(s) in custom_ids
        if not is_custom and s.id in held_out:
            # a whole family kept out of training: all its variants are evaluation tasks
            _, held = variants_of(s, gen_seed=seed, n_variants=0, n_heldout=heldout_family_variants,
                                  drops=result.drops, eval_set="heldout_families")
            result.heldout.extend(held)
            continue
        train, held = variants_of(s, gen_seed=seed, n_variants=n_variants, n_heldout=n_heldout_variants,
                                  drops=result.drops, family=custom_family(s.id) if is_custom else None,
                                  source="skill" if is_custom else "seed")
        if seed_tasks or is_custom:
            result.tasks.extend(train)
        result.heldout.extend(held)
    if skill_tasks:
        # composed tasks (generate/compose.py); the held-out composition sets go with the other
        # held-out tasks, labelled by eval_set
        skills = [s for s in taxonomy.skills if not domains or s.domain in domains]
        if len(composable(skills)) < min_skills:
            result.drops["skill_pool_too_small"] += skill_tasks
        else:
            seen = {_key(t) for t in result.tasks}
            train, held = compose_split(skills, gen_seed=seed, n_train=skill_tasks, n_heldout=heldout_compositions,
                                        n_novel_pairs=heldout_novel_pairs, min_skills=min_skills,
                                        max_skills=max_skills, reserve_pct=reserved_pair_pct, drops=result.drops,
                                        n_singles=skill_singles)
            for task in train:
                if _key(task) in seen:
                    result.drops["duplicate"] += 1
                else:
                    seen.add(_key(task))
                    result.tasks.append(task)
            result.heldout.extend(held)
    result.tasks.extend(adapter_tasks)
    # The training pool is complete: novel names are checked against all of its text.
    if novel_names and seed_tasks:
        trained = [s for s in chosen if id(s) not in custom_ids and s.id not in held_out]
        result.heldout.extend(novel_name_tasks(trained, novel_names, seed, training_words(result.tasks), result.drops))
    # Clean splits: no held-out task shares an instruction, a solution, a test file or a
    # 14-gram instance with training (dropped and counted otherwise).
    result.heldout = clean_split(result.tasks, result.heldout, result.drops)
    return result
