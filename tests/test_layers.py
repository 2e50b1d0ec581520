"""Layers without cycles (docs/DESIGN.md "Layers"), read from the source with ``ast``.

Every import counts, also one inside a function: a function-level import hides a cycle from
the interpreter, not from the design.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src" / "termcorpus"


def _module(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, int]]:
    """Every ``termcorpus...`` module ``path`` imports (``from m import x`` also names m.x, which
    may be a submodule), with its line."""
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = _module(path) if path.name == "__init__.py" else _module(path).rpartition(".")[0]
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((module, node.lineno))
            found += [(f"{module}.{a.name}", node.lineno) for a in node.names]
    return [(m, line) for m, line in found if m == "termcorpus" or m.startswith("termcorpus.")]


def _part(module: str) -> str:
    """The subpackage (or top-level module) of termcorpus a module belongs to."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _edges() -> dict[str, dict[str, list[str]]]:
    """part -> imported part -> ['file:line', ...]"""
    edges: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted(SRC.rglob("*.py")):
        me = _part(_module(path))
        for module, line in _imports(path):
            other = _part(module)
            if other and other != me:
                edges[me][other].append(f"{path.relative_to(REPO)}:{line}")
    return edges


EDGES = _edges()


@pytest.mark.parametrize(("lower", "forbidden"), [
    ("records", {"generate", "agents", "sandbox", "execute"}),
    ("tasks", {"generate", "agents", "sandbox", "execute"}),
    ("generate", {"agents", "sandbox", "execute"}),
])
def test_lower_layer_imports_nothing_above_it(lower, forbidden):
    bad = {other: where for other, where in EDGES.get(lower, {}).items() if other in forbidden}
    assert not bad, f"termcorpus.{lower} imports {bad}"


def test_no_import_cycle_between_subpackages():
    graph = {part: set(targets) for part, targets in EDGES.items()}
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            where = [EDGES[a][b][0] for a, b in zip(cycle, cycle[1:])]
            pytest.fail(f"import cycle {' -> '.join(cycle)} ({', '.join(where)})")


@pytest.mark.parametrize("script", sorted((REPO / "stages").glob("*.py")), ids=lambda p: p.name)
def test_stage_script_imports_only_the_runner_and_its_library(script):
    """A stage script is the runner plus one library call: it imports termcorpus.runtime and
    termcorpus.stages.<its name> and nothing else (no argparse, no params, no library internals)."""
    allowed = {"termcorpus.runtime", f"termcorpus.stages.{script.stem}"}
    for node in ast.walk(ast.parse(script.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            assert False, f"{script.name}:{node.lineno}: import {node.names[0].name}"
        if isinstance(node, ast.ImportFrom) and node.module != "__future__":
            assert node.module in allowed, f"{script.name}:{node.lineno}: from {node.module} import ..."


@pytest.mark.parametrize("script", sorted((REPO / "stages").glob("*.py")), ids=lambda p: p.name)
def test_stage_script_is_at_most_30_lines(script):
    assert len(script.read_text(encoding="utf-8").splitlines()) <= 30


def test_the_checker_sees_function_level_imports(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("def f():\n    from termcorpus.generate.pools import POOLS\n")
    assert ("termcorpus.generate.pools", 2) in _imports(f)
