"""GPU check of the train loop: a preset on a real corpus, more steps, then first-turn copying.

Run on a CUDA machine (prepared for a short lease):
    python bench/gpu_train_check.py CORPUS_DIR HELDOUT_JSONL OUT_DIR --steps 8000 \
        [--set fresh_names=0.5 --set hidden_size=192 ...] [--tar OUT.tgz]
Prints tokens/s, peak GPU memory, losses, and the share of held-out variants whose first
generated turn has exactly the reference keystrokes (the copying skill the CPU default lacks).
``--set KEY=VALUE`` overrides any ``train`` param (YAML-typed, checked like params.yaml);
``--tar`` packs the saved checkpoint so it can be evaluated elsewhere with stages/evaluate.py.
CORPUS_DIR may also be a JSONL export (``termcorpus`` rows plus a ``split`` field), for a machine
where ``datasets`` cannot be installed.
"""

from __future__ import annotations

import argparse
import json
import tarfile
import time
from dataclasses import replace
from pathlib import Path

import torch
import yaml

from termcorpus.agents.model import HFModelAgent, load_checkpoint
from termcorpus.agents.oracle import OracleAgent
from termcorpus.agents.protocol import first_user_message, parse_action
from termcorpus.params import TrainParams, as_dict, load_section, parse_section
from termcorpus.records import Message, Task, read_jsonl
from termcorpus.train.loop import train


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", type=Path)
    ap.add_argument("heldout", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--steps", type=int, default=8000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--n-eval", type=int, default=200)
    ap.add_argument("--lr", type=float, default=None, help="train.lr (default: params default)")
    ap.add_argument("--warmup", type=int, default=None, help="train.warmup_steps")
    ap.add_argument("--packing", action="store_true", help="train.packing: true")
    ap.add_argument("--fresh-names", type=float, default=0.0, help="train.fresh_names")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="any train param (repeatable)")
    ap.add_argument("--params", type=Path, default=Path("params.yaml"), help="base train params (then the flags)")
    ap.add_argument("--tar", type=Path, default=None, help="pack the saved checkpoint into this .tgz")
    a = ap.parse_args()
    params = replace(load_section("train", a.params), max_steps=a.steps, batch_size=a.batch, register_model=False, log_every=250,
                     packing=a.packing, fresh_names=a.fresh_names)
    overrides: dict[str, str] = {}
    for item in a.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--set {item!r}: expected KEY=VALUE")
        overrides[key] = value
    if overrides:
        raw = as_dict(params) | {k: yaml.safe_load(v) for k, v in overrides.items()}
        params = parse_section("train", raw, TrainParams, where="--set")
    if a.corpus.suffix == ".jsonl":
        _use_jsonl_corpus()
    if a.lr is not None:
        params = replace(params, lr=a.lr)
    if a.warmup is not None:
        params = replace(params, warmup_steps=a.warmup)
    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    res = train(corpus_dir=a.corpus, out_dir=a.out, params=params, checkpoint_dir=None, progress=False)
    wall = time.perf_counter() - t0
    m = res.metrics()
    peak = torch.cuda.max_memory_allocated() / 2**20 if cuda else 0.0
    model, tok = load_checkpoint(a.out)
    agent = HFModelAgent(model.cuda() if cuda else model, tok, max_new_tokens=320)
    tasks = read_jsonl(a.heldout, Task)[: a.n_eval]
    oracle = OracleAgent()
    chats = [[Message(role="user", content=first_user_message(t.instruction, "compact"))] for t in tasks]
    outs = []
    for i in range(0, len(chats), 64):
        outs += agent.act_batch(chats[i : i + 64])
    exact = valid = 0
    for t, o in zip(tasks, outs):
        act, _ = parse_action(o)
        ref = oracle.action_for(t, 0)
        valid += act is not None
        exact += act is not None and [c.keystrokes for c in act.commands] == [c.keystrokes for c in ref.commands]
    if a.tar is not None:
        with tarfile.open(a.tar, "w:gz") as tf:
            tf.add(a.out, arcname=a.out.name)
    print(json.dumps({"set": overrides, "params": sum(p.numel() for p in model.parameters()), "device": torch.cuda.get_device_name(0) if cuda else "cpu", "steps": a.steps, "batch": a.batch,
                      "lr": params.lr, "warmup": params.warmup_steps, "packing": params.packing, "fresh_names": params.fresh_names, "wall_sec": round(wall, 1),
                      "tokens_per_sec": m.get("tokens_per_sec"), "peak_mem_mib": round(peak), "final_loss": m.get("final_loss"),
                      "val_loss": m.get("val_loss"), "n_eval": len(tasks), "first_turn_valid_json": valid / len(tasks),
                      "first_turn_exact_keystrokes": exact / len(tasks)}, indent=1))


def _use_jsonl_corpus() -> None:
    """Read the corpus from a JSONL export instead of a saved DatasetDict (no ``datasets`` needed)."""
    from termcorpus.train import data as D

    def load(path: Path) -> dict[str, list[D.Chat]]:
        out: dict[str, list[D.Chat]] = {"train": [], "validation": []}
        for n, line in enumerate(Path(path).read_text().splitlines(), 1):
            row = json.loads(line)
            out[row["split"]].append(D._chat_from_row(row, where=f"{path}:{n}"))
        return out

    D.load_corpus = load


if __name__ == "__main__":
    main()
