"""Assistant-only labels, corpus loading errors, batch order and the collators."""

from __future__ import annotations

import itertools

import datasets
import pytest
import torch

from termcorpus.errors import DataError
from termcorpus.train import data as D
from termcorpus.train.chat import IM_END, render_chat
from termcorpus.train.tokenizer import train_tokenizer


@pytest.fixture(scope="module")
def rows(synth):
    return synth.make_rows(40, seed=11)


@pytest.fixture(scope="module")
def tok(rows):
    return train_tokenizer([render_chat(r["messages"]) for r in rows], [r["slot_values"] for r in rows], 360)


def test_labels_cover_exactly_the_assistant_content(tok, rows):
    for r in rows[:10]:
        ex = D.encode_chat(tok, r["messages"])
        assert len(ex.input_ids) == len(ex.labels)
        trained = [i for i, lab in zip(ex.input_ids, ex.labels) if lab != D.IGNORE]
        assert [lab for lab in ex.labels if lab != D.IGNORE] == trained
        expected = "".join(m["content"] + IM_END for m in r["messages"] if m["role"] == "assistant")
        assert tok.decode(trained) == expected


def test_encoding_matches_inference_tokenization(tok, rows):
    msgs = rows[0]["messages"]
    ex = D.encode_chat(tok, msgs)
    assert ex.input_ids == tok(render_chat(msgs), add_special_tokens=False)["input_ids"]
    # The inference prompt (history + open assistant turn) is a token prefix of the training row.
    prompt = tok(render_chat(msgs[:1], add_generation_prompt=True), add_special_tokens=False)["input_ids"]
    assert ex.input_ids[: len(prompt)] == prompt
    assert ex.labels[len(prompt)] != D.IGNORE and ex.labels[len(prompt) - 1] == D.IGNORE


def test_user_text_is_never_trained(tok):
    msgs = [{"role": "user", "content": "SECRET user words"}, {"role": "assistant", "content": "ok"}]
    ex = D.encode_chat(tok, msgs)
    trained = tok.decode([i for i, lab in zip(ex.input_ids, ex.labels) if lab != D.IGNORE])
    assert trained == "ok" + IM_END


def test_prompt_loss_labels_every_token_of_the_training_stream_only(tok, rows):
    import dataclasses

    from termcorpus.params import TrainParams

    chats = [D.Chat(messages=tuple((m["role"], m["content"]) for m in r["messages"])) for r in rows[:4]]
    enc = D.encode_split(tok, chats, max_seq_len=4096)
    off = next(D.example_stream(enc, 0, 4096, tok, 0.0))
    on = next(D.example_stream(enc, 0, 4096, tok, 0.0, prompt_loss=True))
    assert on.input_ids == off.input_ids == enc.examples[0].input_ids
    assert on.labels == on.input_ids and D.IGNORE in off.labels
    # The encoded split itself keeps assistant-only labels (the validation loss is computed on it).
    assert enc.examples[0].labels == off.labels
    params = dataclasses.replace(TrainParams(), max_seq_len=4096, prompt_loss=True)
    batch = D.collate([next(D.training_rows(enc, tok, params))], tok.pad_token_id, packing=True)
    # Only each episode's first position is unlabelled (the collator: no episode predicts the next).
    assert int((batch["labels"] == D.IGNORE).sum()) == len(batch["cu_seq_lens_q"]) - 1


def test_too_long_and_untrained_chats_are_dropped_and_counted(tok, rows):
    chats = [D.Chat(messages=tuple((m["role"], m["content"]) for m in r["messages"])) for r in rows[:6]]
    chats.append(D.Chat(messages=(("user", "only a question"),)))
    lengths = sorted(len(D.encode_chat(tok, c.as_dicts()).input_ids) for c in chats[:6])
    enc = D.encode_split(tok, chats, max_seq_len=lengths[2])
    assert enc.dropped_too_long == 3
    assert enc.dropped_no_assistant == 1
    assert len(enc.examples) == 3


def test_first_epoch_keeps_corpus_order_later_ones_reshuffle():
    assert D.epoch_order(10, 0, seed=0) == list(range(10))
    e1 = D.epoch_order(10, 1, seed=0)
    assert sorted(e1) == list(range(10)) and e1 != list(range(10))
    assert e1 == D.epoch_order(10, 1, seed=0)
    assert e1 != D.epoch_order(10, 2, seed=0)
    assert e1 != D.epoch_order(10, 1, seed=1)


def test_padded_collator_masks_padding():
    a, b = D.Example([5, 6, 7], [-100, 6, 7]), D.Example([8], [-100])
    batch = D.collate_padded([a, b], pad_id=3)
    assert batch["input_ids"].tolist() == [[5, 6, 7], [8, 3, 3]]
    assert batch["labels"].tolist() == [[-100, 6, 7], [-100, -100, -100]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]


def test_packed_collator_flattens_and_restarts_positions():
    a, b, c = D.Example([5, 6, 7], [-100, 6, 7]), D.Example([8, 9], [8, 9]), D.Example([4], [-100])
    rows = list(itertools.islice(D.row_stream(iter([a, b, c] + [c] * 70), max_seq_len=5, packing=True), 2))
    rows[1] = rows[1][:1]
    assert [[len(e.input_ids) for e in r] for r in rows] == [[3, 2], [1]]
    batch = D.collate(rows, pad_id=3, packing=True)
    assert batch["input_ids"].tolist() == [[5, 6, 7, 8, 9, 4]]
    assert batch["position_ids"].tolist() == [[0, 1, 2, 0, 1, 0]]
    # Each episode's first label is ignored: no episode learns to predict the next one's start.
    assert batch["labels"].tolist() == [[-100, 6, 7, -100, 9, -100]]
    assert batch["cu_seq_lens_q"].tolist() == [0, 3, 5, 6]
    assert batch["input_ids"].dtype == torch.long


def test_missing_corpus_names_the_path(tmp_path):
    with pytest.raises(DataError, match="corpus directory not found"):
        D.load_corpus(tmp_path / "nope")


def test_missing_messages_column_names_the_split(tmp_path):
    dd = datasets.DatasetDict({"train": datasets.Dataset.from_list([{"text": "x"}])})
    dd.save_to_disk(str(tmp_path / "c"))
    with pytest.raises(DataError, match="split 'train' has no 'messages' column"):
        D.load_corpus(tmp_path / "c")


def test_bad_role_names_the_row(tmp_path):
    good = {"role": "user", "content": "a"}
    bad = {"role": "robot", "content": "b"}
    dd = datasets.DatasetDict({"train": datasets.Dataset.from_list([{"messages": [good]}, {"messages": [good, bad]}])})
    dd.save_to_disk(str(tmp_path / "c"))
    with pytest.raises(DataError, match=r"\[train\]\[1\].*messages\[1\]\.role"):
        D.load_corpus(tmp_path / "c")


def test_train_subsets_keep_those_rows_of_the_train_split_and_all_of_validation(synth, tmp_path, rows):
    kinds = ["seed_based", "skill_based", "dataset_adapters"]
    train = [{**r, "subset": kinds[i % 3]} for i, r in enumerate(rows[:9])]
    val = [{**r, "subset": "skill_based"} for r in rows[9:11]]
    path = synth.save_corpus(tmp_path / "c", train, val)
    corpus = D.load_corpus(path, subsets=["seed_based", "dataset_adapters"])
    assert [c.messages[0][1] for c in corpus["train"]] == [
        r["messages"][0]["content"] for r in train if r["subset"] != "skill_based"]
    assert len(corpus["validation"]) == 2  # validation stays whole: arms share their val loss
    assert len(D.load_corpus(path)["train"]) == 9  # empty: every subset
    with pytest.raises(DataError, match=r"train.subsets: no 'seed' rows \(the split has: dataset_adapters, seed_based, "):
        D.load_corpus(path, subsets=["seed"])


def test_corpus_loads_in_stored_order_with_slots(synth, tmp_path, rows):
    path = synth.save_corpus(tmp_path / "c", rows[:5], rows[5:7])
    corpus = D.load_corpus(path)
    assert [c.messages[0][1] for c in corpus["train"]] == [r["messages"][0]["content"] for r in rows[:5]]
    assert list(corpus["train"][0].slot_values) == rows[0]["slot_values"]
    assert len(corpus["validation"]) == 2
