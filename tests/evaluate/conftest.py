"""Fixtures for the evaluation tests: a tiny random Qwen3 with a small ChatML BPE tokenizer.

Built in code (no hub, no corpus): a byte-level BPE learned from a few Terminus-2 style strings,
wrapped with the project's chat template, and a 2-layer Qwen3 whose initial weights are scaled
up so greedy decoding has clear winners (batched and unbatched runs then pick the same tokens).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from termcorpus.train.chat import CHAT_TEMPLATE, EOS, IM_END, IM_START, PAD, SPECIAL_TOKENS

_TEXTS = [
    '{"analysis": "The file is in /app.", "plan": "List it.", '
    '"commands": [{"keystrokes": "ls -la /app\\n", "duration": 0.1}], "task_complete": false}',
    "Count the lines of data.csv and write the number to /app/out.txt",
    "wc -l < data.csv > out.txt; grep -c error log.txt; sort -u names.txt | head -n 3",
    "New terminal output:\n$ cat out.txt\n42\n",
    "You are an AI assistant solving a command-line task. Answer in JSON.",
]


def build_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=340, special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    tok.train_from_iterator(_TEXTS * 4, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token=IM_END, pad_token=PAD,
        additional_special_tokens=[EOS, IM_START], chat_template=CHAT_TEMPLATE,
        clean_up_tokenization_spaces=False,
    )


def build_model(tokenizer, *, seed: int = 0, max_positions: int = 512):
    import torch
    from transformers import Qwen3Config, Qwen3ForCausalLM

    cfg = Qwen3Config(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=16,
        max_position_embeddings=max_positions, tie_word_embeddings=True,
        initializer_range=0.3, eos_token_id=tokenizer.convert_tokens_to_ids(IM_END),
        pad_token_id=tokenizer.pad_token_id, bos_token_id=None,
    )
    torch.manual_seed(seed)
    return Qwen3ForCausalLM(cfg).eval()


@pytest.fixture(scope="session")
def tiny_tokenizer():
    return build_tokenizer()


@pytest.fixture(scope="session")
def make_model(tiny_tokenizer):
    """Build another tiny model: ``make_model(max_positions=..., seed=...)``."""
    return lambda **kw: build_model(tiny_tokenizer, **kw)


@pytest.fixture(scope="session")
def tiny_model(tiny_tokenizer):
    return build_model(tiny_tokenizer)


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory, tiny_tokenizer, tiny_model) -> Path:
    """A checkpoint directory laid out like the train stage's: weights, tokenizer, termcorpus.json."""
    d = tmp_path_factory.mktemp("ckpt") / "terminal-agent"
    tiny_model.save_pretrained(d)
    tiny_tokenizer.save_pretrained(d)
    (d / "termcorpus.json").write_text(json.dumps({"base_model": "tiny", "seed": 0}))
    return d


def make_task(task_id: str, family: str, *, domain: str = "file_operations", solution=None, word: str = "hello",
              skills=()):
    """A small verifiable task: write ``word`` to /app/out.txt (verifier: exit code of test.sh)."""
    from termcorpus.records import Task

    sol = [f"echo {word} > /app/out.txt"] if solution is None else solution
    return Task(
        id=task_id, family=family, source="seed", domain=domain, skills=list(skills),
        instruction=f"Write the word {word} into /app/out.txt.",
        solution=sol,
        tests={"test.sh": f'#!/bin/bash\ntest "$(cat /app/out.txt 2>/dev/null)" = "{word}"\n'},
        slots={"word": word},
    )


@pytest.fixture(scope="session")
def task_factory():
    return make_task


def save_corpus(path: Path, train_families, validation_families, column: str = "family", train_texts=None) -> Path:
    """A corpus with only what evaluation reads: train/validation family columns and the chats.

    ``train_texts[i]`` is the assistant text of train row ``i`` (default: a fixed reply naming
    no slot value of ``make_task``'s default words).
    """
    from datasets import Dataset, DatasetDict

    def chats(texts):
        return [[{"role": "user", "content": "Solve the task."}, {"role": "assistant", "content": t}] for t in texts]

    texts = list(train_texts) if train_texts is not None else ["ls -la /app"] * len(train_families)
    dd = DatasetDict({
        "train": Dataset.from_dict({column: list(train_families), "domain": ["file_operations"] * len(train_families),
                                    "messages": chats(texts)}),
        "validation": Dataset.from_dict(
            {column: list(validation_families), "domain": ["file_operations"] * len(validation_families),
             "messages": chats(["ls"] * len(validation_families))}
        ),
    })
    dd.save_to_disk(str(path))
    return path


@pytest.fixture(scope="session")
def corpus_factory():
    return save_corpus


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Generation in one thread, as evaluation runs it (threads fight on shared cores); restored after."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
