"""The training loop: tokenizer, model, assistant-only loss, AdamW + cosine, resumable checkpoints.

Runs unchanged on one CPU process, under ``accelerate launch`` (DDP on CPUs or GPUs, FSDP) and
on one GPU: Accelerate picks the device and wraps the model; the batch order is computed the same
on every process from the seed, and each process takes its own slice of every global batch.

Determinism: on CPU the same corpus, params and process count give the same loss curve and the
same weights. The checkpoint, its ``termcorpus.json`` and ``TrainResult.metrics()`` hold no
timestamps or timings (``TrainResult.timings()`` does: console and MLflow only).

Batches come from ``data.training_rows`` + ``data.collate`` (the one batch stream); packed
batches train with ``model.VARLEN_ATTENTION`` (one causal SDPA per episode).

Resume: with a ``checkpoint_dir``, every ``params.save_every`` steps the weights, optimizer,
scheduler, RNG and loop state (step, rows taken from the batch stream, loss window and curve) are
saved (see ``checkpoints.py``). A run that finds a compatible checkpoint there continues from it:
the row stream is fast-forwarded by the rows already trained on, so the batches, the loss curve
and the final weights equal those of an uninterrupted run (bitwise on CPU).
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

import torch
from tqdm.auto import tqdm

from termcorpus.checkpoint_meta import META_FILE, META_SCHEMA, update_meta, write_meta
from termcorpus.errors import ConfigError, DataError
from termcorpus.params import TrainParams, as_dict
from termcorpus.runtime import dvc_md5
from termcorpus.train import checkpoints as C
from termcorpus.train import data as D
from termcorpus.train.copy_episodes import copy_episodes, interleave
from termcorpus.train.splice import splice_episodes
from termcorpus.train.model import VARLEN_ATTENTION, build_tiny, count_params, is_preset, load_pretrained
from termcorpus.train.names import PLACEHOLDERS, NameCodec
from termcorpus.train.tokenizer import TOKENIZER_RECIPE, train_tokenizer
from transformers import get_cosine_schedule_with_warmup



@dataclass
class TrainResult:
    """What one training run measured; ``metrics()`` is the stage's metrics file."""

    loss_curve: list[tuple[int, float]]
    final_loss: float
    val_loss: float | None
    tokens_per_sec: float
    train_tokens: int
    train_seconds: float
    n_params: int
    steps: int
    n_train_episodes: int
    n_val_episodes: int
    dropped_too_long: int
    dropped_no_assistant: int
    vocab_size: int
    base_model: str
    corpus_digest: str
    num_processes: int = 1
    resumed_from_step: int = 0  # 0: started fresh
    real_token_share: float = 0.0  # non-pad share of the trained batches' token positions
    n_val_dropped_too_long: int = 0
    cpu_seconds: float = 0.0  # process CPU time of the loop (all threads of this process)
    n_copy_episodes: int = 0  # train.copy_episodes interleaved into the train split (in n_train_episodes)
    n_splice_episodes: int = 0  # train.splice_episodes interleaved into the train split (in n_train_episodes)

    def metrics(self) -> dict[str, float | int | None]:
        """The run's numbers (the same for the same inputs, no timings): metrics/train.json takes its
        headline (tracking/metrics.py), MLflow and reports/train_detail.json all of them."""
        return {
            "final_loss": self.final_loss,
            "val_loss": self.val_loss,
            "n_params": self.n_params,
            "steps": self.steps,
            "train_tokens": self.train_tokens,
            "n_train_episodes": self.n_train_episodes,
            "dropped_too_long": self.dropped_too_long,
            "dropped_no_assistant": self.dropped_no_assistant,
            "dropped": self.dropped_too_long + self.dropped_no_assistant,
            "real_token_share": round(self.real_token_share, 4),
        }

    def detail(self) -> dict[str, object]:
        """Everything else that is deterministic (reports/train_detail.json)."""
        return {
            "n_val_episodes": self.n_val_episodes,
            "val_dropped_too_long": self.n_val_dropped_too_long,
            "n_copy_episodes": self.n_copy_episodes,
            "n_splice_episodes": self.n_splice_episodes,
            "vocab_size": self.vocab_size,
            "base_model": self.base_model,
            "corpus_digest": self.corpus_digest,
            "num_processes": self.num_processes,
            "loss_curve": [[s, v] for s, v in self.loss_curve],
        }

    def timings(self) -> dict[str, float]:
        """Wall-clock numbers: stderr and MLflow only (they differ run to run)."""
        return {"tokens_per_sec": round(self.tokens_per_sec, 1), "train_seconds": round(self.train_seconds, 1),
                "cpu_seconds": round(self.cpu_seconds, 1)}


def _check_out_dir(out_dir: Path, model: str) -> None:
    """Refuse an output directory that is not one of our checkpoints (or is the base model)."""
    if not is_preset(model) and Path(model).resolve() == out_dir.resolve():
        raise ConfigError(f"'train.model' {model!r} is the output directory: fine-tune into a different --out")
    if out_dir.exists():
        if not out_dir.is_dir():
            raise ConfigError("output path exists and is not a directory", where=str(out_dir))
        if any(out_dir.iterdir()) and not (out_dir / META_FILE).exists():
            raise ConfigError(
                f"output directory is not empty and holds no {META_FILE}: refusing to overwrite it",
                where=str(out_dir),
            )


def _empty_out_dir(out_dir: Path) -> None:
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)


def _tokenizer_digest(tokenizer) -> str:
    return hashlib.sha256(tokenizer.backend_tokenizer.to_str().encode("utf-8")).hexdigest()


def _param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    # Decay matrices only; norms (1-D) are left alone, as is usual for transformers.
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (decay if p.ndim >= 2 else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


@torch.no_grad()
def _validation_loss(accelerator, model, examples: Sequence[D.Example], batch_size: int, pad_id: int) -> float | None:
    """Token-weighted mean cross-entropy over the trained tokens of the validation split."""
    if not examples:
        return None
    model.eval()
    # Similar lengths together waste less padding; the order is fixed, so the sum is too.
    ordered = sorted(examples, key=lambda e: len(e.input_ids))
    nproc, rank = accelerator.num_processes, accelerator.process_index
    total = torch.zeros(2, dtype=torch.float64, device=accelerator.device)
    # Every rank runs the same number of forwards (FSDP all-gathers inside each one; a rank that
    # skipped one would hang the others): a rank whose slice of the last batch is empty runs a
    # stand-in example and does not count it.
    for start in range(0, len(ordered), batch_size * nproc):
        mine = ordered[start + rank * batch_size : start + (rank + 1) * batch_size]
        counted = bool(mine)
        batch = {k: v.to(accelerator.device) for k, v in D.collate_padded(mine or ordered[:1], pad_id).items()}
        labels = batch.pop("labels")
        if not counted:
            labels.fill_(D.IGNORE)
        with accelerator.autocast():
            logits = model(**batch, use_cache=False).logits.float()
        shift_logits = logits[:, :-1].reshape(-1, logits.size(-1))
        shift_labels = labels[:, 1:].reshape(-1)
        loss = torch.nn.functional.cross_entropy(shift_logits, shift_labels, ignore_index=D.IGNORE, reduction="sum")
        total[0] += loss.double()
        total[1] += (shift_labels != D.IGNORE).sum()
    total = accelerator.reduce(total, reduction="sum")
    model.train()
    return float(total[0] / total[1]) if total[1] > 0 else None


def _reset_single_process_state() -> None:
    """Forget an earlier run's Accelerate settings when this process trains again (tests, notebooks).

    AcceleratorState is a process-wide singleton that refuses a second, different precision.
    Only a lone process is reset: under a launcher the state belongs to the whole process group.
    """
    from accelerate.state import AcceleratorState, PartialState

    if AcceleratorState._shared_state and PartialState().num_processes == 1:
        AcceleratorState._reset_state()


def _check_checkpoint_dir(checkpoint_dir: Path, out_dir: Path) -> None:
    c, o = checkpoint_dir.resolve(), out_dir.resolve()
    if c == o or o in c.parents or c in o.parents:
        raise ConfigError(
            f"checkpoint directory {checkpoint_dir} and output directory {out_dir} must not contain each other "
            "(the output is emptied before training; set 'train.resume_dir' elsewhere)"
        )


def tiny_inputs(corpus: dict[str, list[D.Chat]], params: TrainParams):
    """What the tiny preset trains on: ``(corpus, codec, tokenizer)``, the chats with their names
    as placeholders when ``train.name_codec`` (codec learnt from the train split only; validation
    is encoded with the same vocabulary; codec None otherwise), the BPE tokenizer learnt from
    the train split, and ``train.copy_episodes`` and ``train.splice_episodes`` interleaved into
    the train split. Shared with bench/bench_train.py, so its plain loop sees train()'s tokens."""
    codec = NameCodec.learn(corpus["train"]) if params.name_codec else None
    # values the codec leaves spelled out (numbers, vocabulary, punctuation) are the copies to drill
    prefer = (lambda v: not codec.mapping([v])) if codec is not None else None
    synthetic = synthetic_episodes(corpus["train"], params, prefer=prefer)
    if codec is not None:
        corpus = {split: D.encode_names(chats, codec) for split, chats in corpus.items()}
        synthetic = list(zip([i for i, _ in synthetic], D.encode_names([c for _, c in synthetic], codec)))
    tokenizer = train_tokenizer(
        [c.text for c in corpus["train"]], [list(c.slot_values) for c in corpus["train"]], params.vocab_size,
        extra_tokens=PLACEHOLDERS if codec is not None else (),
    )
    # Copy and splice episodes join the train split after the codec and the tokenizer were learnt
    # from the real chats alone, so both stay those of a run without them.
    return {**corpus, "train": interleave(corpus["train"], synthetic)}, codec, tokenizer


def synthetic_episodes(chats: Sequence[D.Chat], params: TrainParams,
                       prefer: Callable[[str], bool] | None = None) -> list[tuple[int, D.Chat]]:
    """The ``(i, chat)`` pairs :func:`interleave` puts after training chat ``i``: copy episodes
    (``train.copy_episodes``), then splices (``train.splice_episodes``); none by default."""
    return (copy_episodes(chats, params.copy_episodes, params.seed, prefer=prefer)
            + splice_episodes(chats, params.splice_episodes, params.seed))


def train(
    *,
    corpus_dir: Path,
    out_dir: Path,
    params: TrainParams,
    checkpoint_dir: Path | None = None,
    on_log: Callable[[int, float], None] | None = None,
    progress: bool = True,
) -> TrainResult:
    """Train on ``corpus_dir`` and save the checkpoint (weights, tokenizer, termcorpus.json) in ``out_dir``.

    ``checkpoint_dir``: where step checkpoints go every ``params.save_every`` steps and where a
    killed run resumes from (None: neither). ``on_log(step, loss)`` is called on the main process
    for every loss log point, including those restored from a checkpoint.
    """
    from accelerate import Accelerator
    from accelerate.utils import gather_object, set_seed

    corpus_dir, out_dir = Path(corpus_dir), Path(out_dir)
    if checkpoint_dir is not None:
        checkpoint_dir = Path(checkpoint_dir)
        _check_checkpoint_dir(checkpoint_dir, out_dir)
    _reset_single_process_state()
    # cpu=True when torch sees no GPU: without it, ranks started by torchrun on a CPU-only
    # machine each fall back to a lone single process instead of joining one gloo group.
    accelerator = Accelerator(
        mixed_precision="bf16" if params.bf16 else "no", cpu=torch.accelerator.current_accelerator() is None
    )
    set_seed(params.seed)
    corpus = D.load_corpus(corpus_dir, subsets=params.subsets)
    if not corpus["train"]:
        raise DataError("the 'train' split is empty", where=str(corpus_dir))

    codec = None
    if is_preset(params.model):
        # Every process learns the tokenizer itself (no shared filesystem needed); it is
        # deterministic, and the digests are compared below to be sure.
        corpus, codec, tokenizer = tiny_inputs(corpus, params)
        model = build_tiny(params, tokenizer)
    else:
        model, tokenizer = load_pretrained(params.model)
        corpus["train"] = interleave(corpus["train"], synthetic_episodes(corpus["train"], params))
    origins = Counter(c.origin for c in corpus["train"])
    if accelerator.num_processes > 1:
        digests = gather_object([_tokenizer_digest(tokenizer)])
        if len(set(digests)) != 1:
            raise RuntimeError("processes learned different tokenizers; BPE training is not deterministic here")
    pad_id = tokenizer.pad_token_id
    corpus_digest = dvc_md5(corpus_dir)
    run_digest = C.params_digest(params, recipe=TOKENIZER_RECIPE if is_preset(params.model) else "")
    tok_digest = _tokenizer_digest(tokenizer)
    resume_from: Path | None = None
    if checkpoint_dir is not None:
        if accelerator.is_main_process:
            C.find_resumable(
                checkpoint_dir, params_digest=run_digest, corpus_digest=corpus_digest,
                num_processes=accelerator.num_processes,
            )
        accelerator.wait_for_everyone()
        resume_from = C.find_resumable(
            checkpoint_dir, params_digest=run_digest, corpus_digest=corpus_digest,
            num_processes=accelerator.num_processes, sweep=False,
        )
    if resume_from is not None:
        meta = C.read_meta(resume_from)
        if meta.get("tokenizer_digest") != tok_digest:
            raise DataError(
                "the tokenizer learned now differs from the checkpoint's although params and corpus match; "
                "delete the checkpoint directory to start over",
                where=str(resume_from),
            )
        # Before prepare(): the wrapped (DDP/FSDP) model then starts from these exact weights.
        C.load_weights(model, resume_from)

    train_enc = D.encode_split(tokenizer, corpus["train"], params.max_seq_len)
    val_enc = D.encode_split(tokenizer, corpus["validation"], params.max_seq_len)
    if not train_enc.examples:
        raise DataError(
            f"no training episode fits train.max_seq_len={params.max_seq_len} "
            f"({train_enc.dropped_too_long} too long, {train_enc.dropped_no_assistant} without an assistant turn)",
            where=str(corpus_dir),
        )
    # Every rank checks (so a refusal stops them all), only the main one empties the directory.
    _check_out_dir(out_dir, params.model)
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        _empty_out_dir(out_dir)

    n_params = count_params(model)
    if params.packing:
        # Flat packed batches: one causal SDPA per episode (model.VARLEN_ATTENTION); the saved
        # model goes back to plain sdpa (save_checkpoint).
        model.set_attn_implementation(VARLEN_ATTENTION)
    model.train()
    optimizer = torch.optim.AdamW(
        _param_groups(model, params.weight_decay), lr=params.lr, betas=(0.9, 0.95), eps=1e-8
    )
    model, optimizer = accelerator.prepare(model, optimizer)
    # The scheduler is stepped by hand once per optimizer step; Accelerate's wrapper would step
    # it once per process and shorten the schedule under DDP.
    scheduler = get_cosine_schedule_with_warmup(optimizer, params.warmup_steps, params.max_steps)

    rows = D.training_rows(train_enc, tokenizer, params)
    nproc, rank = accelerator.num_processes, accelerator.process_index
    bs = params.batch_size
    state = C.LoopState(step=0, rows_consumed=0, tokens=0, window=[0.0, 0.0])
    if resume_from is not None:
        state = C.load_step(accelerator, optimizer, scheduler, resume_from)
        # The row stream is a pure function of (examples, seed): skipping the rows already
        # trained on puts it exactly where the killed run was.
        for _ in range(state.rows_consumed):
            next(rows)
        if accelerator.is_main_process:
            print(f"train: resuming from {resume_from} (step {state.step}/{params.max_steps})", file=sys.stderr)
    resumed_from_step = state.step
    loss_curve: list[tuple[int, float]] = list(state.loss_curve)
    if on_log is not None and accelerator.is_main_process:
        for s_, v_ in loss_curve:
            on_log(s_, v_)
    # loss sum, steps since the last log point
    window = torch.tensor(state.window, dtype=torch.float64, device=accelerator.device)
    tokens_before = state.tokens
    tokens = 0  # real (non-pad) tokens this process trained on in this session
    slots = 0  # token positions of those batches, pads included
    rows_per_step = params.grad_accum * bs * nproc
    save_every = params.save_every if checkpoint_dir is not None else 0
    bar = tqdm(
        total=params.max_steps, initial=state.step, desc="train", unit="step", dynamic_ncols=True,
        disable=None if (progress and accelerator.is_main_process) else True,
    )
    t0, c0 = time.perf_counter(), time.process_time()
    for step in range(state.step + 1, params.max_steps + 1):
        step_loss = 0.0
        for micro in range(params.grad_accum):
            global_rows = [next(rows) for _ in range(bs * nproc)]
            mine = global_rows[rank * bs : (rank + 1) * bs]
            batch = D.collate(mine, pad_id, params.packing)
            slots += batch["input_ids"].numel()
            batch = {k: v.to(accelerator.device, non_blocking=True) for k, v in batch.items()}
            tokens += D.real_tokens(mine)
            last = micro == params.grad_accum - 1
            # Skip the DDP gradient all-reduce on all but the last micro-batch.
            ctx = accelerator.no_sync(model) if not last else contextlib.nullcontext()
            with ctx:
                loss = model(**batch, use_cache=False).loss / params.grad_accum
                accelerator.backward(loss)
            step_loss += loss.detach().double()
        accelerator.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        window[0] += step_loss
        window[1] += 1
        if step % params.log_every == 0 or step == params.max_steps:
            w = accelerator.reduce(window.clone(), reduction="sum")
            value = float(w[0] / w[1])
            loss_curve.append((step, value))
            window.zero_()
            bar.set_postfix(loss=f"{value:.4f}", lr=f"{scheduler.get_last_lr()[0]:.2e}")
            if on_log is not None and accelerator.is_main_process:
                on_log(step, value)
        bar.update(1)
        if save_every and step % save_every == 0:
            snap = C.LoopState(
                step=step, rows_consumed=step * rows_per_step, tokens=tokens_before + tokens,
                window=[float(x) for x in window.tolist()], loss_curve=list(loss_curve),
            )
            C.save_step(
                accelerator, model, optimizer, scheduler, checkpoint_dir, snap,
                meta={
                    "step": step,
                    "max_steps": params.max_steps,
                    "loss": loss_curve[-1][1] if loss_curve else None,
                    "params_digest": run_digest,
                    "corpus_digest": corpus_digest,
                    "tokenizer_digest": tok_digest,
                    "num_processes": nproc,
                },
                keep=params.keep_checkpoints,
            )
    bar.close()
    seconds = time.perf_counter() - t0
    cpu_seconds = time.process_time() - c0
    session_tokens, session_slots = (
        int(x) for x in accelerator.reduce(torch.tensor([tokens, slots], device=accelerator.device), reduction="sum").tolist()
    )
    total_tokens = int(
        accelerator.reduce(torch.tensor([tokens_before + tokens], device=accelerator.device), reduction="sum").item()
    )

    val_loss = _validation_loss(accelerator, model, val_enc.examples, params.batch_size, pad_id)
    result = TrainResult(
        loss_curve=loss_curve,
        final_loss=loss_curve[-1][1],
        val_loss=val_loss,
        tokens_per_sec=session_tokens / seconds if seconds > 0 else 0.0,
        train_tokens=total_tokens,
        train_seconds=seconds,
        n_params=n_params,
        steps=params.max_steps,
        n_train_episodes=len(train_enc.examples),
        n_val_episodes=len(val_enc.examples),
        dropped_too_long=train_enc.dropped_too_long,
        dropped_no_assistant=train_enc.dropped_no_assistant,
        vocab_size=len(tokenizer),
        base_model=params.model,
        corpus_digest=corpus_digest,
        num_processes=nproc,
        resumed_from_step=resumed_from_step,
        real_token_share=session_tokens / session_slots if session_slots else 0.0,
        cpu_seconds=cpu_seconds,
        n_val_dropped_too_long=val_enc.dropped_too_long,
        n_copy_episodes=origins["copy"],
        n_splice_episodes=origins["splice"],
    )
    save_checkpoint(accelerator, model, tokenizer, out_dir, result, params, codec)
    return result


def checkpoint_meta(result: TrainResult, params: TrainParams) -> dict:
    """The small JSON saved beside the weights: what was trained, from what, how far."""
    return {
        "schema_version": META_SCHEMA,
        "base_model": result.base_model,
        "corpus_digest": result.corpus_digest,
        "step": result.steps,
        "n_params": result.n_params,
        "vocab_size": result.vocab_size,
        "final_loss": result.final_loss,
        "val_loss": result.val_loss,
        "n_train_episodes": result.n_train_episodes,
        "dropped_too_long": result.dropped_too_long,
        "num_processes": result.num_processes,
        "params": as_dict(params),
    }


def save_checkpoint(
    accelerator, model, tokenizer, out_dir: Path, result: TrainResult, params: TrainParams,
    codec: NameCodec | None = None,
) -> None:
    """Write safetensors weights, config, tokenizer, the name codec (when trained with one) and
    termcorpus.json (main process only)."""
    accelerator.wait_for_everyone()
    # get_state_dict gathers FSDP shards, so every process must call it.
    state_dict = accelerator.get_state_dict(model)
    if accelerator.is_main_process:
        unwrapped = accelerator.unwrap_model(model)
        if unwrapped.config._attn_implementation == VARLEN_ATTENTION:
            unwrapped.set_attn_implementation("sdpa")  # what inference loads; packing is training-only
        unwrapped.save_pretrained(out_dir, state_dict=state_dict, is_main_process=True)
        tokenizer.save_pretrained(out_dir)
        if codec is not None:
            codec.save(out_dir)
        write_meta(out_dir, checkpoint_meta(result, params))
    accelerator.wait_for_everyone()


__all__ = ["TrainResult", "train", "save_checkpoint", "checkpoint_meta", "update_meta", "META_FILE"]
