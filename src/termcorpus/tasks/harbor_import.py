"""Import a Harbor (Terminal-Bench 2.0) task directory as a Task.

* A directory this project exported (``[metadata.termcorpus]`` present) comes back equal to the
  exported Task: input files from ``environment/files/``, the solution split at its turn markers.
* A directory written by others keeps its environment as it is: ``environment/Dockerfile`` and
  the build-context files its COPY/ADD steps name become ``environment.dockerfile`` /
  ``environment.build_context``, which the sandbox builds (bwrap: a cached layer; docker:
  ``docker build``). ``[environment] docker_image`` without a Dockerfile becomes ``FROM <image>``.
  ``solution/`` is put at ``/solution`` by the first solution command and ``solve.sh`` runs from
  there; ``tests/test.sh`` writes ``/logs/verifier/reward.txt`` or ``reward.json``.
"""

from __future__ import annotations

import base64
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

from termcorpus.errors import DataError
from termcorpus.records import Environment, GeneratorInfo, Task
from termcorpus.tasks.dockerfile import context_files, final_workdir, parse_dockerfile
from termcorpus.tasks.harbor_export import TURN_MARKER
from termcorpus.tasks.taskfiles import (
    INTEROP_VERSION, build_task, difficulty, domain, read_text, read_tree, strip_one_newline, tags,
    tests_from, text, timeout, to_int,
)

_FILES_EOF = "TERMCORPUS_FILE_EOF"


def load_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(read_text(path, path.parent.resolve(), path.name))
    except tomllib.TOMLDecodeError as e:
        raise DataError(f"invalid TOML ({e})", where=str(path))


def _table(data: dict[str, Any], key: str, where: Path) -> dict[str, Any]:
    v = data.get(key, {})
    if not isinstance(v, dict):
        raise DataError(f"'{key}' must be a table", where=str(where))
    return v


def split_marked(script: str) -> list[str] | None:
    """Commands of a solve.sh written by export_harbor, or None when it has no turn markers."""
    lines = script.split("\n")
    idx = [i for i, line in enumerate(lines) if re.fullmatch(re.escape(TURN_MARKER) + r" \d+", line)]
    if not idx:
        return None
    bounds = idx[1:] + [len(lines)]
    # export wrote "<command>\n" after each marker: the lines up to the next marker, joined,
    # give the command back (the file's last newline leaves one extra '' at the end).
    commands = ["\n".join(lines[a + 1:b]) for a, b in zip(idx, bounds)]
    commands[-1] = strip_one_newline(commands[-1])
    return commands


def put_files_command(target: str, files: dict[str, bytes]) -> str:
    """One shell command writing ``files`` under ``target`` (how the oracle gets /solution)."""
    lines = [f"mkdir -p {shlex.quote(target)}"]
    for rel, data in sorted(files.items()):
        dest = f"{target.rstrip('/')}/{rel}"
        lines.append(f"mkdir -p {shlex.quote(str(Path(dest).parent))}")
        lines.append(f"base64 -d > {shlex.quote(dest)} <<'{_FILES_EOF}'")
        lines.append(base64.b64encode(data).decode("ascii"))
        lines.append(_FILES_EOF)
        if data.startswith(b"#!") or rel.endswith(".sh"):
            lines.append(f"chmod +x {shlex.quote(dest)}")
    return "\n".join(lines)


def _own_export(path: Path, root: Path, tc: dict[str, Any], toml_path: Path) -> dict[str, Any]:
    """Files and environment of a directory this project exported."""
    files: dict[str, str] = {}
    binary: dict[str, str] = {}
    listed = tc.get("binary_files", [])
    if not isinstance(listed, list) or not all(isinstance(r, str) for r in listed):
        raise DataError("'metadata.termcorpus.binary_files' must be a list of paths", where=str(toml_path))
    fdir = path / "environment" / "files"
    if fdir.is_dir() and not tc.get("own_dockerfile"):
        for rel, data in read_tree(fdir, root, "environment/files").items():
            if rel in listed:
                binary[rel] = base64.b64encode(data).decode("ascii")
            else:
                files[rel] = text(data, f"environment/files/{rel}")
    return {"files": files, "binary_files": binary}


def import_harbor(path: Path, notes: list[str]) -> Task:
    root = path.resolve()
    toml_path = path / "task.toml"
    cfg = load_toml(toml_path)
    meta = _table(cfg, "metadata", toml_path)
    tc = meta.get("termcorpus") if isinstance(meta.get("termcorpus"), dict) else None
    verifier = _table(cfg, "verifier", toml_path)
    env_cfg = _table(cfg, "environment", toml_path)
    if not (path / "instruction.md").is_file():
        raise DataError("missing instruction.md", where=str(path))
    instruction = strip_one_newline(read_text(path / "instruction.md", root, "instruction.md"))
    if tc is None:
        instruction = instruction.strip()

    dockerfile_path = path / "environment" / "Dockerfile"
    image = str(env_cfg.get("docker_image") or "")
    has_dockerfile = dockerfile_path.is_file() or dockerfile_path.is_symlink()
    if not has_dockerfile and not image:
        raise DataError("has neither environment/Dockerfile nor [environment] docker_image", where=str(path))
    own = tc is not None and not tc.get("own_dockerfile")
    env_fields: dict[str, Any] = {}
    content: dict[str, Any] = {"files": {}, "binary_files": {}}
    if own:
        content = _own_export(path, root, tc, toml_path)
        if has_dockerfile:
            # Not built (the files come from environment/files), but still checked: an edited
            # Dockerfile that reaches outside the task is refused like a foreign one.
            df = parse_dockerfile(read_text(dockerfile_path, root, "environment/Dockerfile"),
                                  str(dockerfile_path))
            context_files(df, path / "environment", root, "environment/Dockerfile")
            image = image or next(s.value.split()[0] for s in df if s.kw == "FROM")
    else:
        if has_dockerfile:
            dtext = read_text(dockerfile_path, root, "environment/Dockerfile")
            steps = parse_dockerfile(dtext, str(dockerfile_path))
            ctx = context_files(steps, path / "environment", root, "environment/Dockerfile")
            ctx.pop("Dockerfile", None)
            if image:
                notes.append(f"{path}: [environment] docker_image {image} honoured as the base of the Dockerfile's build")
            image = image or next(s.value.split()[0] for s in steps if s.kw == "FROM")
            if not env_cfg.get("workdir"):
                env_cfg = {**env_cfg, "workdir": final_workdir(steps)}
        else:
            # A prebuilt image only: its name is the base; the sandbox builds that one line.
            dtext, ctx = f"FROM {image}\n", {}
            notes.append(f"{path}: docker_image {image} without a Dockerfile: bwrap runs the host base "
                         "system under that name; the docker backend pulls the image")
        env_fields = {"dockerfile": dtext,
                      "build_context": {r: base64.b64encode(d).decode("ascii") for r, d in ctx.items()}}
    if (path / "environment" / "docker-compose.yaml").exists():
        notes.append(f"{path}: environment/docker-compose.yaml (extra services) is ignored")

    solve = path / "solution" / "solve.sh"
    solution: list[str] = []
    if solve.is_file() or solve.is_symlink():
        if tc is not None:
            solution = split_marked(read_text(solve, root, "solution/solve.sh")) or []
        else:
            sol_files = read_tree(path / "solution", root, "solution")
            solution = [put_files_command("/solution", sol_files), "bash /solution/solve.sh"]
    else:
        notes.append(f"{path}: no solution/solve.sh (the oracle cannot pass)")

    if not (path / "tests").is_dir():
        raise DataError("missing tests/ directory", where=str(path))
    tests = tests_from(path / "tests", root)
    if "test.sh" not in tests:
        raise DataError("tests/ has no test.sh", where=str(path))

    where = str(toml_path)
    workdir = str(env_cfg.get("workdir") or "")
    common = dict(
        domain=domain(meta.get("category"), notes, where),
        skills=tags(meta.get("tags")),
        difficulty=difficulty(meta.get("difficulty"), notes, where),
        instruction=instruction, solution=solution, tests=tests, **content,
        environment=Environment(
            image=image or Environment().image, workdir=workdir or "/app",
            timeout_sec=timeout(verifier.get("timeout_sec"), Environment().timeout_sec),
            memory_mb=min(max(to_int(env_cfg.get("memory_mb"), Environment().memory_mb), 16), 65536),
            network=str(env_cfg.get("network_mode", "no-network")) == "public"
            or bool(env_cfg.get("allow_internet", False)),
            **env_fields,
        ),
    )
    if tc is not None:
        gen = tc.get("generator")
        if isinstance(gen, dict):
            gen = dict(gen)
            try:
                gen["seed"] = int(gen.get("seed", 0))  # a seed past 64 bits travels as a string
            except (TypeError, ValueError):
                raise DataError("'metadata.termcorpus.generator.seed' must be an integer", where=str(toml_path))
        return build_task(toml_path, schema_version=str(tc.get("schema_version", "1.0")), id=tc.get("id"),
                          family=tc.get("family"), source=tc.get("source"), eval_set=str(tc.get("eval_set", "")),
                          generator=gen, slots={str(k): str(v) for k, v in (tc.get("slots") or {}).items()},
                          **common)
    return build_task(toml_path, id=path.name, family=path.name, source="import",
                      generator=GeneratorInfo(name="import:harbor", version=INTEROP_VERSION, seed=0), **common)
