"""Stage `seed`: check the human-written seeds and skills, write them normalized, run the adapters.

The dataset adapters of ``seed.adapters`` (tasks/adapters.py) run here: each record becomes a
task, built by running its gold command or reference program once in the bwrap sandbox.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from termcorpus.params import SeedParams
from termcorpus.records import write_jsonl
from termcorpus.sandbox import SandboxConfig
from termcorpus.execute.adapters import build_tasks
from termcorpus.generate.catalog import build_catalog, write_catalog
from termcorpus.tracking.metrics import write_stage_metrics


# The path options of stages/seed.py (runtime.run_stage): parameter of run -> help text.
PATHS: dict[str, str] = {
    "seeds": "Directory of seed YAML files.",
    "skills": "Directory of skill YAML files.",
    "out": "Normalized seeds (JSONL) to write.",
    "taxonomy_out": "Normalized skill taxonomy (JSON) to write.",
    "adapter_out": "Tasks of the dataset adapters (JSONL) to write (without it the adapters of seed.adapters are not run).",
    "metrics": "Metrics JSON to write.",
    "detail": "Write the full metrics (per-domain/skill detail) to this JSON; --metrics gets the headline.",
}


def run(*, seeds: Path, skills: Path, out: Path, taxonomy_out: Path, metrics: Path,
        adapter_out: Path | None = None, detail: Path | None = None, params: SeedParams) -> dict[str, Any]:
    """Write the normalized seeds, the taxonomy, the adapter tasks (only with ``adapter_out``) and
    the metrics; return the metrics."""
    catalog = build_catalog(seeds_dir=seeds, skills_dir=skills, strict=params.strict)
    for problem in catalog.skipped:
        print(f"warning: skipped {problem}", file=sys.stderr)
    sources = params.adapters if adapter_out else []
    if params.adapters and not sources:
        print("note: seed.adapters not run (no --adapter-out given)", file=sys.stderr)
    # Adapters first: a bad source stops the stage before any out is written.
    adapted = build_tasks(sources, SandboxConfig(backend="bwrap"), strict=params.strict,
                          known_skills={s.id for s in catalog.taxonomy.skills})
    write_catalog(catalog, seeds_out=out, taxonomy_out=taxonomy_out)
    if adapter_out:
        write_jsonl(adapter_out, adapted.tasks)
    result = {**catalog.metrics(), **adapted.metrics()}
    write_stage_metrics("seed", result, metrics, detail)
    print(f"seed: {len(catalog.seeds)} seeds, {len(catalog.taxonomy.skills)} skills, "
          f"{len(adapted.tasks)} adapter tasks", file=sys.stderr)
    return result
