"""Import a Terminal-Bench 1 task directory as a Task.

Read: ``task.yaml`` (instruction, or the older ``descriptions`` list; difficulty, category,
tags, ``max_test_timeout_sec``), the ``Dockerfile`` with its build context (``docker-compose.yaml``
may name another context folder and Dockerfile), ``solution.sh`` or ``solution.yaml`` (keystroke
batches ``{command, min_timeout_sec, block, append_enter}``), ``run-tests.sh`` and ``tests/`` with
its helper files.

The environment stays a Dockerfile (``environment.dockerfile`` + the context files its COPY/ADD
name) that the sandbox builds; the WORKDIR it ends in is the task's working directory. The
verifier script (package data ``data/tb_test.sh``) runs ``tests/test_*.py`` under real pytest in
that directory, from the tests copied to /tests after the agent stops; without Python tests it
runs ``run-tests.sh``.
"""

from __future__ import annotations

import base64
import fnmatch
import shlex
from importlib import resources
from pathlib import Path, PurePosixPath
from string import Template
from typing import Any

import yaml

from termcorpus.errors import DataError
from termcorpus.records import Environment, GeneratorInfo, Task
from termcorpus.tasks.dockerfile import context_files, final_workdir, parse_dockerfile
from termcorpus.tasks.taskfiles import (
    INTEROP_VERSION, build_task, difficulty, domain, is_inside, read_text, script_command, tags,
    tests_from, timeout,
)


def _yaml(path: Path, root: Path) -> Any:
    try:
        return yaml.safe_load(read_text(path, root, path.name))
    except yaml.YAMLError as e:
        raise DataError(f"invalid YAML ({e})", where=str(path))


def tb_instruction(cfg: dict[str, Any], where: Path) -> str:
    if isinstance(cfg.get("instruction"), str):
        return cfg["instruction"].strip()
    for d in cfg.get("descriptions") or []:  # older Terminal-Bench 1 layout
        if isinstance(d, dict) and d.get("key", "base") == "base" and isinstance(d.get("description"), str):
            return d["description"].strip()
    raise DataError("task.yaml has no 'instruction' text", where=str(where))


def tb_context(path: Path, root: Path) -> tuple[Path, Path]:
    """(Dockerfile, build context) of a Terminal-Bench task; docker-compose.yaml may move them."""
    context, dockerfile_name = path, "Dockerfile"
    compose = next((path / n for n in ("docker-compose.yaml", "docker-compose.yml") if (path / n).is_file()), None)
    if compose is not None:
        data = _yaml(compose, root) or {}
        services = data.get("services") if isinstance(data, dict) else None
        for svc in (services or {}).values():
            build = svc.get("build") if isinstance(svc, dict) else None
            if isinstance(build, str):
                build = {"context": build}
            if isinstance(build, dict):
                ctx = str(build.get("context", "."))
                if ctx.startswith("/") or ".." in PurePosixPath(ctx).parts:
                    raise DataError(f"build context {ctx!r} is outside the task", where=str(compose))
                context = path / ctx
                dockerfile_name = str(build.get("dockerfile", "Dockerfile"))
                if dockerfile_name.startswith("/") or ".." in PurePosixPath(dockerfile_name).parts:
                    raise DataError(f"dockerfile {dockerfile_name!r} is outside the build context", where=str(compose))
                break
    if not is_inside(context.resolve(), root):
        raise DataError("build context is outside the task", where=str(path))
    return context / dockerfile_name, context


def solution_from_yaml(path: Path, root: Path, notes: list[str]) -> list[str]:
    """Keystroke batches as agent commands: ``append_enter: false`` keys are typed ahead of the
    next batch (the same line); ``block: false`` runs the batch in the background and waits
    ``min_timeout_sec`` (a server the next step talks to)."""
    steps = _yaml(path, root)
    if not isinstance(steps, list):
        raise DataError("must be a list of {command, ...} steps", where=str(path))
    out: list[str] = []
    pending = ""
    for i, step in enumerate(steps):
        if not isinstance(step, dict) or not isinstance(step.get("command"), str):
            raise DataError(f"step {i}: expected a mapping with a 'command' string", where=str(path))
        cmd = pending + step["command"]
        pending = ""
        if step.get("append_enter", True) is False:
            pending = cmd
            continue
        cmd = cmd.rstrip("\n")
        if step.get("block", True) is False:
            wait = timeout(step.get("min_timeout_sec"), 1.0)
            cmd = f"{{ {cmd.rstrip(';&')} ; }} >/tmp/termcorpus-bg-{i}.log 2>&1 &\nsleep {wait:g}"
        out.append(cmd)
    if pending:
        notes.append(f"{path}: the last batch has append_enter: false; sent as a command")
        out.append(pending)
    return out


def _test_sh(task_id: str, workdir: str, test_files: list[str], has_run_tests: bool) -> str:
    if test_files:
        args = " ".join(f'"$TEST_DIR"/{shlex.quote(f)}' for f in test_files)
        run = f"pytest -rA -p no:cacheprovider {args}"
    else:
        run = 'bash "$TEST_DIR/run-tests.sh"' if has_run_tests else "false"
    tmpl = resources.files("termcorpus.tasks").joinpath("data/tb_test.sh").read_text(encoding="utf-8")
    return Template(tmpl).substitute(task_id=task_id, workdir=workdir, run=run)


def import_terminal_bench(path: Path, notes: list[str]) -> Task:
    root = path.resolve()
    yaml_path = path / "task.yaml" if (path / "task.yaml").is_file() else path / "task.yml"
    cfg = _yaml(yaml_path, root) or {}
    if not isinstance(cfg, dict):
        raise DataError("must be a mapping", where=str(yaml_path))
    instruction = tb_instruction(cfg, yaml_path)

    dockerfile, context = tb_context(path, root)
    if not dockerfile.is_file():
        raise DataError(f"missing {dockerfile.relative_to(path).as_posix()}", where=str(path))
    shown = dockerfile.relative_to(path).as_posix()
    dtext = read_text(dockerfile, root, shown)
    steps = parse_dockerfile(dtext, str(dockerfile))
    ctx = context_files(steps, context, root, shown)
    workdir = final_workdir(steps)
    image = next(s.value.split()[0] for s in steps if s.kw == "FROM")

    if (path / "solution.yaml").is_file():
        solution = solution_from_yaml(path / "solution.yaml", root, notes)
    elif (path / "solution.sh").is_file():
        solution = [script_command(read_text(path / "solution.sh", root, "solution.sh"))]
    else:
        solution = []
        notes.append(f"{path}: no solution.sh or solution.yaml (the oracle cannot pass)")

    tests = tests_from(path / "tests", root) if (path / "tests").is_dir() else {}
    has_run_tests = (path / "run-tests.sh").is_file()
    if has_run_tests and "run-tests.sh" not in tests:
        tests["run-tests.sh"] = read_text(path / "run-tests.sh", root, "run-tests.sh")
    if "test.sh" in tests:
        raise DataError("tests/ already holds test.sh; termcorpus writes its own", where=str(path))
    test_files = sorted(r for r in tests if fnmatch.fnmatch(PurePosixPath(r).name, "test_*.py")
                        or fnmatch.fnmatch(PurePosixPath(r).name, "*_test.py"))
    if not test_files and not has_run_tests:
        raise DataError("has no tests (no tests/test_*.py and no run-tests.sh)", where=str(path))
    tests["test.sh"] = _test_sh(path.name, workdir, test_files, has_run_tests)

    where = str(yaml_path)
    return build_task(
        yaml_path, id=path.name, family=path.name, source="import",
        domain=domain(cfg.get("category"), notes, where),
        skills=tags(cfg.get("tags")),
        difficulty=difficulty(cfg.get("difficulty"), notes, where),
        instruction=instruction, solution=solution, tests=tests,
        environment=Environment(
            image=image, workdir=workdir,
            timeout_sec=timeout(cfg.get("max_test_timeout_sec"), 60.0), network=False,
            dockerfile=dtext,
            build_context={r: base64.b64encode(d).decode("ascii") for r, d in ctx.items()},
        ),
        generator=GeneratorInfo(name="import:terminal-bench", version=INTEROP_VERSION, seed=0),
    )
