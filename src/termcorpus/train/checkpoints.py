"""Step checkpoints a killed training run resumes from.

Layout, one directory per saved step under the run's checkpoint root (``train.resume_dir``)::

    step-000200/
        config.json, model.safetensors   weights (save_pretrained: tied embeddings stored once)
        state-rank0.pt                   optimizer, scheduler, RNG and loop state of process 0 (torch.save)
        checkpoint.json                  step, loss so far, params / corpus / tokenizer digests

A checkpoint is written into a hidden ``.step-000200.tmp`` and renamed only when complete, so a
``kill -9`` while saving leaves a partial directory that is ignored and swept, never a torn
checkpoint. A checkpoint is *compatible* with a run when the params digest (every param that shapes
the run; not the bookkeeping keys below), the corpus digest and the process count match: only
then is the data stream, the schedule and the optimizer state the same run's.

The root is deliberately not a DVC out: DVC deletes declared outs before a stage reruns, which
would delete the very checkpoints a rerun needs. Multi-process runs need the root on a filesystem
every process sees (one machine, or a shared mount).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from termcorpus.errors import DataError
from termcorpus.params import TrainParams, as_dict
from termcorpus.records import write_json

CKPT_META = "checkpoint.json"
CKPT_SCHEMA = "1"
_STEP_DIR = re.compile(r"^step-(\d{6,})$")
# Keys that change where and how often checkpoints go, not what is trained: changing them must
# not make an interrupted run start over.
BOOKKEEPING_KEYS = ("save_every", "keep_checkpoints", "resume_dir", "register_model")


def params_digest(params: TrainParams, recipe: str = "") -> str:
    """sha256 of the params that determine the run (bookkeeping keys left out), plus ``recipe``:
    how the code turns them into a model (the tiny tokenizer's pre-tokenization). A checkpoint
    from other code is then incompatible, swept and started over, like one from other params."""
    d = {k: v for k, v in as_dict(params).items() if k not in BOOKKEEPING_KEYS}
    if recipe:
        d["_recipe"] = recipe
    return hashlib.sha256(json.dumps(d, sort_keys=True).encode("utf-8")).hexdigest()


def step_dir_name(step: int) -> str:
    return f"step-{step:06d}"


@dataclass
class LoopState:
    """Where the loop stands after ``step`` optimizer steps (per process)."""

    step: int
    rows_consumed: int  # training rows taken from the global row stream (all processes together)
    tokens: int  # real tokens this process trained on so far
    window: list[float]  # loss sum and step count since the last log point
    loss_curve: list[tuple[int, float]] = field(default_factory=list)


def _rng_state() -> dict:
    np_state = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), int(np_state[2]), int(np_state[3]), float(np_state[4])],
        "python": list(random.getstate()),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def list_checkpoints(root: Path) -> list[tuple[int, Path]]:
    """Complete step checkpoints under ``root``, oldest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    out = []
    for p in root.iterdir():
        m = _STEP_DIR.match(p.name)
        if m and p.is_dir() and (p / CKPT_META).is_file():
            out.append((int(m.group(1)), p))
    return sorted(out)


def read_meta(ckpt: Path) -> dict:
    path = Path(ckpt) / CKPT_META
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise DataError(f"unreadable checkpoint metadata ({e})", where=str(path))
    if not isinstance(meta, dict) or meta.get("schema_version") != CKPT_SCHEMA:
        raise DataError(f"checkpoint metadata must have schema_version {CKPT_SCHEMA!r}", where=str(path))
    return meta


def find_resumable(
    root: Path, *, params_digest: str, corpus_digest: str, num_processes: int, sweep: bool = True
) -> Path | None:
    """The newest compatible checkpoint under ``root``; with ``sweep``, deletes partial and incompatible ones.

    Only the main process sweeps (the others look after it has). Incompatible checkpoints belong to other params or another
    corpus and could never be resumed by this run; leaving them would let the root grow.
    """
    root = Path(root)
    if not root.is_dir():
        return None
    for p in sorted(root.iterdir()) if sweep else ():
        if p.name.startswith(".step-") and p.name.endswith(".tmp"):
            shutil.rmtree(p, ignore_errors=True)  # a save cut short by a kill
    best = None
    for step, p in list_checkpoints(root):
        try:
            meta = read_meta(p)
        except DataError:
            meta = {}
        ok = (
            meta.get("params_digest") == params_digest
            and meta.get("corpus_digest") == corpus_digest
            and meta.get("num_processes") == num_processes
            and (p / f"state-rank{num_processes - 1}.pt").is_file()
        )
        if ok:
            best = p
        elif sweep:
            print(f"train: removing incompatible checkpoint {p} (other params, corpus or process count)", file=sys.stderr)
            shutil.rmtree(p, ignore_errors=True)
    return best


def load_weights(model: torch.nn.Module, ckpt: Path) -> None:
    """Load a step checkpoint's weights into the (not yet prepared) model, exactly."""
    from safetensors.torch import load_file

    path = Path(ckpt) / "model.safetensors"
    if not path.is_file():
        raise DataError("checkpoint has no model.safetensors", where=str(ckpt))
    missing, unexpected = model.load_state_dict(load_file(str(path)), strict=False)
    # save_pretrained stores tied weights once; the tie restores the other name.
    tied = {"lm_head.weight"} if getattr(model.config, "tie_word_embeddings", False) else set()
    if unexpected or set(missing) - tied:
        raise DataError(
            f"checkpoint weights do not fit the model (missing {sorted(set(missing) - tied)[:3]}, unexpected {unexpected[:3]})",
            where=str(path),
        )
    if tied:
        model.tie_weights()


def save_step(
    accelerator, model, optimizer, scheduler, root: Path, state: LoopState, meta: dict, keep: int
) -> Path:
    """Write one step checkpoint atomically (all processes call it) and keep the newest ``keep``."""
    root = Path(root)
    name = step_dir_name(state.step)
    tmp, final = root / f".{name}.tmp", root / name
    if accelerator.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    accelerator.wait_for_everyone()
    # get_state_dict gathers FSDP shards, so every process must call it.
    state_dict = accelerator.get_state_dict(model)
    if accelerator.is_main_process:
        accelerator.unwrap_model(model).save_pretrained(tmp, state_dict=state_dict, is_main_process=True)
    torch.save(
        {
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "rng": _rng_state(),
            "loop": {
                "step": state.step,
                "rows_consumed": state.rows_consumed,
                "tokens": state.tokens,
                "window": list(state.window),
                "loss_curve": [list(x) for x in state.loss_curve],
            },
        },
        tmp / f"state-rank{accelerator.process_index}.pt",
    )
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        write_json(tmp / CKPT_META, {"schema_version": CKPT_SCHEMA, **meta})
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
        for _step, old in list_checkpoints(root)[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()
    return final


def load_step(accelerator, optimizer, scheduler, ckpt: Path) -> LoopState:
    """Restore this process's optimizer, scheduler and RNG state; return the loop state."""
    path = Path(ckpt) / f"state-rank{accelerator.process_index}.pt"
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError) as e:
        raise DataError(f"unreadable training state ({e})", where=str(path))
    optimizer.load_state_dict(blob["optimizer"])
    scheduler.load_state_dict(blob["scheduler"])
    _set_rng_state(blob["rng"])
    loop = blob["loop"]
    return LoopState(
        step=int(loop["step"]),
        rows_consumed=int(loop["rows_consumed"]),
        tokens=int(loop["tokens"]),
        window=[float(x) for x in loop["window"]],
        loss_curve=[(int(s), float(v)) for s, v in loop["loss_curve"]],
    )


__all__ = [
    "CKPT_META", "BOOKKEEPING_KEYS", "LoopState", "params_digest", "step_dir_name", "list_checkpoints",
    "read_meta", "find_resumable", "load_weights", "save_step", "load_step",
]
