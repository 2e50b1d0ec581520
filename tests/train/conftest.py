"""Synthetic corpora for the train tests: chats shaped like the balance stage's output.

Each chat is a small Terminus-2 episode (instruction, one action with commands, its observation,
a closing action with task_complete) built from templates with random names, so the slot values
are known and the tokenizer's name-splitting can be checked.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

SYLLABLES = ["ka", "lo", "mi", "ren", "tas", "vo", "qu", "zel", "dor", "fi", "nap", "su"]
EXTS = ["txt", "log", "csv", "md", "py"]

TEMPLATES = [
    (
        "files",
        "Create a directory named {d} and inside it a file {f}.txt that contains the word {w}.",
        lambda s: [f"mkdir -p {s['d']}\n", f"printf '%s\\n' {s['w']} > {s['d']}/{s['f']}.txt\n"],
    ),
    (
        "text",
        "Count the lines of {f}.log and write the number into {o}.txt.",
        lambda s: [f"wc -l < {s['f']}.log > {s['o']}.txt\n"],
    ),
    (
        "search",
        "List every .{e} file below {d} (sorted) into {o}.txt.",
        lambda s: [f"find {s['d']} -name '*.{s['e']}' | sort > {s['o']}.txt\n"],
    ),
    (
        "files",
        "Rename {f}.md to {w}.md and keep a copy named {o}.bak.",
        lambda s: [f"cp {s['f']}.md {s['o']}.bak\n", f"mv {s['f']}.md {s['w']}.md\n"],
    ),
    (
        "text",
        "Write the lines of {f}.csv that contain {w} into {o}.txt.",
        lambda s: [f"grep {s['w']} {s['f']}.csv > {s['o']}.txt\n"],
    ),
]


def _name(rng: random.Random) -> str:
    n = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))
    return n + (str(rng.randint(0, 99)) if rng.random() < 0.3 else "")


def make_chat(rng: random.Random, k: int | None = None) -> dict:
    """One synthetic corpus row (messages, slot_values, domain, family, n_commands)."""
    k = rng.randrange(len(TEMPLATES)) if k is None else k
    domain, text, cmds = TEMPLATES[k]
    slots = {"d": _name(rng), "f": _name(rng), "w": _name(rng), "o": _name(rng), "e": rng.choice(EXTS)}
    instruction = text.format(**slots)
    commands = cmds(slots)
    act1 = {
        "analysis": "The task needs a few shell commands.",
        "plan": "Run the commands, then check the result.",
        "commands": [{"keystrokes": c, "duration": 0.1} for c in commands],
        "task_complete": False,
    }
    act2 = {"analysis": "The commands ran without errors.", "plan": "", "commands": [], "task_complete": True}
    observation = "".join(f"$ {c}" for c in commands) + "$ "
    used = sorted({v for key, v in slots.items() if "{" + key + "}" in text})
    return {
        "messages": [
            {"role": "user", "content": "Answer with one JSON object per turn.\nTask: " + instruction},
            {"role": "assistant", "content": json.dumps(act1)},
            {"role": "user", "content": observation},
            {"role": "assistant", "content": json.dumps(act2)},
        ],
        "slot_values": used,
        "domain": domain,
        "family": f"tmpl{k}",
        "n_commands": len(commands),
    }


def make_rows(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    return [make_chat(rng) for _ in range(n)]


def save_corpus(path: Path, train_rows: list[dict], val_rows: list[dict]) -> Path:
    import datasets

    dd = datasets.DatasetDict(
        {"train": datasets.Dataset.from_list(train_rows), "validation": datasets.Dataset.from_list(val_rows)}
    )
    dd.save_to_disk(str(path))
    return path


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory) -> Path:
    """48 training chats, 8 validation chats."""
    root = tmp_path_factory.mktemp("corpus")
    return save_corpus(root / "corpus", make_rows(48, seed=1), make_rows(8, seed=2))


@pytest.fixture
def tiny_params():
    """A very small model and run: seconds on one core."""
    from termcorpus.params import TrainParams

    return TrainParams(
        vocab_size=320, hidden_size=32, num_layers=1, num_heads=2, num_kv_heads=1, head_dim=16,
        intermediate_size=64, max_seq_len=512, batch_size=2, max_steps=5, warmup_steps=1,
        log_every=1, lr=3e-3, register_model=False, bf16=True,  # the default before params.yaml became it
    )


@pytest.fixture(scope="session")
def synth():
    """The builders above, for tests (conftest is not importable under --import-mode=importlib)."""
    import types

    return types.SimpleNamespace(make_chat=make_chat, make_rows=make_rows, save_corpus=save_corpus, path=__file__)


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """One intra-op thread: tiny models gain nothing from two, and on shared cores two threads
    wait on each other (a 5-step run went from 0.3 s to 4 s under load)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
