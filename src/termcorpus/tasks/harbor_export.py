"""Export a Task as a Harbor (Terminal-Bench 2.0) task directory.

Layout written by :func:`export_harbor`::

    instruction.md            the instruction (plus one newline)
    task.toml                 schema_version 1.4 (written with tomli-w); [metadata] difficulty /
                              category (= domain) / tags (= skills) and a [metadata.termcorpus]
                              table holding what Harbor has no key for (id, family, source, ...)
    environment/Dockerfile    generated: FROM the image, a non-root `agent` user, WORKDIR,
                              COPY files/ -> the workdir; a task with its own Dockerfile keeps it
                              (and its build context) as it is
    environment/files/...     the input files (the build context holds them)
    solution/solve.sh         the reference commands, one marked block per agent turn
    tests/test.sh (+ others)  the verifier, writing /logs/verifier/reward.txt

Harbor's linter rules it follows: ``[agent] user`` is non-root (``agent``, created by the
Dockerfile), ``[verifier] environment_mode = "shared"`` (the tests read what the agent left in its
environment) and ``network_mode`` says whether a task needs the network. The image-digest pin
is not written: images built offline have no registry digest. ``[environment] docker_image``
is written only for a task without input files and without its own Dockerfile (Harbor then
skips the Dockerfile, which would lose the input files).
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Sequence

import tomli_w

from termcorpus.errors import DataError
from termcorpus.records import Task
from termcorpus.tasks.taskfiles import INTEROP_VERSION, safe_dir_name

HARBOR_SCHEMA_VERSION = "1.4"
# Harbor's [agent] timeout bounds the whole agent run; a task records only the verifier's budget.
AGENT_TIMEOUT_FACTOR = 10.0
TURN_MARKER = "# termcorpus:turn"
AGENT_USER = "agent"


def _int64_ok(n: int) -> bool:
    return -(1 << 63) <= n < (1 << 63)


def task_toml(task: Task) -> str:
    env = task.environment
    tc: dict[str, object] = {
        "interop_version": INTEROP_VERSION,
        "schema_version": task.schema_version,
        "id": task.id,
        "family": task.family,
        "source": task.source,
        "binary_files": sorted(task.binary_files),
        "own_dockerfile": bool(env.dockerfile),
        "eval_set": task.eval_set,
    }
    if task.generator is not None:
        g = task.generator
        # TOML integers are 64-bit: a larger seed travels as a string.
        tc["generator"] = {"name": g.name, "version": g.version,
                           "seed": g.seed if _int64_ok(g.seed) else str(g.seed)}
    tc["slots"] = dict(task.slots)
    environment: dict[str, object] = {}
    if not task.files and not task.binary_files and not env.dockerfile:
        environment["docker_image"] = env.image
    environment.update(memory_mb=env.memory_mb, workdir=env.workdir,
                       network_mode="public" if env.network else "no-network")
    data = {
        "schema_version": HARBOR_SCHEMA_VERSION,
        "source": "termcorpus",
        "metadata": {"difficulty": task.difficulty, "category": task.domain, "tags": list(task.skills),
                     "termcorpus": tc},
        "verifier": {"timeout_sec": float(env.timeout_sec), "environment_mode": "shared"},
        "agent": {"timeout_sec": float(env.timeout_sec) * AGENT_TIMEOUT_FACTOR, "user": AGENT_USER},
        "environment": environment,
    }
    return tomli_w.dumps(data)


def solve_sh(task: Task) -> str:
    lines = [
        "#!/bin/bash",
        f"# termcorpus reference solution of {task.id}: each marked block is one agent turn.",
    ]
    for i, cmd in enumerate(task.solution, 1):
        if any(line.startswith(TURN_MARKER) for line in cmd.splitlines()):
            raise DataError(f"solution[{i - 1}] contains the turn marker line {TURN_MARKER!r}",
                            where=f"task {task.id}")
        # One newline after every command; the import removes exactly one, so a command that
        # ends in its own newline keeps it.
        lines.append(f"{TURN_MARKER} {i}")
        lines.append(cmd)
    return "\n".join(lines) + "\n"


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    # Scripts keep their exec bit, as write_task_files gives them in the sandbox.
    os.chmod(path, 0o755 if data.startswith(b"#!") or path.suffix == ".sh" else 0o644)


def _dockerfile(task: Task) -> str:
    env = task.environment
    workdir = env.workdir.rstrip("/") or "/"
    lines = [f"# Built by termcorpus for task {task.id}; the input files are under files/.",
             f"FROM {env.image}",
             # Harbor's linter wants a non-root agent: the image gets one (uid 1000, as in our sandboxes).
             f"RUN id -u {AGENT_USER} >/dev/null 2>&1 || useradd -m -u 1000 {AGENT_USER}",
             f"WORKDIR {workdir}"]
    if task.files or task.binary_files:
        lines.append(f"COPY --chown={AGENT_USER}:{AGENT_USER} files/ {workdir.rstrip('/')}/")
    return "\n".join(lines) + "\n"


def _b64(data: str, what: str, task: Task) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except ValueError:
        raise DataError(f"{what} is not valid base64", where=f"task {task.id}")


def export_harbor(task: Task, dir: str | Path) -> Path:
    """Write ``task`` as a Harbor task directory at ``dir`` (created; must be empty); return it."""
    out = Path(dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise DataError("exists and is not an empty directory", where=str(out))
    both = sorted(set(task.files) & set(task.binary_files))
    if both:
        raise DataError(f"path {both[0]!r} is both a text and a binary file", where=f"task {task.id}")
    env = task.environment
    if env.dockerfile and (task.files or task.binary_files):
        raise DataError("a task with its own Dockerfile keeps its input files in the build context, "
                        "not in files", where=f"task {task.id}")
    out.mkdir(parents=True, exist_ok=True)
    _write(out / "instruction.md", (task.instruction + "\n").encode("utf-8"))
    _write(out / "task.toml", task_toml(task).encode("utf-8"))
    if env.dockerfile:
        if "Dockerfile" in env.build_context:
            raise DataError("build_context holds a file named Dockerfile", where=f"task {task.id}")
        _write(out / "environment" / "Dockerfile", env.dockerfile.encode("utf-8"))
        for rel, b64 in sorted(env.build_context.items()):
            _write(out / "environment" / rel, _b64(b64, f"build_context[{rel!r}]", task))
    else:
        _write(out / "environment" / "Dockerfile", _dockerfile(task).encode("utf-8"))
    for rel, text in sorted(task.files.items()):
        _write(out / "environment" / "files" / rel, text.encode("utf-8"))
    for rel, b64 in sorted(task.binary_files.items()):
        _write(out / "environment" / "files" / rel, _b64(b64, f"binary_files[{rel!r}]", task))
    _write(out / "solution" / "solve.sh", solve_sh(task).encode("utf-8"))
    for rel, text in sorted(task.tests.items()):
        _write(out / "tests" / rel, text.encode("utf-8"))
    return out


def export_many(tasks: Sequence[Task], out_dir: str | Path, *, limit: int = 0) -> list[Path]:
    """Export tasks as ``out_dir/<task id>/`` (the first ``limit`` when it is > 0)."""
    chosen = list(tasks[:limit] if limit > 0 else tasks)
    names = [safe_dir_name(t.id) for t in chosen]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise DataError(f"two tasks share the id {dup!r}: their directories would collide")
    return [export_harbor(t, Path(out_dir) / n) for t, n in zip(chosen, names)]
