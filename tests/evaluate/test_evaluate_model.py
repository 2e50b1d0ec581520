"""evaluate_model end to end on a tiny checkpoint, and the base-agent construction."""

from __future__ import annotations

import json
import shutil

import pytest

from termcorpus.evaluate import AGENTS, EVAL_SETS, build_agents, evaluate_model, write_plot_csv, write_success_plot
from termcorpus.params import EvaluateParams
from termcorpus.records import write_jsonl


def _checkpoint(src, dst, meta):
    shutil.copytree(src, dst)
    (dst / "termcorpus.json").write_text(json.dumps(meta))
    return dst


def _weights(agent):
    return {k: v.clone() for k, v in agent.lm.state_dict().items()}


def test_tiny_base_is_the_training_start_point(tiny_checkpoint, tmp_path):
    # The fixture checkpoint is an untrained init with seed 0: its base must be the same weights.
    params = EvaluateParams(max_new_tokens=8, seed=7)
    ckpt = _checkpoint(tiny_checkpoint, tmp_path / "m0", {"base_model": "tiny", "params": {"seed": 0}})
    ft, base = build_agents(ckpt, params)
    assert (ft.name, base.name) == ("finetuned", "base")
    assert base.model == "tiny-init-seed0"
    w_ft, w_base = _weights(ft), _weights(base)
    assert all((w_ft[k] == w_base[k]).all() for k in w_ft)

    other = _checkpoint(tiny_checkpoint, tmp_path / "m1", {"base_model": "tiny", "params": {"seed": 1}})
    _, base1 = build_agents(other, params)
    assert any((w_ft[k] != v).any() for k, v in _weights(base1).items())


def test_base_named_by_path_is_loaded_from_there(tiny_checkpoint, tmp_path):
    base_dir = _checkpoint(tiny_checkpoint, tmp_path / "pretrained", {})
    ckpt = _checkpoint(tiny_checkpoint, tmp_path / "ft", {"base_model": str(base_dir)})
    _, base = build_agents(ckpt, EvaluateParams(max_new_tokens=8))
    assert base.model == str(base_dir)


def test_unknown_base_is_a_data_error(tiny_checkpoint, tmp_path):
    from termcorpus.errors import DataError

    # a hub id the offline machine cannot fetch, and a path that holds no checkpoint
    for base in ("Qwen/Qwen3-0.6B", "no such/checkpoint dir"):
        ckpt = _checkpoint(tiny_checkpoint, tmp_path / f"ft{len(base)}", {"base_model": base})
        with pytest.raises(DataError, match="base_model"):
            build_agents(ckpt, EvaluateParams(max_new_tokens=8))


@pytest.fixture(scope="module")
def eval_inputs(tmp_path_factory, task_factory, corpus_factory):
    from termcorpus.tasks.interop import export_harbor

    root = tmp_path_factory.mktemp("eval")
    words = ["alpha", "beta", "gamma", "delta"]
    tasks = [task_factory(f"{f}-{i}", f, domain=d, word=words[i], skills=[f"skill_{f}"])
             for f, d in [("fa", "file_operations"), ("fb", "security"), ("fc", "debugging")] for i in range(2)]
    heldout = [task_factory(f"{f}-h{i}", f, domain=d, word=words[i + 2], skills=[f"skill_{f}"]).model_copy(
                   update={"eval_set": "heldout_families" if f == "fc" else "heldout_variants"})
               for f, d in [("fa", "file_operations"), ("fb", "security"), ("fc", "debugging")] for i in range(2)]
    heldout += [task_factory(f"fa-n{i}", "fa", word=w, skills=["skill_fa"]).model_copy(update={"eval_set": "novel_names"})
                for i, w in enumerate(["zatovimu", "kelopavu"])]
    write_jsonl(root / "tasks" / "tasks.jsonl", tasks)
    write_jsonl(root / "tasks" / "heldout.jsonl", heldout)
    corpus_factory(root / "corpus", ["fa", "fb"], ["fc"], train_texts=["echo gamma > /app/out.txt", "ls"])
    export_harbor(task_factory("ext-0", "ext", word="omega"), root / "extra" / "ext-0")
    return root


def _kw(tiny_checkpoint, eval_inputs, **params):
    from termcorpus.sandbox import SandboxConfig

    return dict(model_dir=tiny_checkpoint, corpus_dir=eval_inputs / "corpus", tasks_dir=eval_inputs / "tasks",
                params=EvaluateParams(**params), sandbox=SandboxConfig(backend="bwrap", timeout_sec=5.0),
                prompt_style="compact")


def _need_sandbox():
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed (make setup installs it)")


@pytest.mark.integration
def test_evaluate_model_reports_both_agents_on_every_set(tiny_checkpoint, eval_inputs, tmp_path):
    _need_sandbox()
    # max_parse_errors 0: the random model's unparseable replies run every episode to the turn cap (2);
    # the default (1) would end each after its first reply, which test_eval_runner covers
    m = evaluate_model(**_kw(tiny_checkpoint, eval_inputs, max_tasks=3, max_turns=2, max_new_tokens=12,
                             batch_size=4, seed=0, max_parse_errors=0, extra_tasks=[str(eval_inputs / "extra")]))
    # the fixed sets, then one checked set per extra_tasks folder (evaluate.extra)
    assert list(m["sets"]) == list(EVAL_SETS) + ["extra_extra"]
    assert m["sets"]["extra_extra"]["n_tasks"] == 1 and m["sets"]["extra_extra"]["broken"] == 0
    assert m["finetuned"]["extra_extra"]["n"] == 1
    assert m["sets"]["heldout_variants"]["n_tasks"] == 3 and m["sets"]["heldout_variants"]["n_families"] == 2
    assert m["sets"]["novel_names"]["available_tasks"] == 2 and m["sets"]["heldout_compositions"]["n_tasks"] == 0
    assert m["sets"]["heldout_families"]["n_tasks"] == 2
    assert m["sets"]["extra"]["n_tasks"] == 1
    for agent in AGENTS:
        for s in EVAL_SETS:
            cell = m[agent][s]
            if not m["sets"][s]["n_tasks"]:
                assert cell == {"n": 0}
                continue
            assert cell["n"] == m["sets"][s]["n_tasks"]
            assert cell["success_rate"] == 0.0 and cell["mean_turns"] == 2.0  # a random model passes nothing
            assert (cell["trials"], cell["success_stderr"]) == (1, 0.0)  # greedy: one run, no spread
            assert set(cell) >= {"mean_reward", "valid_json_rate", "trace_match", "turn_match_rate", "by_domain",
                                 "by_skill", "by_steps"}
    assert set(m["finetuned"]["heldout_families"]["by_domain"]) == {"debugging"}
    assert m["finetuned"]["heldout_families"]["by_skill"] == {"skill_fc": {"n": 2, "success_rate": 0.0,
                                                                          "trace_match": 0.0}}

    n = write_plot_csv(tmp_path / "plots" / "eval.csv", m)
    lines = (tmp_path / "plots" / "eval.csv").read_text().splitlines()
    assert lines[0] == "domain,agent,set,success_rate" and len(lines) == n + 1
    assert "debugging,base,heldout_families,0.0" in lines
    assert write_success_plot(tmp_path / "plots" / "eval.png", m) == [s for s in EVAL_SETS if m["sets"][s]["n_tasks"]]
    assert (tmp_path / "plots" / "eval.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.integration
def test_sampled_trials_report_mean_and_stderr_and_repeat_exactly(tiny_checkpoint, eval_inputs):
    _need_sandbox()
    kw = _kw(tiny_checkpoint, eval_inputs, max_tasks=1, max_turns=1, max_new_tokens=8, batch_size=4, seed=3,
             temperature=1.0, trials=2)
    m = evaluate_model(**kw)
    cell = m["finetuned"]["heldout_variants"]
    assert (cell["n"], cell["trials"], cell["success_by_trial"]) == (1, 2, [0.0, 0.0])
    assert cell["success_stderr"] == 0.0 and cell["by_skill"][next(iter(cell["by_skill"]))]["n"] == 1
    assert m["base"]["extra"] == {"n": 0}
    # same inputs, same numbers (only elapsed_sec and agent_sec are wall clock), sampling included
    again = evaluate_model(**kw)
    for k in ("elapsed_sec", "agent_sec"):
        m.pop(k), again.pop(k)
    assert json.dumps(m, sort_keys=True) == json.dumps(again, sort_keys=True)
