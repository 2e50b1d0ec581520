"""Packing: rows fit max_seq_len, nothing is lost or repeated, order roughly kept, and episodes
in one packed row do not see each other (logits alone == logits inside the pack)."""

from __future__ import annotations

import itertools
import random

import pytest
import torch

from termcorpus.train import data as D
from termcorpus.train.data import PACK_LOOKAHEAD, row_stream as _row_stream


def _examples(n: int, seed: int = 0) -> list[D.Example]:
    rng = random.Random(seed)
    return [D.Example(input_ids=[i] * rng.randint(20, 200), labels=[i] * 3) for i in range(n)]


def _first_epoch(rows, n):
    seen: list[int] = []
    for row in rows:
        seen.extend(e.input_ids[0] for e in row)
        if len(seen) >= n:
            return seen[:n]


def test_packed_rows_fit_and_fill():
    ex = _examples(500)
    rows = list(itertools.islice(_row_stream(D.ordered(ex, 0), max_seq_len=512, packing=True), 100))
    assert all(sum(len(e.input_ids) for e in r) <= 512 for r in rows)
    fill = sum(len(e.input_ids) for r in rows for e in r) / (512 * len(rows))
    assert fill > 0.97


def test_packing_keeps_each_example_once_and_close_to_its_place():
    n = 300
    ex = _examples(n, seed=1)
    # The first epoch is the stored order; the look-ahead window delays no example past its end.
    order = _first_epoch(_row_stream(D.ordered(ex, 0), max_seq_len=512, packing=True), n - PACK_LOOKAHEAD)
    assert len(set(order)) == len(order)
    assert all(i < n for i in order)
    # An example can be pulled forward only from inside the look-ahead window.
    assert all(pos >= i - PACK_LOOKAHEAD for pos, i in enumerate(order))
    # And no example is held back forever: the first 100 are all placed within 250 placements.
    assert set(range(100)) <= set(order[:250])


def test_packed_stream_is_deterministic():
    ex = _examples(200, seed=2)
    a = list(itertools.islice(_row_stream(D.ordered(ex, 3), max_seq_len=512, packing=True), 150))
    b = list(itertools.islice(_row_stream(D.ordered(ex, 3), max_seq_len=512, packing=True), 150))
    assert a == b


def _tiny_model():
    from transformers import Qwen3Config, Qwen3ForCausalLM

    from termcorpus.train.model import VARLEN_ATTENTION

    torch.manual_seed(0)
    cfg = Qwen3Config(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                      num_key_value_heads=2, head_dim=8, max_position_embeddings=128, tie_word_embeddings=True)
    model = Qwen3ForCausalLM(cfg).eval()
    model.set_attn_implementation(VARLEN_ATTENTION)  # what the loop trains packed batches with
    return model


def _episodes(seed: int, lengths) -> list[D.Example]:
    rng = random.Random(seed)
    return [D.Example([rng.randrange(64) for _ in range(n)], [rng.randrange(64) for _ in range(n)]) for n in lengths]


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_packed_episodes_do_not_attend_to_each_other(dtype):
    model = _tiny_model()
    eps = _episodes(0, (17, 9, 30))
    batch = D.collate([eps[:2], eps[2:]], pad_id=0, packing=True)
    assert batch["input_ids"].shape == (1, 56) and "attention_mask" not in batch  # no padding at all
    tol = dict(atol=2e-2, rtol=1e-2) if dtype == torch.bfloat16 else dict(atol=1e-5, rtol=1e-5)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype == torch.bfloat16):
        packed = model(**{k: v for k, v in batch.items() if k != "labels"}, use_cache=False).logits.float()
        at = 0
        for e in eps:
            alone = model(input_ids=torch.tensor([e.input_ids]), use_cache=False).logits.float()
            torch.testing.assert_close(packed[0, at : at + len(e.input_ids)], alone[0], **tol)
            at += len(e.input_ids)


def test_packed_loss_equals_the_token_weighted_loss_of_each_episode_alone():
    model = _tiny_model()
    eps = _episodes(1, (12, 20, 7))
    batch = D.collate([eps], pad_id=0, packing=True)
    # No episode is trained to predict the next one's first token.
    assert [batch["labels"][0, i].item() for i in (0, 12, 32)] == [D.IGNORE] * 3
    with torch.no_grad():
        packed = model(**batch, use_cache=False).loss
        total = sum(model(input_ids=torch.tensor([e.input_ids]), labels=torch.tensor([e.labels])).loss * (len(e.input_ids) - 1)
                    for e in eps)
    torch.testing.assert_close(packed, total / sum(len(e.input_ids) - 1 for e in eps), atol=1e-5, rtol=1e-5)


def test_without_episode_boundaries_the_pack_would_leak():
    """The isolation test can fail: one causal attention over the same flat sequence changes the logits."""
    model = _tiny_model()
    eps = _episodes(2, (12, 15))
    batch = D.collate([eps], pad_id=0, packing=True)
    with torch.no_grad():
        leaky = model(input_ids=batch["input_ids"], use_cache=False).logits
        alone = model(input_ids=torch.tensor([eps[1].input_ids]), use_cache=False).logits
    assert not torch.allclose(leaky[0, 12:], alone[0], atol=1e-3)


def test_saved_model_uses_plain_sdpa(tmp_path):
    """Packing is training-only: the checkpoint inference loads has the library's sdpa."""
    model = _tiny_model()
    model.set_attn_implementation("sdpa")
    model.save_pretrained(tmp_path)
    from transformers import AutoModelForCausalLM

    assert AutoModelForCausalLM.from_pretrained(tmp_path).config._attn_implementation == "sdpa"
