"""End to end: the whole DVC DAG on a tiny params override, in a temp copy of the repo.

Checks every declared out, the MLflow corpus dataset / registered model / lineage tags, that our
DVC md5 equals dvc.lock's, and that a second ``dvc repro`` has nothing to do.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent

TINY = {
    "generate": {"n_variants": 3, "n_heldout_variants": 1, "max_seeds": 14, "heldout_families": 2,
                 "heldout_family_variants": 2, "novel_names": 4,
                 # 60 composed tasks, not the default's 1,100, which were most of this fixture's
                 # time (generated, executed and gated, and again in the forced rerun)
                 "skill_tasks": 60, "heldout_compositions": 6, "heldout_novel_pairs": 4},
    "execute": {"workers": 2},
    "balance": {"val_fraction": 0.25},
    "train": {"max_steps": 12, "hidden_size": 32, "num_layers": 1, "num_heads": 2, "num_kv_heads": 1,
              "head_dim": 16, "intermediate_size": 64, "batch_size": 2, "log_every": 2, "warmup_steps": 2,
              "vocab_size": 400},
    "evaluate": {"max_tasks": 3, "max_turns": 2, "max_new_tokens": 24, "batch_size": 8},
}

STAGES = ["seed", "generate", "execute", "validate", "balance", "train", "evaluate"]


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING")}
    env.update(
        PATH=f"{VENV_BIN}:{env.get('PATH', '')}",
        DVC_NO_ANALYTICS="1",
        MLFLOW_DISABLE_TELEMETRY="true",
        GX_ANALYTICS_ENABLED="False",
        HF_HUB_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
        HOME=str(tmp / "home"),
        GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@localhost", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@localhost",
    )
    return env


def _copy_repo(dst: Path) -> None:
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout.split("\0")
    for rel in filter(None, files):
        src = REPO / rel
        if not src.is_file():
            continue
        if rel.startswith(("data/tasks/", "data/trajectories/", "data/corpus/", "models/", "metrics/", "plots/", "reports/")):
            continue
        if rel in ("data/seeds.jsonl", "data/taxonomy.json", "dvc.lock"):
            continue
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst / rel)


def _merge(base: dict, over: dict) -> dict:
    for k, v in over.items():
        base[k] = _merge(base.get(k, {}), v) if isinstance(v, dict) else v
    return base


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed (make setup installs it)")
    tmp = tmp_path_factory.mktemp("e2e")
    repo = tmp / "repo"
    repo.mkdir()
    (tmp / "home").mkdir()
    _copy_repo(repo)
    params = yaml.safe_load((repo / "params.yaml").read_text())
    (repo / "params.yaml").write_text(yaml.safe_dump(_merge(params, TINY), sort_keys=False))
    env = _env(tmp)
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "e2e"]):
        subprocess.run(cmd, cwd=repo, env=env, check=True)
    proc = subprocess.run([str(VENV_BIN / "dvc"), "repro"], cwd=repo, env=env, capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, f"dvc repro failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return repo, env, proc


@pytest.mark.slow
@pytest.mark.integration
def test_every_stage_ran_and_wrote_its_outs(pipeline):
    repo, _, proc = pipeline
    for s in STAGES:
        assert f"'{s}'" in proc.stdout, f"stage {s} did not run"
    for out in ("data/seeds.jsonl", "data/taxonomy.json", "data/tasks/tasks.jsonl", "data/tasks/heldout.jsonl",
                "data/trajectories/trajectories.jsonl", "metrics/validation.json", "data/corpus",
                "models/terminal-agent/config.json", "metrics/train.json", "plots/train_loss.csv",
                "metrics/eval/finetuned.json", "metrics/eval/base.json", "plots/eval_by_domain.csv", "metrics/curation.json", "metrics/execute.json",
                "metrics/generate.json", "data/trajectories/gate.jsonl", "reports/eval_detail.json"):
        assert (repo / out).exists(), out
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    assert set(lock["stages"]) == set(STAGES)


@pytest.mark.slow
@pytest.mark.integration
def test_trajectories_pass_and_corpus_is_a_chat_dataset(pipeline):
    import datasets

    repo, _, _ = pipeline
    execute = json.loads((repo / "metrics/execute.json").read_text())
    assert execute["pass_rate"] >= 0.95
    dd = datasets.load_from_disk(str(repo / "data/corpus"))
    assert set(dd) == {"train", "validation"}
    row = dd["train"][0]
    assert row["messages"][0]["role"] == "user" and row["messages"][1]["role"] == "assistant"
    assert not set(dd["train"]["family"]) & set(dd["validation"]["family"])


@pytest.mark.slow
@pytest.mark.integration
def test_eval_reports_base_and_finetuned(pipeline):
    repo, _, _ = pipeline
    detail = json.loads((repo / "reports/eval_detail.json").read_text())
    for agent in ("base", "finetuned"):
        head = json.loads((repo / f"metrics/eval/{agent}.json").read_text())
        for split, short in (("heldout_variants", "variants"), ("heldout_families", "families"),
                             ("novel_names", "novel_names")):
            assert 0.0 <= head[short] <= 1.0 and head[short] == detail[agent][split]["success_rate"]
            assert "trace_match" in detail[agent][split]
            assert "by_domain" in detail[agent][split] and "by_steps" in detail[agent][split]


@pytest.mark.slow
@pytest.mark.integration
def test_mlflow_registry_and_lineage(pipeline):
    from mlflow import MlflowClient

    repo, env, _ = pipeline
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    corpus_md5 = next(o["md5"] for o in lock["stages"]["balance"]["outs"] if o["path"] == "data/corpus")
    uri = f"sqlite:///{repo / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    mv = client.get_model_version_by_alias("terminal-agent", "candidate")
    assert mv.tags["corpus_digest"] == corpus_md5, "DVC md5 of data/corpus must be the corpus digest"
    assert mv.tags["git_rev"]
    assert json.loads(mv.tags["params"])["max_steps"] == TINY["train"]["max_steps"]
    run = client.get_run(mv.run_id)
    ds = [d.dataset for d in run.inputs.dataset_inputs]
    assert any(d.name == "terminal-corpus" and d.digest == corpus_md5 for d in ds)
    assert "eval_success_rate" in mv.tags
    out = subprocess.run([str(VENV_BIN / "termcorpus"), "lineage", f"terminal-agent/{mv.version}", "--json"],
                         cwd=repo, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["corpus"]["digest"] == corpus_md5
    assert info["seeds"]["digest"] and info["task_set"]["digest"] and info["seeds"]["skills_digest"]


@pytest.mark.slow
@pytest.mark.integration
def test_second_repro_changes_nothing(pipeline):
    repo, env, _ = pipeline
    proc = subprocess.run([str(VENV_BIN / "dvc"), "repro"], cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "didn't change" in proc.stdout or "up to date" in proc.stdout
    assert "Running stage" not in proc.stdout


@pytest.mark.slow
@pytest.mark.integration
def test_identical_rerun_leaves_no_metrics_diff(pipeline):
    """Issue 20: every stage forced to run again with the same code and params; `dvc metrics diff`
    against the committed first run prints nothing (no clock, host or path in any metrics file),
    and `dvc metrics show` stays narrow (the shared headline vocabulary)."""
    repo, env, _ = pipeline
    dvc = str(VENV_BIN / "dvc")
    for cmd in (["git", "add", "-A"], ["git", "commit", "-qm", "first run", "--allow-empty"]):
        subprocess.run(cmd, cwd=repo, env=env, check=True)
    proc = subprocess.run([dvc, "repro", "-f"], cwd=repo, env=env, capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    diff = subprocess.run([dvc, "metrics", "diff"], cwd=repo, env=env, capture_output=True, text=True, timeout=120)
    assert diff.returncode == 0 and diff.stdout.strip() == "", diff.stdout
    show = subprocess.run([dvc, "metrics", "show"], cwd=repo, env=env, capture_output=True, text=True, timeout=120)
    assert show.returncode == 0 and max(map(len, show.stdout.splitlines())) <= 220, show.stdout
