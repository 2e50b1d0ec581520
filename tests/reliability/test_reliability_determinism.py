"""Determinism: seed -> generate -> execute -> validate -> balance, twice, in two temp dirs.

Each stage script runs exactly as dvc.yaml writes its command (paths relative to the workspace),
on the repo's seeds, skills, expectations and params.yaml with small overrides. Every declared out
and metrics file of the two runs must have the same md5 (a directory: every file in it).
Train's loss-curve determinism is the train module's own test.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]

SMALL = {
    "generate": {"n_variants": 2, "n_heldout_variants": 1, "max_seeds": 4, "skill_tasks": 2},
    "execute": {"workers": 2},
    "balance": {"val_fraction": 0.25},
}


def _stage_commands() -> list[tuple[str, dict[str, str], list[str], list[str]]]:
    """(stage, env assignments, argv, outs) for the five stages, taken from dvc.yaml itself
    (``PYTHONPATH=src python stages/X.py ...``)."""
    dvc = yaml.safe_load((REPO / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    cmds = []
    for name in ("seed", "generate", "execute", "validate", "balance"):
        st = dvc[name]
        words = st["cmd"].split()
        assigned = dict(w.split("=", 1) for w in words[:words.index("python")])
        argv = words[words.index("python") + 1:]
        outs = [next(iter(o)) if isinstance(o, dict) else o for o in st.get("outs", []) + st.get("metrics", [])]
        cmds.append((name, assigned, [sys.executable, *argv], outs))
    return cmds


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update(HOME=str(home), MLFLOW_DISABLE_TELEMETRY="true", GX_ANALYTICS_ENABLED="False",
               HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    return env


def _workspace(root: Path) -> Path:
    root.mkdir(parents=True)
    for rel in ("stages", "src", "data/seeds", "data/skills", "data/adapters", "expectations"):
        shutil.copytree(REPO / rel, root / rel, ignore=shutil.ignore_patterns("__pycache__"))
    params = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    for section, over in SMALL.items():
        params.setdefault(section, {}).update(over)
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    (root / "home").mkdir()
    return root


def _md5s(root: Path, rel: str) -> dict[str, str]:
    path = root / rel
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return {str(p.relative_to(root)): hashlib.md5(p.read_bytes(), usedforsecurity=False).hexdigest() for p in files}


def _run_pipeline(root: Path) -> dict[str, str]:
    env = _env(root / "home")
    digests: dict[str, str] = {}
    for name, assigned, argv, outs in _stage_commands():
        proc = subprocess.run(argv, cwd=root, env={**env, **assigned}, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, f"stage {name} failed:\n{proc.stderr[-3000:]}"
        for out in outs:
            assert (root / out).exists(), f"{name} did not write {out}"
            digests.update(_md5s(root, out))
    return digests


@pytest.mark.slow
@pytest.mark.integration
def test_two_runs_give_byte_identical_outputs(tmp_path):
    if shutil.which("bwrap") is None:
        pytest.skip("bwrap not installed")
    # Different parent dirs and names: no absolute path may leak into an output. Both copies are
    # made before either run, so both see the same seeds and params.
    one, two = _workspace(tmp_path / "one"), _workspace(tmp_path / "second-run")
    first = _run_pipeline(one)
    second = _run_pipeline(two)
    assert first.keys() == second.keys()
    differ = sorted(k for k in first if first[k] != second[k])
    assert differ == [], f"outputs differ between two identical runs: {differ}"
    assert any(k.startswith("data/corpus/") for k in first) and "data/trajectories/trajectories.jsonl" in first
