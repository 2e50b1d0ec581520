"""After a short training on one fixed chat, greedy generation reproduces its assistant answer.

This is the smallest end-to-end proof that tokenizer, labels, loss, checkpoint and chat template
fit together: any mismatch (a shifted label, a template newline) makes the answer differ.
"""

from __future__ import annotations

import random

from transformers import AutoModelForCausalLM, AutoTokenizer

from termcorpus.params import TrainParams
from termcorpus.train.chat import render_chat
from termcorpus.train.loop import train
from termcorpus.train.names import load_codec


def test_overfit_one_chat_then_generate_it_back(synth, tmp_path):
    chat = synth.make_chat(random.Random(7), k=0)
    corpus = synth.save_corpus(tmp_path / "corpus", [chat], [chat])
    params = TrainParams(
        vocab_size=320, hidden_size=64, num_layers=1, num_heads=2, num_kv_heads=1, head_dim=16,
        intermediate_size=128, max_seq_len=512, batch_size=1, max_steps=100, warmup_steps=5,
        log_every=10, lr=1e-2, register_model=False, bf16=True,
    )
    res = train(corpus_dir=corpus, out_dir=tmp_path / "m", params=params, progress=False)
    assert res.final_loss < 0.05

    tok = AutoTokenizer.from_pretrained(tmp_path / "m")
    model = AutoModelForCausalLM.from_pretrained(tmp_path / "m")
    # The model reads names as placeholders (train.name_codec, on by default) and the codec saved
    # with it maps them back.
    codec = load_codec(tmp_path / "m")
    coded, mapping = codec.encode_messages(chat["messages"][:1])
    assert mapping and "<n0>" in coded[0]["content"]
    prompt = tok.apply_chat_template(coded, add_generation_prompt=True, tokenize=False)
    assert prompt == render_chat(coded, add_generation_prompt=True)
    ids = tok(prompt, return_tensors="pt", add_special_tokens=False)
    out = model.generate(**ids, max_new_tokens=320, do_sample=False)
    new = out[0, ids["input_ids"].shape[1] :]
    assert int(new[-1]) == tok.eos_token_id  # stopped on <|im_end|> by itself
    assert codec.decode(tok.decode(new, skip_special_tokens=True), mapping) == chat["messages"][1]["content"]
