"""Step checkpoints and resume, in process on a tiny Qwen3 (the SIGKILL version is in tests/reliability).

An interrupted run is simulated by deleting the newest checkpoints of a finished run: the rerun
must pick up the newest remaining one and end with the same loss curve and the same weights.
"""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch
from safetensors.torch import load_file

from termcorpus.errors import ConfigError
from termcorpus.train import checkpoints as C
from termcorpus.train.loop import META_FILE, train
from termcorpus.train.tokenizer import TOKENIZER_RECIPE


@pytest.fixture
def params(tiny_params):
    return dataclasses.replace(tiny_params, max_steps=10, log_every=4, save_every=3, keep_checkpoints=2)


def _run(corpus, out, params, ckpt=None, on_log=None):
    return train(corpus_dir=corpus, out_dir=out, params=params, checkpoint_dir=ckpt, on_log=on_log, progress=False)


def _same_weights(a, b) -> bool:
    wa, wb = load_file(a / "model.safetensors"), load_file(b / "model.safetensors")
    return wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


def test_resume_from_an_older_checkpoint_matches_an_uninterrupted_run(small_corpus, params, tmp_path):
    ref = _run(small_corpus, tmp_path / "ref", params)
    ck = tmp_path / "ck"
    first = _run(small_corpus, tmp_path / "a", params, ck)
    assert first.resumed_from_step == 0 and first.loss_curve == ref.loss_curve
    assert [s for s, _ in C.list_checkpoints(ck)] == [6, 9]  # keep_checkpoints=2

    # As if killed between step 6 and step 9: the newest checkpoint never got written.
    import shutil

    shutil.rmtree(ck / "step-000009")
    logged: list[tuple[int, float]] = []
    res = _run(small_corpus, tmp_path / "b", params, ck, on_log=lambda s, v: logged.append((s, v)))
    assert res.resumed_from_step == 6
    # Step 6 falls inside a log window (log_every=4): the partial window was restored too.
    assert res.loss_curve == ref.loss_curve and res.final_loss == ref.final_loss
    assert logged == ref.loss_curve  # restored points are replayed to on_log
    assert res.val_loss == ref.val_loss and res.train_tokens == ref.train_tokens
    assert _same_weights(tmp_path / "ref", tmp_path / "b")
    assert (tmp_path / "ref" / META_FILE).read_bytes() == (tmp_path / "b" / META_FILE).read_bytes()


def test_checkpoint_holds_weights_state_and_metadata(small_corpus, params, tmp_path):
    ck = tmp_path / "ck"
    _run(small_corpus, tmp_path / "m", params, ck)
    d = ck / "step-000009"
    names = {p.name for p in d.iterdir()}
    assert {"model.safetensors", "config.json", "state-rank0.pt", C.CKPT_META} <= names
    meta = json.loads((d / C.CKPT_META).read_text())
    assert meta["step"] == 9 and meta["max_steps"] == 10 and meta["num_processes"] == 1
    assert meta["params_digest"] == C.params_digest(params, recipe=TOKENIZER_RECIPE)
    assert meta["corpus_digest"].endswith(".dir")
    assert meta["loss"] is not None  # the last logged loss (step 8)
    state = torch.load(d / "state-rank0.pt", weights_only=True)
    assert set(state) == {"optimizer", "scheduler", "rng", "loop"}
    assert state["loop"]["step"] == 9 and state["loop"]["rows_consumed"] == 9 * params.batch_size
    assert state["scheduler"]["last_epoch"] == 9
    assert not any(p.name.endswith(".tmp") for p in ck.iterdir())


def test_other_params_start_fresh_and_sweep_stale_checkpoints(small_corpus, params, tmp_path):
    ck = tmp_path / "ck"
    _run(small_corpus, tmp_path / "a", params, ck)
    (ck / ".step-000012.tmp").mkdir()  # a save cut short by a kill
    res = _run(small_corpus, tmp_path / "b", dataclasses.replace(params, lr=1e-3, save_every=0), ck)
    assert res.resumed_from_step == 0
    assert list(ck.iterdir()) == []  # incompatible and partial checkpoints removed


def test_bookkeeping_params_do_not_prevent_resume(small_corpus, params, tmp_path):
    ck = tmp_path / "ck"
    _run(small_corpus, tmp_path / "a", params, ck)
    res = _run(small_corpus, tmp_path / "b", dataclasses.replace(params, save_every=5, keep_checkpoints=3), ck)
    assert res.resumed_from_step == 9
    assert [s for s, _ in C.list_checkpoints(ck)] == [6, 9, 10]


def test_checkpoint_dir_inside_the_output_is_refused(small_corpus, params, tmp_path):
    with pytest.raises(ConfigError, match="must not contain each other"):
        _run(small_corpus, tmp_path / "m", params, tmp_path / "m" / "checkpoints")


def test_bookkeeping_keys_are_params():
    from termcorpus.params import TrainParams

    names = {f.name for f in dataclasses.fields(TrainParams)}
    assert set(C.BOOKKEEPING_KEYS) <= names


def test_a_checkpoint_from_another_tokenizer_recipe_is_swept_not_resumed(small_corpus, params, tmp_path):
    # A checkpoint written by code that pre-tokenized differently (same params and corpus): the
    # recipe is part of the run digest, so the next run sweeps it and starts over, where before
    # it stopped with "the tokenizer learned now differs" and `dvc repro` could not go on.
    ck = tmp_path / "ck"
    _run(small_corpus, tmp_path / "a", params, ck)
    for step in ck.glob("step-*"):
        meta = json.loads((step / C.CKPT_META).read_text())
        meta["params_digest"] = C.params_digest(params)  # as the code before recipes wrote it
        meta["tokenizer_digest"] = "from-other-code"
        (step / C.CKPT_META).write_text(json.dumps(meta))
    out = _run(small_corpus, tmp_path / "b", params, ck)
    _run(small_corpus, tmp_path / "ref", params)
    assert not out.resumed_from_step
    assert _same_weights(tmp_path / "b", tmp_path / "ref")  # from scratch, not the old weights
