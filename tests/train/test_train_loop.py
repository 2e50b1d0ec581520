"""A few steps of the real loop on a tiny Qwen3: loss logged, weights move, runs repeat exactly."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer

from termcorpus.errors import ConfigError
from termcorpus.train.loop import META_FILE, train, update_meta
from termcorpus.train.model import build_tiny, count_params


def _run(corpus, out, params):
    return train(corpus_dir=corpus, out_dir=out, params=params, progress=False)


def test_few_steps_log_a_loss_and_change_every_parameter(small_corpus, tiny_params, tmp_path):
    res = _run(small_corpus, tmp_path / "m", tiny_params)
    assert [s for s, _ in res.loss_curve] == [1, 2, 3, 4, 5]
    assert all(math.isfinite(v) for _, v in res.loss_curve)
    assert res.loss_curve[-1][1] < res.loss_curve[0][1]
    assert res.val_loss is not None and math.isfinite(res.val_loss)
    assert res.n_train_episodes == 48 and res.dropped_too_long == 0
    assert res.train_tokens > 0 and res.tokens_per_sec > 0

    # The same seed rebuilds the initial weights; every trainable tensor must have moved.
    tok = AutoTokenizer.from_pretrained(tmp_path / "m")
    init = build_tiny(tiny_params, tok)
    trained = AutoModelForCausalLM.from_pretrained(tmp_path / "m")
    assert res.n_params == count_params(init) == count_params(trained)
    after = dict(trained.named_parameters())
    unchanged = [n for n, p in init.named_parameters() if torch.equal(p, after[n])]
    assert unchanged == []


def test_checkpoint_holds_weights_tokenizer_and_metadata(small_corpus, tiny_params, tmp_path):
    res = _run(small_corpus, tmp_path / "m", tiny_params)
    names = sorted(p.name for p in (tmp_path / "m").iterdir())
    for f in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "chat_template.jinja", META_FILE):
        assert f in names
    meta = json.loads((tmp_path / "m" / META_FILE).read_text())
    assert meta["base_model"] == "tiny" and meta["step"] == 5
    assert meta["n_params"] == res.n_params and meta["final_loss"] == res.final_loss
    assert meta["corpus_digest"].endswith(".dir")
    assert meta["params"] == dataclasses.asdict(tiny_params)
    update_meta(tmp_path / "m", mlflow_run_id="abc")
    assert json.loads((tmp_path / "m" / META_FILE).read_text())["mlflow_run_id"] == "abc"


def test_two_runs_are_identical(small_corpus, tiny_params, tmp_path):
    a = _run(small_corpus, tmp_path / "a", tiny_params)
    b = _run(small_corpus, tmp_path / "b", tiny_params)
    assert a.loss_curve == b.loss_curve and a.val_loss == b.val_loss
    wa, wb = load_file(tmp_path / "a" / "model.safetensors"), load_file(tmp_path / "b" / "model.safetensors")
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)
    for f in ("tokenizer.json", "config.json", META_FILE):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()


def test_another_seed_gives_another_run(small_corpus, tiny_params, tmp_path):
    a = _run(small_corpus, tmp_path / "a", tiny_params)
    b = _run(small_corpus, tmp_path / "b", dataclasses.replace(tiny_params, seed=1))
    assert a.loss_curve != b.loss_curve


def test_grad_accum_fp32_and_packing_run(small_corpus, tiny_params, tmp_path):
    p = dataclasses.replace(tiny_params, grad_accum=2, bf16=False, packing=True, max_steps=2)
    res = _run(small_corpus, tmp_path / "m", p)
    assert len(res.loss_curve) == 2 and all(math.isfinite(v) for _, v in res.loss_curve)
    # Packing puts several ~300-token chats in each 512 row: more tokens than 2 x 2 x 2 rows of one.
    assert res.train_tokens > 8 * 250


def test_fine_tunes_a_local_checkpoint(small_corpus, tiny_params, tmp_path):
    first = _run(small_corpus, tmp_path / "base", tiny_params)
    p = dataclasses.replace(tiny_params, model=str(tmp_path / "base"), max_steps=3)
    res = _run(small_corpus, tmp_path / "ft", p)
    assert res.base_model == str(tmp_path / "base")
    # Training goes on from the trained weights, not from a fresh init.
    assert res.loss_curve[0][1] < first.loss_curve[0][1]
    assert (tmp_path / "ft" / "tokenizer.json").read_bytes() == (tmp_path / "base" / "tokenizer.json").read_bytes()


def test_too_short_max_seq_len_drops_everything_with_a_clear_error(small_corpus, tiny_params, tmp_path):
    from termcorpus.errors import DataError

    with pytest.raises(DataError, match="no training episode fits train.max_seq_len=32"):
        _run(small_corpus, tmp_path / "m", dataclasses.replace(tiny_params, max_seq_len=32))


def test_refuses_to_overwrite_a_foreign_directory(small_corpus, tiny_params, tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "precious.txt").write_text("keep me")
    with pytest.raises(ConfigError, match="refusing to overwrite"):
        _run(small_corpus, tmp_path / "m", tiny_params)
    assert (tmp_path / "m" / "precious.txt").exists()


def test_missing_checkpoint_path_is_a_config_error(small_corpus, tiny_params, tmp_path):
    with pytest.raises(ConfigError, match="'train.model'"):
        _run(small_corpus, tmp_path / "m", dataclasses.replace(tiny_params, model=str(tmp_path / "nothing")))


def test_heads_must_divide(small_corpus, tiny_params, tmp_path):
    with pytest.raises(ConfigError, match="num_kv_heads"):
        _run(small_corpus, tmp_path / "m", dataclasses.replace(tiny_params, num_heads=3, num_kv_heads=2))
