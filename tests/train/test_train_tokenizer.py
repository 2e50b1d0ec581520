"""The corpus-trained BPE: round trip, names in pieces, digits split, ChatML template, determinism."""

from __future__ import annotations

import subprocess
import sys

import pytest
from transformers import AutoTokenizer

from termcorpus.errors import ConfigError
from termcorpus.train.chat import IM_END, IM_START, PAD, SPECIAL_TOKENS, render_chat
from termcorpus.train.tokenizer import blank_slots, train_tokenizer



@pytest.fixture(scope="module")
def rows(synth):
    return synth.make_rows(120, seed=3)


@pytest.fixture(scope="module")
def tok(rows):
    return train_tokenizer([render_chat(r["messages"]) for r in rows], [r["slot_values"] for r in rows], 400)


def test_round_trip_is_exact(tok, rows):
    for text in [render_chat(r["messages"]) for r in rows[:10]] + ["naïve → ünïcode 42 \t tabs\n", "x" * 300]:
        ids = tok(text, add_special_tokens=False)["input_ids"]
        assert tok.decode(ids) == text


def test_slot_values_are_split_into_pieces(tok, rows):
    # A value that also occurs as ordinary template text ('txt' in '.txt') may rightly be a token.
    blanked = "".join(blank_slots(render_chat(r["messages"]), r["slot_values"]) for r in rows)
    values = sorted({v for r in rows for v in r["slot_values"] if len(v) > 1 and v not in blanked})
    assert len(values) > 100
    for v in values:
        assert len(tok.tokenize(v)) >= 2, v


@pytest.mark.parametrize("left,right", [(" ", " "), ("`", "`"), ("'", "'"), ('"', '"'), ("./", "/"),
                                        ("\n", "\n"), ("(", ")"), ("=", ","), ("\t", ";")])
def test_a_name_is_the_same_tokens_in_every_context(tok, rows, left, right):
    # What copying a name from the instruction into a command needs: with GPT-2 pieces
    # " input" and "`input`" start with different tokens, and "'data" splits as "'d" + "ata".
    values = sorted({v for r in rows for v in r["slot_values"] if len(v) > 1})
    values += ["data_x", "sandbox", "token", "report_2024.csv", "Makefile", "dev-env"]
    for v in values:
        bare = tok(v, add_special_tokens=False)["input_ids"]
        ids = tok(f"cat{left}{v}{right}x", add_special_tokens=False)["input_ids"]
        assert any(ids[i:i + len(bare)] == bare for i in range(len(ids))), (v, left, tok.convert_ids_to_tokens(ids))


def test_digits_are_single_tokens(tok):
    assert tok.tokenize("2024") == ["2", "0", "2", "4"]


def test_special_tokens_are_atomic_and_named(tok):
    for s in SPECIAL_TOKENS:
        assert tok.tokenize(s) == [s]
    assert tok.eos_token == IM_END and tok.pad_token == PAD
    assert tok.eos_token_id != tok.pad_token_id
    assert tok.tokenize(IM_START + "assistant\n")[0] == IM_START


def test_chat_template_renders_like_chat_module(tok, rows, tmp_path):
    tok.save_pretrained(tmp_path)
    loaded = AutoTokenizer.from_pretrained(tmp_path)
    msgs = rows[0]["messages"]
    assert loaded.apply_chat_template(msgs, tokenize=False) == render_chat(msgs)
    prompt = loaded.apply_chat_template(msgs[:1], tokenize=False, add_generation_prompt=True)
    assert prompt == render_chat(msgs[:1], add_generation_prompt=True)
    assert prompt.endswith("<|im_start|>assistant\n")
    text = render_chat(msgs)
    assert loaded(text, add_special_tokens=False)["input_ids"] == tok(text, add_special_tokens=False)["input_ids"]


def test_vocab_size_is_respected(tok):
    assert 256 + len(SPECIAL_TOKENS) <= len(tok) <= 400


def test_too_small_vocab_is_a_config_error(rows):
    with pytest.raises(ConfigError, match="vocab_size"):
        train_tokenizer(["abc"], [[]], 100)


def test_blank_slots_removes_longest_first():
    assert blank_slots("cp report_2024 report", ["report", "report_2024"]) == "cp  "
    assert blank_slots("keep", ["", " "]) == "keep"


_SCRIPT = """
import importlib.util
spec = importlib.util.spec_from_file_location("train_conftest", {path!r})
mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
make_rows = mod.make_rows
from termcorpus.train.chat import render_chat
from termcorpus.train.tokenizer import train_tokenizer
rows = make_rows(60, seed=5)
t = train_tokenizer([render_chat(r["messages"]) for r in rows], [r["slot_values"] for r in rows], 360)
print(t.backend_tokenizer.to_str())
"""


def test_training_is_deterministic_across_processes(synth):
    script = _SCRIPT.format(path=synth.path)
    outs = [
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
        for _ in range(2)
    ]
    assert outs[0] == outs[1] and len(outs[0]) > 1000
