"""Resume under DVC: the execute journal lives outside the stage's outs.

``dvc repro`` deletes a stage's outs before it reruns it, so a journal beside the output would
vanish with the interrupted run's work. With ``--journal`` outside the outs, a SIGKILL-ed run
whose out dir is then deleted (as DVC does) still resumes, and ends with the same bytes.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from termcorpus.records import Task, write_jsonl

REPO = Path(__file__).resolve().parents[2]
PARAMS = "execute:\n  workers: 2\n  max_turns: 4\n  timeout_sec: 5.0\n"


def _tasks(n: int = 30) -> list[Task]:
    return [Task(id=f"dvcres-{i:03d}", family=f"f{i % 5}", source="seed", domain="file_operations",
                 instruction=f"Write {i} to n.txt.", solution=[f"echo {i} > n.txt"],
                 tests={"test.sh": f'#!/bin/bash\n[ "$(cat /app/n.txt)" = "{i}" ]\n'}) for i in range(n)]


def _run(ws: Path, *, journal: bool) -> subprocess.Popen:
    argv = [sys.executable, str(REPO / "stages/execute.py"), "--tasks", "data/tasks/tasks.jsonl",
            "--seeds", "data/seeds.jsonl", "--out", "data/trajectories", "--metrics", "metrics/execute.json"]
    if journal:
        argv += ["--journal", "data/.journal/execute.jsonl"]
    return subprocess.Popen(argv, cwd=ws, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _workspace(root: Path) -> Path:
    root.mkdir()
    (root / "params.yaml").write_text(PARAMS)
    write_jsonl(root / "data/tasks/tasks.jsonl", _tasks())
    (root / "data/seeds.jsonl").write_text("{}\n")
    return root


@pytest.mark.integration
@pytest.mark.slow
def test_killed_run_resumes_after_its_outs_were_deleted(tmp_path):
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed")
    ref = _workspace(tmp_path / "ref")
    assert _run(ref, journal=True).wait(timeout=300) == 0

    ws = _workspace(tmp_path / "ws")
    journal = ws / "data/.journal/execute.jsonl"
    proc = _run(ws, journal=True)
    deadline = time.time() + 120
    while time.time() < deadline and (not journal.exists() or journal.read_text().count("\n") < 6):
        time.sleep(0.05)
    import os

    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = journal.read_text().count("\n") - 1  # first line is the fingerprint
    assert 0 < done_before < 30
    shutil.rmtree(ws / "data/trajectories", ignore_errors=True)  # what `dvc repro` does to outs
    rerun = _run(ws, journal=True)
    _, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    assert "0 resumed" not in err
    out = "data/trajectories/trajectories.jsonl"
    assert (ws / out).read_bytes() == (ref / out).read_bytes()
    assert not journal.exists(), "the journal is removed once the stage completes"
