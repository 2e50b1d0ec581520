"""``termcorpus ablate``: the training-trick ablation grid as queued DVC experiments.

The grid (``params_ablations.yaml``) names experiments, each a set of ``section.key: value``
overrides on top of ``params.yaml``; ``common`` overrides apply to every experiment (e.g. a smaller
scale for a quick grid). Every override is checked against the typed params before anything is
queued, so a typo fails in one line instead of in a queued run. Queuing is
``dvc exp run --queue -n NAME -S key=value ...``; running is ``dvc exp run --run-all``.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import yaml

from termcorpus.errors import ConfigError, TermcorpusError
from termcorpus.params import SECTIONS, parse_section, read_params_file
from termcorpus.report.dvc import ExpRow, exp_show, run_dvc

# Experiment names become git refs (refs/exps/...): keep them to a safe alphabet.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_PLAIN = re.compile(r"[A-Za-z0-9_./-]+")


@dataclass
class Ablation:
    """One named experiment of the grid."""

    name: str
    help: str
    overrides: dict[str, Any] = field(default_factory=dict)


@dataclass
class Grid:
    common: dict[str, Any]
    experiments: list[Ablation]

    def overrides_of(self, exp: Ablation) -> dict[str, Any]:
        """Common overrides, then the experiment's own (which win)."""
        return {**self.common, **exp.overrides}


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"must be a mapping of 'section.key: value', got {type(value).__name__}", where=where)
    for k in value:
        if not isinstance(k, str) or k.count(".") != 1:
            raise ConfigError(f"override key {k!r} must be 'section.key' (e.g. balance.fraction)", where=where)
    return dict(value)


def load_grid(path: Path) -> Grid:
    """Read the ablation grid; a malformed file fails with one line naming the entry."""
    path = Path(path)
    if not path.exists():
        raise ConfigError("file not found", where=str(path))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise ConfigError(f"invalid YAML ({getattr(e, 'problem', e)})",
                          where=f"{path}:{mark.line + 1}" if mark else str(path))
    if not isinstance(data, dict) or not isinstance(data.get("experiments"), dict) or not data["experiments"]:
        raise ConfigError("must hold an 'experiments' mapping of name -> {help, set}", where=str(path))
    unknown = sorted(set(data) - {"common", "experiments"})
    if unknown:
        raise ConfigError(f"unknown top-level key {unknown[0]!r}; expected 'common' and 'experiments'", where=str(path))
    exps = []
    for name, body in data["experiments"].items():
        where = f"{path}: experiments.{name}"
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ConfigError("experiment names are letters, digits, '.', '_' or '-' (a git ref)", where=where)
        body = body or {}
        if not isinstance(body, dict) or set(body) - {"help", "set"}:
            raise ConfigError("must be a mapping with 'help' and 'set'", where=where)
        exps.append(Ablation(name=name, help=str(body.get("help", "")),
                             overrides=_mapping(body.get("set"), where + ".set")))
    return Grid(common=_mapping(data.get("common"), f"{path}: common"), experiments=exps)


def check_overrides(overrides: dict[str, Any], params_path: Path, where: str) -> None:
    """Apply the overrides to params.yaml in memory and type-check every touched section."""
    data = copy.deepcopy(read_params_file(params_path))
    touched = set()
    for key, value in overrides.items():
        section, name = key.split(".", 1)
        if section not in SECTIONS:
            raise ConfigError(f"unknown params section {section!r} in {key!r}; known: {', '.join(SECTIONS)}", where=where)
        data.setdefault(section, {})
        if not isinstance(data[section], dict):
            raise ConfigError(f"params section {section!r} is not a mapping", where=str(params_path))
        data[section][name] = value
        touched.add(section)
    for section in sorted(touched):
        try:
            parse_section(section, data[section], SECTIONS[section], where=where)
        except ConfigError as e:
            raise ConfigError(str(e)) from None


def override_value(v: Any) -> str:
    """A value as DVC's ``-S key=value`` parses it back (Hydra override grammar)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, list):
        return "[" + ",".join(override_value(x) for x in v) + "]"
    if isinstance(v, str):
        plain = _PLAIN.fullmatch(v) and yaml.safe_load(v) == v  # 'true', '1.5' etc. must be quoted
        if plain:
            return v
        return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"
    raise ConfigError(f"override value {v!r} must be a scalar or a list")


def queue_args(name: str, overrides: dict[str, Any], *, force: bool = False) -> list[str]:
    """The ``dvc exp run --queue`` arguments of one experiment (sorted keys: stable commands)."""
    args = ["exp", "run", "--queue", "-n", name]
    if force:
        args.append("-f")
    for key in sorted(overrides):
        args += ["-S", f"{key}={override_value(overrides[key])}"]
    return args


def select(grid: Grid, only: Sequence[str]) -> list[Ablation]:
    if not only:
        return list(grid.experiments)
    names = {e.name for e in grid.experiments}
    missing = [n for n in only if n not in names]
    if missing:
        raise ConfigError(f"no experiment named {missing[0]!r} in the grid; known: {', '.join(sorted(names))}")
    return [e for e in grid.experiments if e.name in only]


@dataclass
class AblateResult:
    queued: list[str]
    commands: list[list[str]]
    rows: list[ExpRow] = field(default_factory=list)

    @property
    def failed(self) -> list[str]:
        return [r.name for r in self.rows if r.name in self.queued and r.state == "failed"]


def ablate(
    *,
    repo: Path,
    grid_path: Path,
    params_path: Path,
    only: Sequence[str] = (),
    extra: dict[str, Any] | None = None,
    run: bool = False,
    jobs: int = 1,
    force: bool = False,
    dry_run: bool = False,
) -> AblateResult:
    """Check, queue (and with ``run`` execute) the grid's experiments in ``repo``."""
    repo = Path(repo)
    grid = load_grid(grid_path)
    if extra:
        grid.common = {**grid.common, **extra}
    chosen = select(grid, only)
    plans = []
    for exp in chosen:
        ov = grid.overrides_of(exp)
        check_overrides(ov, params_path, where=f"{grid_path}: experiments.{exp.name}")
        plans.append((exp.name, queue_args(exp.name, ov, force=force)))
    result = AblateResult(queued=[n for n, _ in plans], commands=[a for _, a in plans])
    if dry_run:
        return result
    for _, args in plans:
        run_dvc(args, repo=repo)
    if run:
        result.commands.append(["exp", "run", "--run-all", "-j", str(jobs)])
        try:
            run_dvc(["exp", "run", "--run-all", "-j", str(jobs)], repo=repo, timeout_sec=24 * 3600)
        finally:
            stop_workers(repo)
        result.rows = exp_show(repo)
    return result


def stop_workers(repo: Path) -> None:
    """Ask idle queue workers to exit now instead of lingering (they are DVC's own processes)."""
    try:
        run_dvc(["queue", "stop"], repo=repo, timeout_sec=60)
    except TermcorpusError:
        pass  # nothing running: nothing to stop
