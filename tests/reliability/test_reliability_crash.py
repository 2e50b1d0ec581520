"""Crash recovery: SIGKILL the execute stage at random moments, rerun, and get the same bytes.

``stages/execute.py`` runs ~40 small tasks in a subprocess. One uninterrupted run gives the
reference. A second workspace is killed with SIGKILL at seeded random times (the stage's process
alone, or its whole process group, like a crashed job), started again each time, and finally
allowed to finish: its trajectories.jsonl and metrics must equal the reference byte for byte, with
every task exactly once, no journal left over, and no process of a killed run left alive.
Train resume is checked the same way at the end (SIGKILL after a step checkpoint, rerun, same loss).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from termcorpus.records import Task, Trajectory, read_jsonl, write_jsonl
from termcorpus.sandbox.procs import descendants, process_table

REPO = Path(__file__).resolve().parents[2]
STAGE = REPO / "stages" / "execute.py"

PARAMS = """execute:
  teacher: oracle
  sandbox: bwrap
  workers: 2
  max_turns: 8
  timeout_sec: 5.0
  memory_mb: 512
  max_procs: 64
  max_output_bytes: 2048
  prompt_style: compact
"""

N_TASKS = 40
N_KILLS = 10
KILL_SEED = 20261126


def make_tasks(n: int = N_TASKS) -> list[Task]:
    tasks = []
    for i in range(n):
        k = 2 + i % 5
        tasks.append(Task(
            id=f"crash-{i:03d}", family=f"crash-{i % 7}", source="seed", domain="file_operations",
            skills=["line_counting"],
            instruction=f"Count the lines of data.txt and write the number to count.txt (task {i}).",
            files={"data.txt": "".join(f"row {j}\n" for j in range(k))},
            solution=["wc -l < data.txt > count.txt", "cat count.txt"],
            tests={"test.sh": f'#!/bin/bash\n[ "$(cat /app/count.txt)" = "{k}" ]\n'},
        ))
    return tasks


def _workspace(root: Path, tasks: list[Task]) -> Path:
    root.mkdir(parents=True)
    (root / "params.yaml").write_text(PARAMS)
    write_jsonl(root / "data/tasks/tasks.jsonl", tasks)
    (root / "data/seeds.jsonl").write_text('{"id": "crash-seed"}\n')
    return root


def _argv() -> list[str]:
    return [sys.executable, str(STAGE), "--tasks", "data/tasks/tasks.jsonl", "--seeds", "data/seeds.jsonl",
            "--out", "data/trajectories", "--metrics", "metrics/execute.json"]


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def _journal_ids(journal: Path) -> list[str]:
    """Task ids of the complete records in a journal a killed run left (the last line may be cut)."""
    if not journal.exists():
        return []
    ids = []
    for line in journal.read_text().splitlines()[1:]:
        try:
            ids.append(json.loads(line)["task_id"])
        except (ValueError, KeyError):
            break
    return ids


def _wait_gone(pids: list[int], timeout_sec: float) -> list[int]:
    end = time.monotonic() + timeout_sec
    while time.monotonic() < end:
        alive = [p for p in pids if p in process_table()]
        if not alive:
            return []
        time.sleep(0.1)
    return [p for p in pids if p in process_table()]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    if shutil.which("bwrap") is None:
        pytest.skip("bwrap not installed")
    ws = _workspace(tmp_path_factory.mktemp("crash") / "reference", make_tasks())
    start = time.monotonic()
    proc = subprocess.run(_argv(), cwd=ws, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return ws, time.monotonic() - start


@pytest.mark.slow
@pytest.mark.integration
def test_sigkill_at_random_points_then_resume_gives_identical_bytes(reference, tmp_path):
    ref_ws, ref_sec = reference
    tasks = make_tasks()
    ws = _workspace(tmp_path / "crashed", tasks)
    out = ws / "data/trajectories/trajectories.jsonl"
    journal = out.with_name(out.name + ".journal")
    rng = random.Random(KILL_SEED)
    journal_sizes = []
    leftovers = []
    for i in range(N_KILLS):
        proc = subprocess.Popen(_argv(), cwd=ws, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                start_new_session=True)
        # Anywhere from interpreter start-up to the end of a full run.
        time.sleep(rng.uniform(0.2, ref_sec))
        tree = descendants(proc.pid)
        if proc.poll() is None:
            if i % 2:
                os.killpg(proc.pid, signal.SIGKILL)  # the whole job dies (workers too)
            else:
                os.kill(proc.pid, signal.SIGKILL)  # only the stage: its workers are orphaned
        proc.wait()
        proc.stderr.close()
        done = _journal_ids(journal)
        assert len(done) == len(set(done)), f"duplicated records in the journal after kill {i}"
        journal_sizes.append(len(done))
        # Orphaned workers and sandboxes must go away by themselves (die-with-parent, EOF).
        leftovers += _wait_gone(tree, timeout_sec=30)
    assert leftovers == [], f"processes of killed runs still alive: {leftovers}"
    assert any(n > 0 for n in journal_sizes), f"no kill landed after a finished task: {journal_sizes}"

    final = subprocess.run(_argv(), cwd=ws, capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr
    trajs = read_jsonl(out, Trajectory)
    ids = [t.task_id for t in trajs]
    assert ids == [t.id for t in tasks]  # none lost, none duplicated, task order
    assert all(t.passed for t in trajs)
    assert not journal.exists()
    assert _md5(out) == _md5(ref_ws / "data/trajectories/trajectories.jsonl")
    assert _md5(ws / "metrics/execute.json") == _md5(ref_ws / "metrics/execute.json")
    # the stage's outs and nothing else (no journal, no temp file); gate.jsonl: every task's verdict
    assert sorted(p.name for p in out.parent.iterdir()) == ["gate.jsonl", "trajectories.jsonl"]
    assert _md5(out.with_name("gate.jsonl")) == _md5(ref_ws / "data/trajectories/gate.jsonl")


@pytest.mark.integration
def test_journal_cut_mid_line_is_resumed_without_loss(reference, tmp_path):
    """A crash can cut the journal's last line: the good lines are kept, the cut task is rerun."""
    ref_ws, _ = reference
    tasks = make_tasks(6)
    ws = _workspace(tmp_path / "cut", tasks)
    ref_out = ref_ws / "data/trajectories/trajectories.jsonl"
    # Build a journal as a killed run leaves it: the header of a run with these inputs, three
    # finished records, and half of a fourth. Take the header from a real (interrupted) run.
    proc = subprocess.Popen(_argv(), cwd=ws, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal = ws / "data/trajectories/trajectories.jsonl.journal"
    end = time.monotonic() + 60
    while time.monotonic() < end and not (journal.exists() and journal.read_text().count("\n") >= 1):
        time.sleep(0.01)
    proc.kill()
    proc.wait()
    header = journal.read_text().split("\n", 1)[0]
    ref_lines = ref_out.read_text().splitlines()[:4]
    journal.write_text(header + "\n" + "\n".join(ref_lines[:3]) + "\n" + ref_lines[3][: len(ref_lines[3]) // 2])
    run = subprocess.run(_argv(), cwd=ws, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "3 resumed" in run.stderr
    got = (ws / "data/trajectories/trajectories.jsonl").read_text().splitlines()
    assert got == ref_out.read_text().splitlines()[:6]
    assert len({json.loads(x)["task_id"] for x in got}) == 6


# A tiny training run driven through train() in a child process: params as JSON in argv[1],
# corpus, out dir and checkpoint dir after it; prints the result as JSON on stdout.
TRAIN_DRIVER = """
import json, sys
from pathlib import Path
import torch
torch.set_num_threads(1)
from termcorpus.params import TrainParams
from termcorpus.train.loop import train
params = TrainParams(**json.loads(sys.argv[1]))
ckpt = Path(sys.argv[4]) if len(sys.argv) > 4 else None
r = train(corpus_dir=Path(sys.argv[2]), out_dir=Path(sys.argv[3]), params=params, checkpoint_dir=ckpt, progress=False)
print(json.dumps({"loss_curve": r.loss_curve, "final_loss": r.final_loss, "val_loss": r.val_loss,
                  "resumed_from_step": r.resumed_from_step}))
"""
TRAIN_PARAMS = {
    "vocab_size": 320, "hidden_size": 32, "num_layers": 1, "num_heads": 2, "num_kv_heads": 1, "head_dim": 16,
    "intermediate_size": 64, "max_seq_len": 512, "batch_size": 2, "max_steps": 48, "warmup_steps": 2,
    "log_every": 5, "lr": 3e-3, "register_model": False, "save_every": 4, "keep_checkpoints": 2, "bf16": True,
}


def _train_argv(corpus: Path, out: Path, ckpt: Path | None = None) -> list[str]:
    argv = [sys.executable, "-c", TRAIN_DRIVER, json.dumps(TRAIN_PARAMS), str(corpus), str(out)]
    return argv + ([str(ckpt)] if ckpt else [])


def _train_env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": "", "HF_HUB_OFFLINE": "1"}


@pytest.mark.slow
def test_train_sigkilled_after_a_checkpoint_resumes_to_the_same_loss_and_weights(tmp_path):
    """kill -9 a training run 10 times at seeded random points, rerun it, and get the
    uninterrupted run's loss curve and weights bit for bit (CPU, same seed)."""
    import importlib.util

    from safetensors.torch import load_file
    import torch

    spec = importlib.util.spec_from_file_location("train_synth", REPO / "tests/train/conftest.py")
    synth = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(synth)
    corpus = synth.save_corpus(tmp_path / "corpus", synth.make_rows(48, seed=1), synth.make_rows(8, seed=2))

    ref = subprocess.run(_train_argv(corpus, tmp_path / "ref"), env=_train_env(), capture_output=True, text=True,
                         timeout=300)
    assert ref.returncode == 0, ref.stderr[-3000:]
    ref_res = json.loads(ref.stdout.strip().splitlines()[-1])

    ckpt = tmp_path / "resume"
    rng = random.Random(KILL_SEED)
    last_seen = 0
    kills = 0
    for kill in range(N_KILLS):
        # Each run is killed at a random moment after it has made progress: a seeded random delay
        # once its next step checkpoint appears (so kills also land mid-step and mid-save).
        proc = subprocess.Popen(_train_argv(corpus, tmp_path / "run", ckpt), env=_train_env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            deadline = time.monotonic() + 240
            while True:
                steps = [int(p.name.split("-")[1]) for p in ckpt.glob("step-*") if p.is_dir()]
                if steps and max(steps) > last_seen:
                    last_seen = max(steps)
                    break
                if proc.poll() is not None:
                    break
                assert time.monotonic() < deadline, "no checkpoint appeared"
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.15))
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        if proc.returncode == 0:
            break  # the run finished before this kill landed: nothing left to interrupt
        assert proc.returncode == -signal.SIGKILL
        kills += 1
    assert kills >= N_KILLS // 2, f"only {kills} kills landed before training finished"
    assert last_seen > 0

    again = subprocess.run(_train_argv(corpus, tmp_path / "run", ckpt), env=_train_env(), capture_output=True,
                           text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    res = json.loads(again.stdout.strip().splitlines()[-1])
    assert res["resumed_from_step"] > 0 or (tmp_path / "run" / "model.safetensors").exists()
    assert res["loss_curve"] == ref_res["loss_curve"] and res["final_loss"] == ref_res["final_loss"]
    assert res["val_loss"] == ref_res["val_loss"]
    wa, wb = load_file(tmp_path / "ref" / "model.safetensors"), load_file(tmp_path / "run" / "model.safetensors")
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)
