"""stages/execute.py end to end on a temp dir: outs, metrics, one-line errors."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from termcorpus.records import Trajectory, read_jsonl, write_jsonl

STAGE = Path(__file__).resolve().parents[2] / "stages" / "execute.py"

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(shutil.which("bwrap") is None, reason="bwrap not installed")]

PARAMS = """execute:
  teacher: oracle
  sandbox: bwrap
  workers: 1
  max_turns: 8
  timeout_sec: 5.0
  memory_mb: 512
  max_procs: 64
  max_output_bytes: 2048
  prompt_style: compact
"""


def _run(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(STAGE), "--tasks", "data/tasks/tasks.jsonl", "--seeds", "data/seeds.jsonl",
         "--out", "data/trajectories", "--metrics", "metrics/execute.json"],
        cwd=cwd, capture_output=True, text=True, timeout=120,
    )


def test_stage_writes_trajectories_and_metrics(tmp_path, tasks):
    (tmp_path / "params.yaml").write_text(PARAMS)
    write_jsonl(tmp_path / "data/tasks/tasks.jsonl", tasks[:2])
    (tmp_path / "data/seeds.jsonl").write_text('{"id": "seed"}\n')
    proc = _run(tmp_path)
    assert proc.returncode == 0, proc.stderr
    trajs = read_jsonl(tmp_path / "data/trajectories/trajectories.jsonl", Trajectory)
    assert [t.task_id for t in trajs] == [t.id for t in tasks[:2]]
    assert all(t.passed for t in trajs)
    assert trajs[0].lineage.seeds_digest and trajs[0].lineage.task_digest == tasks[0].digest()
    metrics = json.loads((tmp_path / "metrics/execute.json").read_text())
    assert metrics["n_tasks"] == 2 and metrics["pass_rate"] == 1.0
    assert sorted(p.name for p in (tmp_path / "data/trajectories").iterdir()) == ["trajectories.jsonl"]


def test_stage_bad_task_line_is_one_line_error(tmp_path):
    (tmp_path / "params.yaml").write_text(PARAMS)
    (tmp_path / "data/tasks").mkdir(parents=True)
    (tmp_path / "data/tasks/tasks.jsonl").write_text('{"id": "x"}\n')
    (tmp_path / "data/seeds.jsonl").write_text("{}\n")
    proc = _run(tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "tasks.jsonl:1" in proc.stderr
