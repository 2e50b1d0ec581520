"""Benchmark of the training loop: tokens/s of train() against a plain PyTorch loop, and packing.

    python -m bench.bench_train [--steps 60] [--reps 2] [--threads 1] [--corpus data/corpus] [--write]

* throughput: ``train()`` (Accelerate, assistant-only loss, AdamW + cosine, grad clipping, loss
  logging, step checkpoints off) against a plain PyTorch loop in the same process on the same
  model (the tiny preset built from the same tokenizer and seed), the same batches (the same
  name-coded chats, ``train.loop.tiny_inputs``; the same row stream and collator), AdamW, the default precision (``train.bf16``), grad clipping. Both count real
  (non-pad) tokens over the loop only (no tokenizer training, validation or saving), per wall
  second and per CPU-second. Arms (``arms_for``): padded vs packed batches, train() vs the plain loop,
  and on the plain loop the other precision and torch.compile. Goal: train() within 1.2x of the
  plain loop; packed faster per real token than padded.
* packing: the share of real (non-pad) token positions in the batches the loop trains on, padded
  (one episode per row, padded to the longest in the batch) against packed (every episode of the
  batch in one flat sequence). Goal: >= 95% packed.

The corpus is ``--corpus`` (the curated data/corpus) or else the synthetic Terminus-2 episodes of
the train tests (tests/train/conftest.py, ~130-220 tokens each).
``--write`` replaces the "train" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from bench._results import machine as describe_machine, write_section

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "RESULTS.md"
GOAL_RATIO = 0.9
GOAL_PACKED = 0.95




def _synth():
    spec = importlib.util.spec_from_file_location("train_synth", REPO / "tests/train/conftest.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _params(steps: int, packing: bool):
    from termcorpus.params import TrainParams

    # The params.yaml model and batch shape; a short run, no checkpoints, no registry.
    return dataclasses.replace(
        TrainParams(), max_steps=steps, warmup_steps=5, log_every=10, packing=packing, register_model=False,
        save_every=0,
    )


def _sliced_varlen(module, query, key, value, attention_mask, dropout=0.0, scaling=None, cu_seq_lens_q=None, **kwargs):
    """model.VARLEN_ATTENTION as it was until 2026-12-07: one slice per episode (the baseline of
    the split it uses now; a slice's backward zero-fills a whole-sequence gradient per episode)."""
    import torch
    import torch.nn.functional as F

    bounds = cu_seq_lens_q.tolist()
    outs = [
        F.scaled_dot_product_attention(query[:, :, s:e], key[:, :, s:e], value[:, :, s:e], dropout_p=dropout,
                                       scale=scaling, is_causal=True, enable_gqa=True)
        for s, e in zip(bounds[:-1], bounds[1:])
    ]
    return torch.cat(outs, dim=2).transpose(1, 2).contiguous(), None


SLICED = "bench_sliced_varlen"


def plain_loop(corpus: Path, params, compiled: bool = False, sliced: bool = False) -> tuple[float, float]:
    """The baseline: same model, tokenizer, batches; a bare PyTorch loop. Returns (tok/s wall,
    tok/s per CPU-second of this process). ``compiled``: the model under ``torch.compile``;
    ``sliced``: packed batches with the old per-episode-slice attention (_sliced_varlen)."""
    import torch
    from transformers import AttentionInterface, get_cosine_schedule_with_warmup

    from termcorpus.train import data as D
    from termcorpus.train.loop import _param_groups, tiny_inputs
    from termcorpus.train.model import VARLEN_ATTENTION, build_tiny

    torch.manual_seed(params.seed)
    chats, _, tok = tiny_inputs(D.load_corpus(corpus), params)
    chats = chats["train"]
    model = build_tiny(params, tok)
    if params.packing:
        AttentionInterface.register(SLICED, _sliced_varlen)
        model.set_attn_implementation(SLICED if sliced else VARLEN_ATTENTION)
    model.train()
    enc = D.encode_split(tok, chats, params.max_seq_len)
    opt = torch.optim.AdamW(_param_groups(model, params.weight_decay), lr=params.lr, betas=(0.9, 0.95), eps=1e-8)
    sched = get_cosine_schedule_with_warmup(opt, params.warmup_steps, params.max_steps)
    rows = D.training_rows(enc, tok, params)
    step_model = torch.compile(model, dynamic=True) if compiled else model
    tokens = 0
    t0 = time.perf_counter()
    c0 = time.process_time()
    for _ in range(params.max_steps):
        batch_rows = [next(rows) for _ in range(params.batch_size)]
        batch = D.collate(batch_rows, tok.pad_token_id, params.packing)
        tokens += sum(len(e.input_ids) for r in batch_rows for e in r)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=params.bf16):
            loss = step_model(**batch, use_cache=False).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - c0
    # CPU seconds per thread: on a machine shared with other jobs, process time tracks the work
    # done far better than wall time (wall time counts the turns other processes had).
    return tokens / seconds, tokens / (cpu / max(1, torch.get_num_threads()))


def ours(corpus: Path, params, tmp: Path) -> tuple[float, float]:
    """train() itself: (tok/s wall, tok/s per CPU-second of its loop)."""
    import torch

    from termcorpus.train.loop import train

    r = train(corpus_dir=corpus, out_dir=tmp / "out", params=params, progress=False)
    return r.tokens_per_sec, r.train_tokens / (r.cpu_seconds / max(1, torch.get_num_threads()))


def packing_share(corpus: Path, params, n_batches: int = 200) -> dict[str, float]:
    """Real-token share of the batches the loop would train on, padded and packed."""
    from dataclasses import replace

    from termcorpus.train import data as D
    from termcorpus.train.loop import tiny_inputs

    chats, _, tok = tiny_inputs(D.load_corpus(corpus), params)
    enc = D.encode_split(tok, chats["train"], params.max_seq_len)
    out = {}
    for packing in (False, True):
        rows = D.training_rows(enc, tok, replace(params, packing=packing))
        real = slots = 0
        for _ in range(n_batches):
            batch_rows = [next(rows) for _ in range(params.batch_size)]
            ids = D.collate(batch_rows, tok.pad_token_id, packing)["input_ids"]
            real += sum(len(e.input_ids) for r in batch_rows for e in r)
            slots += ids.numel()
        out["packed" if packing else "padded"] = real / slots
    out["mean_episode_tokens"] = sum(len(e.input_ids) for e in enc.examples) / len(enc.examples)
    return out


def arms_for(bf16: bool) -> tuple:
    """``(name, loop, packing, bf16, torch.compile, sliced attention)``: the layouts against each
    other and against a plain loop on the same batches, all in the default precision (``train.bf16``:
    ``bf16``); then, on the plain loop, the other precision, torch.compile and the old attention."""
    other = "fp32" if bf16 else "bf16 autocast"
    return (
        ("padded, train()", "ours", False, bf16, False, False),
        ("padded, plain loop", "plain", False, bf16, False, False),
        ("packed, train()", "ours", True, bf16, False, False),
        ("packed, plain loop", "plain", True, bf16, False, False),
        (f"packed, plain loop, {other}", "plain", True, not bf16, False, False),
        ("packed, plain loop, torch.compile", "plain", True, bf16, True, False),
        (SLICES_ARM, "plain", True, bf16, False, True),
    )


SLICES_ARM = "packed, plain loop, attention on per-episode slices (before 2026-12-07)"


def bench(steps: int, reps: int, n_train: int, corpus_dir: Path | None = None, arms: tuple | None = None) -> dict[str, object]:
    """Median (wall tok/s, CPU tok/s) per arm over ``reps`` rounds, arm order reversed every round
    so machine load and warm caches favour none. ``arms``: default ``arms_for(train.bf16)``."""
    arms = arms if arms is not None else arms_for(_params(steps, True).bf16)
    synth = _synth()
    res: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="bench-train-") as d:
        tmp = Path(d)
        corpus = corpus_dir or synth.save_corpus(tmp / "corpus", synth.make_rows(n_train, seed=1), synth.make_rows(16, seed=2))
        rates: dict[str, list[tuple[float, float]]] = {a[0]: [] for a in arms}
        for i in range(reps):
            for name, loop, packing, bf16, compiled, sliced in (arms if i % 2 == 0 else arms[::-1]):
                params = dataclasses.replace(_params(steps, packing), bf16=bf16)
                if loop == "plain":
                    rates[name].append(plain_loop(corpus, params, compiled=compiled, sliced=sliced))
                else:
                    rates[name].append(ours(corpus, params, tmp / f"run{i}"))
                w, c = rates[name][-1]
                print(f"rep {i} {name}: {w:,.0f} tok/s wall, {c:,.0f} tok/s per CPU-second", flush=True)
        res["arms"] = {k: (statistics.median(x for x, _ in v), statistics.median(y for _, y in v)) for k, v in rates.items()}
        res["rounds"] = {k: [x for x, _ in v] for k, v in rates.items()}
        res["share"] = packing_share(corpus, _params(steps, False))
    return res


def _section(command: str, machine: str, r: dict, steps: int, reps: int, threads: int) -> str:
    share = r["share"]
    arms = r["arms"]
    lines = [
        "## train",
        "",
        f"Command: `{command}` (date {datetime.date.today().isoformat()}; machine: {machine}; "
        f"torch threads {threads}).",
        "",
        f"Model: the params.yaml tiny Qwen3 preset and batch shape; {steps} optimizer steps per run, median of "
        f"{reps} rounds (arm order reversed each round). Tokens are real (non-pad) tokens. 'per CPU-second' "
        "divides by this process's CPU time per thread: on a machine shared with other jobs it tracks the "
        "work done, where wall time also counts the other jobs' turns.",
        "",
        "| arm | tok/s (wall) | tok/s per CPU-second |",
        "|---|---:|---:|",
    ]
    for name, (w, c) in arms.items():
        lines.append(f"| {name} | {w:,.0f} | {c:,.0f} |")
    ratio = lambda a, b: arms[a][1] / arms[b][1] if a in arms and b in arms else float("nan")  # noqa: E731
    lines += [
        "",
        f"train() / plain loop, packed: {ratio('packed, train()', 'packed, plain loop'):.3f}x; padded: "
        f"{ratio('padded, train()', 'padded, plain loop'):.3f}x (goal: within 1.2x). Packed / padded (train()): "
        f"{ratio('packed, train()', 'padded, train()'):.3f}x. Attention on split episodes (now) / on "
        f"per-episode slices (before), plain loop: {ratio('packed, plain loop', SLICES_ARM):.3f}x.",
        f"Real (non-pad) token share of the batches (mean episode {share['mean_episode_tokens']:.0f} tokens): "
        f"padded {share['padded']:.1%}, packed {share['packed']:.1%} (goal >= {GOAL_PACKED:.0%} packed).",
    ]
    compiled = r.get("rounds", {}).get("packed, plain loop, torch.compile")
    if compiled:
        # The median hides it: the first torch.compile round in the process pays the compilation.
        lines.append("torch.compile by round, wall tok/s (its first round compiles): "
                     + " / ".join(f"{x:,.0f}" for x in compiled) + ".")
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=60, help="Optimizer steps per timed run.")
    ap.add_argument("--reps", type=int, default=2, help="Alternating runs of each loop per batch layout.")
    ap.add_argument("--threads", type=int, default=1, help="Torch intra-op threads (0: torch's default).")
    ap.add_argument("--train-episodes", type=int, default=400, help="Synthetic training episodes in the corpus.")
    ap.add_argument("--corpus", type=Path, default=None, help="Bench on this curated corpus (data/corpus) instead of synthetic episodes.")
    ap.add_argument("--write", action="store_true", help="Write the results into bench/RESULTS.md.")
    args = ap.parse_args()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    machine = describe_machine()
    print(f"machine: {machine}", flush=True)
    r = bench(args.steps, args.reps, args.train_episodes, args.corpus)
    for name, (w, c) in r["arms"].items():
        print(f"{name}: {w:,.0f} tok/s wall, {c:,.0f} tok/s per CPU-second")
    s = r["share"]
    print(f"real-token share: padded {s['padded']:.1%}, packed {s['packed']:.1%} (goal >= {GOAL_PACKED:.0%})")
    if args.write:
        cmd = ("python -m bench.bench_train " + " ".join(sys.argv[1:])).strip()
        write_section('train', _section(cmd, machine, r, args.steps, args.reps, torch.get_num_threads()))
        print(f"wrote {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
