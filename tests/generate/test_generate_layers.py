"""generate makes tasks and runs nothing: it imports nothing from agents, sandbox or execute
(issue 19; the validity gate lives in execute/gate.py)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
FORBIDDEN = ("termcorpus.agents", "termcorpus.sandbox", "termcorpus.execute")


def test_no_generate_module_names_agents_sandbox_or_execute():
    found = []
    for path in sorted((SRC / "termcorpus" / "generate").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else (
                [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            found += [f"{path.name}: {n}" for n in names if n.startswith(FORBIDDEN)]
    assert found == []


def test_importing_generate_loads_none_of_them():
    code = ("import sys, termcorpus.generate.pipeline, termcorpus.generate.llm, termcorpus.generate.heldout; "
            f"print(sorted(m for m in sys.modules if m.startswith({FORBIDDEN!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"}).stdout
    assert out.strip() == "[]"
