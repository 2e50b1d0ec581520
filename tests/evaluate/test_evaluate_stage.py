"""stages/evaluate.py by hand in a temp dir: the DVC command line, real bwrap, a real MLflow store."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from termcorpus.records import write_jsonl

REPO = Path(__file__).resolve().parents[2]
CMD = ["stages/evaluate.py", "--model", "models/terminal-agent", "--corpus", "data/corpus", "--tasks", "data/tasks",
       "--gate", "data/trajectories/gate.jsonl", "--metrics", "metrics/eval", "--detail", "reports/eval_detail.json",
       "--episodes", "reports/eval_episodes.jsonl", "--plots", "plots/eval_by_domain.csv", "--success-plot", "plots/eval_success.png"]


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update(MLFLOW_TRACKING_URI=f"sqlite:///{tmp}/mlflow.db", MLFLOW_DISABLE_TELEMETRY="true",
               HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false", HOME=str(tmp))
    return env


@pytest.fixture
def workdir(tmp_path, tiny_checkpoint, task_factory, corpus_factory):
    shutil.copytree(tiny_checkpoint, tmp_path / "models" / "terminal-agent")
    shutil.copytree(REPO / "stages", tmp_path / "stages")
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["evaluate"].update(max_tasks=2, max_turns=2, max_new_tokens=8, batch_size=4)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    write_jsonl(tmp_path / "data/tasks/tasks.jsonl", [task_factory(f"{f}-0", f) for f in ("fa", "fv")])
    write_jsonl(tmp_path / "data/tasks/heldout.jsonl", [
        task_factory("fa-h0", "fa").model_copy(update={"eval_set": "heldout_variants"}),
        task_factory("fv-h0", "fv").model_copy(update={"eval_set": "heldout_families"}),
        task_factory("fa-n0", "fa", word="zatovimu").model_copy(update={"eval_set": "novel_names"}),
        task_factory("fa-n1", "fa", word="kelopavu").model_copy(update={"eval_set": "novel_names"})])
    # the execute stage's gate verdicts: one novel-names task failed it
    (tmp_path / "data/trajectories").mkdir(parents=True)
    (tmp_path / "data/trajectories/gate.jsonl").write_text(
        '{"task_id": "fa-n1", "kept": false, "reason": "oracle_failed"}\n')
    corpus_factory(tmp_path / "data/corpus", ["fa"], ["fv"], train_texts=["echo hello > /app/out.txt"])
    return tmp_path


@pytest.mark.integration
@pytest.mark.slow
def test_stage_writes_metrics_and_plot_and_logs_to_mlflow(workdir):
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed (make setup installs it)")
    proc = subprocess.run([sys.executable, *CMD], cwd=workdir, env=_env(workdir), capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    # one headline file per agent: success per set (short names) and the lowest valid-JSON rate
    metrics = {a: json.loads((workdir / f"metrics/eval/{a}.json").read_text()) for a in ("finetuned", "retrieval", "base")}
    detail = json.loads((workdir / "reports/eval_detail.json").read_text())
    assert detail["finetuned"]["heldout_variants"]["n"] == 1
    assert detail["base"]["heldout_families"]["n"] == 1
    assert detail["retrieval"]["heldout_variants"]["n"] == 1 and detail["models"]["retrieval"] == "tfidf-nearest"
    assert (workdir / "plots/eval_by_domain.csv").read_text().splitlines() == [
        "domain,agent,set,success_rate",
        "file_operations,finetuned,heldout_variants,0.0",
        "file_operations,finetuned,heldout_families,0.0",
        "file_operations,finetuned,novel_names,0.0",
        "file_operations,retrieval,heldout_variants,0.0",
        "file_operations,retrieval,heldout_families,0.0",
        "file_operations,retrieval,novel_names,0.0",
        "file_operations,base,heldout_variants,0.0",
        "file_operations,base,heldout_families,0.0",
        "file_operations,base,novel_names,0.0",
    ]
    assert detail["finetuned"]["novel_names"]["n"] == 1  # fa-n1 failed the gate: skipped
    for agent, head in metrics.items():
        assert set(head) == {"variants", "families", "novel_names", "valid_json"}, agent
        assert head["novel_names"] == detail[agent]["novel_names"]["success_rate"]
    assert detail["sets"]["novel_names"]["skipped_gate"] == 1
    assert set(detail["finetuned"]["novel_names"]["by_steps"]) == {"1"}
    # one line per agent and distinct task: its sets, outcome and commands agree with the detail
    episodes = [json.loads(line) for line in (workdir / "reports/eval_episodes.jsonl").read_text().splitlines()]
    for agent in metrics:
        rows = [e for e in episodes if e["agent"] == agent]
        assert len({e["task_id"] for e in rows}) == len(rows) > 0
        for name in ("heldout_variants", "heldout_families", "novel_names"):
            in_set = [e for e in rows if name in e["sets"]]
            assert len(in_set) == detail[agent][name]["n"]
            assert sum(e["passed"] for e in in_set) / len(in_set) == detail[agent][name]["success_rate"]
        for e in rows:
            assert e["n_turns"] == len(e["commands"]) and e["trial"] == 0
            assert all(c is None or all(isinstance(k, str) for k in c) for c in e["commands"])
    assert (workdir / "plots/eval_success.png").read_bytes()[:4] == b"\x89PNG"
    assert (workdir / "mlflow.db").exists()
    assert "finetuned: heldout_variants 0.0% of 1" in proc.stderr


def test_bad_params_stop_with_one_line(workdir):
    params = yaml.safe_load((workdir / "params.yaml").read_text())
    params["evaluate"]["batch_size"] = 0
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))
    proc = subprocess.run([sys.executable, *CMD], cwd=workdir, env=_env(workdir), capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: params.yaml: 'evaluate.batch_size' must be >= 1, got 0"
    ]
