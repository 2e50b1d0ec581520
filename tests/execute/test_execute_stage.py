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
         "--out", "data/trajectories", "--metrics", "metrics/execute.json", "--detail", "reports/execute_detail.json"],
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
    assert json.loads((tmp_path / "metrics/execute.json").read_text()) == {"tasks": 2, "pass_rate": 1.0}
    metrics = json.loads((tmp_path / "reports/execute_detail.json").read_text())
    assert metrics["n_tasks"] == 2 and metrics["pass_rate"] == 1.0
    assert sorted(p.name for p in (tmp_path / "data/trajectories").iterdir()) == ["gate.jsonl", "trajectories.jsonl"]
    # the gate checked both (reusing the oracle trajectories) and kept both
    assert metrics["gate"]["enabled"] and metrics["gate"]["train"]["n_kept"] == 2


def test_stage_gates_training_and_heldout_tasks(tmp_path, tasks):
    """A training task whose test checks nothing leaves the trajectories; a broken held-out task
    is recorded in gate.jsonl (evaluate skips it)."""
    (tmp_path / "params.yaml").write_text(PARAMS)
    weak = tasks[1].model_copy(update={"tests": {"test.sh": "#!/bin/bash\nexit 0\n"}})
    broken = tasks[2].model_copy(update={"id": "held-0", "solution": ["true"], "eval_set": "novel_names"})
    write_jsonl(tmp_path / "data/tasks/tasks.jsonl", [tasks[0], weak])
    write_jsonl(tmp_path / "data/tasks/heldout.jsonl", [broken])
    (tmp_path / "data/seeds.jsonl").write_text('{"id": "seed"}\n')
    proc = subprocess.run(
        [sys.executable, str(STAGE), "--tasks", "data/tasks/tasks.jsonl", "--heldout", "data/tasks/heldout.jsonl",
         "--seeds", "data/seeds.jsonl", "--out", "data/trajectories", "--metrics", "metrics/execute.json",
         "--detail", "reports/execute_detail.json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    trajs = read_jsonl(tmp_path / "data/trajectories/trajectories.jsonl", Trajectory)
    assert [t.task_id for t in trajs] == [tasks[0].id]
    gate = json.loads((tmp_path / "reports/execute_detail.json").read_text())["gate"]
    assert (gate["train"]["n_dropped"], gate["heldout"]["n_dropped"]) == (1, 1)
    assert gate["oracle_reused"] and gate["train"]["drops_by_reason"]["null_passed"] == 1
    assert gate["heldout"]["failed_by_set"] == {"novel_names": 1}
    verdicts = [json.loads(line) for line in (tmp_path / "data/trajectories/gate.jsonl").read_text().splitlines()]
    assert [(v["task_id"], v["kept"]) for v in verdicts] == [(tasks[0].id, True), (weak.id, False), ("held-0", False)]


def test_stage_bad_task_line_is_one_line_error(tmp_path):
    (tmp_path / "params.yaml").write_text(PARAMS)
    (tmp_path / "data/tasks").mkdir(parents=True)
    (tmp_path / "data/tasks/tasks.jsonl").write_text('{"id": "x"}\n')
    (tmp_path / "data/seeds.jsonl").write_text("{}\n")
    proc = _run(tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "tasks.jsonl:1" in proc.stderr
