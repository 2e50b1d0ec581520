"""A real OpenAI-compatible server for tests: a tiny Qwen3, overfit on fixed chats, behind
``transformers serve``.

Why overfit: an untrained tiny model writes junk, and a test needs replies it can predict. The
model is trained (CPU, seconds) on a handful of chats until greedy decoding reproduces every
assistant turn exactly -- checked in-process with teacher forcing: when the argmax at every
target position is the target token (with a margin), free-running greedy decoding yields the
same tokens. The chats are:

* ``agent``: the oracle's real trajectory of a small task, recorded in the bwrap sandbox, so the
  served model solves that task turn by turn when the agent sends the same observations;
* ``malformed``: a reply that is not JSON, the parse-error observation the episode writes for
  it, then valid turns: the agent's malformed-output path end to end;
* ``synth_good`` / ``synth_bad``: the LLM-synthesis prompts of two sources, answered with a
  valid task (in a code fence, with a trailing comma: the parser's repair is exercised) and
  with a cut-off answer that must be dropped as ``unparseable``.

``openai_stub`` is the fast counterpart: a stdlib HTTP server answering from a script
(status, headers, body) and recording each request, for the client's retry and error paths.

The server is started the way FACTS.md found to work (offline, CPU, one thread, own session,
log to a file), polled on ``GET /health``, and stopped with SIGTERM at teardown. Each prompt is
tokenized exactly as the server does it (the tokenizer's chat template + generation prompt).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from termcorpus.agents import OracleAgent, render_action
from termcorpus.execute.episode import run_episode
from termcorpus.generate.llm import synthesis_messages
from termcorpus.records import Action, Command, Lineage, Message, Task
from termcorpus.sandbox import SandboxConfig
from termcorpus.tasks.seeds import FileSpec, Seed
from termcorpus.tasks.skills import Skill
from termcorpus.train.chat import CHAT_TEMPLATE, EOS, IM_END, IM_START, PAD, SPECIAL_TOKENS

PROMPT_STYLE = "compact"
SYNTH_SEED = 7  # generate.seed used by the synthesis test (it fixes the prompts' topics)
TRAIN_BUDGET_SEC = 120.0  # hard stop of the overfit loop (10-25 s; more on a busy machine)
HEALTH_TIMEOUT_SEC = 90.0
HIDDEN = 128  # model width: 2 layers of this memorize the chats in ~45 steps


def sandbox_config() -> SandboxConfig:
    return SandboxConfig(backend="bwrap", timeout_sec=5.0, memory_mb=512, max_procs=64, max_output_bytes=2048)


def _verifier(check: str) -> dict[str, str]:
    reward = "/logs/verifier/reward.txt"
    return {"test.sh": f"#!/bin/bash\ncd /app\n{check} && echo 1 > {reward} || echo 0 > {reward}\n"}


AGENT_TASK = Task(
    id="served-count-lines", family="served-count-lines", source="seed", domain="file_operations",
    skills=["line_counting"], instruction="Count the lines of /app/data.txt and write the number to /app/count.txt.",
    files={"data.txt": "red\ngreen\nblue\n"},
    solution=["wc -l < data.txt > count.txt", "cat count.txt"],
    tests=_verifier('[ "$(cat count.txt 2>/dev/null)" = "3" ]'),
)

MALFORMED_TASK = Task(
    id="served-write-word", family="served-write-word", source="seed", domain="file_operations",
    skills=["file_writing"], instruction="Write the word hello into /app/out.txt.",
    solution=["echo hello > out.txt"],
    tests=_verifier('[ "$(cat out.txt 2>/dev/null)" = "hello" ]'),
)
MALFORMED_FIRST_REPLY = "I will write the word into the file now."

# Synthesis sources: a seed (the prompt shows its variant as an example) and a skill combination.
SYNTH_GOOD_SOURCE = Seed(
    id="count_matching_lines", domain="data_processing", skills=["grep_counting"],
    instruction="Count the lines of colors.txt that contain the letter e and write the number to n.txt.",
    files=[FileSpec(path="colors.txt", text="red\nblue\npink\n")],
    solution=["grep -c e colors.txt > n.txt"],
    test='[ "$(cat n.txt)" = "2" ] || fail "n.txt should hold 2"',
)
SYNTH_BAD_SOURCE = [
    Skill(id="sorting", domain="data_processing", description="Sort lines with sort."),
    Skill(id="dedup", domain="data_processing", description="Drop repeated lines with uniq."),
]
SYNTH_GOOD_ANSWER = (
    "```json\n"
    '{"instruction": "Count the lines of /app/fruits.txt that contain the letter a and write the number to '
    '/app/count.txt.", "files": {"fruits.txt": "apple\\nbanana\\ncherry\\nkiwi\\n"}, '
    '"solution": ["grep -c a fruits.txt > count.txt"], '
    '"test_sh": "[ \\"$(cat count.txt 2>/dev/null)\\" = \\"2\\" ] || fail \\"count.txt should hold 2\\"",}\n'
    "```"
)
SYNTH_BAD_ANSWER = 'Here is a task: {"instruction": "Sort names.txt and drop repeated lines", "files":'


@dataclass
class Served:
    """What the tests get: where the server is, what it was trained on, how long it took."""

    base_url: str
    model: str
    log_path: Path
    agent_task: Task = field(default_factory=lambda: AGENT_TASK.model_copy(deep=True))
    malformed_task: Task = field(default_factory=lambda: MALFORMED_TASK.model_copy(deep=True))
    synth_sources: tuple = (SYNTH_GOOD_SOURCE, SYNTH_BAD_SOURCE)
    synth_seed: int = SYNTH_SEED
    synth_good_answer: str = SYNTH_GOOD_ANSWER
    synth_bad_answer: str = SYNTH_BAD_ANSWER
    malformed_first_reply: str = MALFORMED_FIRST_REPLY
    sandbox: SandboxConfig = field(default_factory=sandbox_config)
    timings: dict[str, float] = field(default_factory=dict)
    train_steps: int = 0


class _ScriptedAgent:
    """Replays fixed replies (to record a real episode for training chats)."""

    name = "scripted"
    model = "scripted"

    def __init__(self, replies: list[str]):
        self.replies = list(replies)

    def act(self, task: Task, messages: list[Message]) -> str:
        return self.replies[sum(m.role == "assistant" for m in messages)]


def recorded_chat(task: Task, agent) -> list[Message]:
    """The messages of a real episode of ``agent`` on ``task`` in bwrap (observations included)."""
    traj = run_episode(task, agent, sandbox_config(), max_turns=8, prompt_style=PROMPT_STYLE,
                       lineage=Lineage(task_digest=task.digest()))
    if not traj.passed:
        raise RuntimeError(f"fixture episode on {task.id} did not pass:\n{traj.verifier_output}")
    return traj.messages


def training_chats() -> dict[str, list[Message]]:
    malformed = _ScriptedAgent([
        MALFORMED_FIRST_REPLY,
        render_action(Action(analysis="The file does not exist yet.", plan="Write it with echo.",
                             commands=[Command(keystrokes="echo hello > out.txt\n", duration=0.1)])),
        render_action(Action(analysis="The word is written.", plan="Finish.", task_complete=True)),
    ])
    good = synthesis_messages(SYNTH_GOOD_SOURCE, index=0, seed=SYNTH_SEED)
    bad = synthesis_messages(SYNTH_BAD_SOURCE, index=1, seed=SYNTH_SEED)
    return {
        "agent": recorded_chat(AGENT_TASK, OracleAgent()),
        "malformed": recorded_chat(MALFORMED_TASK, malformed),
        "synth_good": good + [Message(role="assistant", content=SYNTH_GOOD_ANSWER)],
        "synth_bad": bad + [Message(role="assistant", content=SYNTH_BAD_ANSWER)],
    }


# -- tokenizer, model, overfit ----------------------------------------------------------------
def _as_dicts(messages: list[Message]) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.content} for m in messages]


def build_tokenizer(texts: list[str], vocab_size: int = 1024):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token=IM_END, pad_token=PAD, additional_special_tokens=[EOS, IM_START],
        chat_template=CHAT_TEMPLATE, clean_up_tokenization_spaces=False,
    )


def training_samples(tokenizer, chats: dict[str, list[Message]]) -> list[tuple[list[int], int]]:
    """One sample per assistant turn: (prompt ids as the server builds them + reply + IM_END, prompt length)."""
    end = tokenizer.convert_tokens_to_ids(IM_END)
    samples = []
    for chat in chats.values():
        for i, m in enumerate(chat):
            if m.role != "assistant":
                continue
            prompt = tokenizer.apply_chat_template(_as_dicts(chat[:i]), add_generation_prompt=True, tokenize=False)
            p_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
            r_ids = tokenizer(m.content, add_special_tokens=False)["input_ids"]
            samples.append((p_ids + r_ids + [end], len(p_ids)))
    return samples


def _batches(samples, pad: int, rows: int = 3):
    """Length-sorted groups of ``rows`` samples, right-padded: much less padding than one batch.

    No attention mask is needed: with right padding and causal attention no real token ever
    attends to a pad, and pad positions carry no label.
    """
    import torch

    ordered = sorted(samples, key=lambda s: len(s[0]))
    out = []
    for i in range(0, len(ordered), rows):
        group = ordered[i: i + rows]
        width = max(len(seq) for seq, _ in group)
        ids = torch.full((len(group), width), pad, dtype=torch.long)
        labels = torch.full((len(group), width), -100, dtype=torch.long)
        for row, (seq, n_prompt) in enumerate(group):
            ids[row, : len(seq)] = torch.tensor(seq)
            labels[row, n_prompt: len(seq)] = torch.tensor(seq[n_prompt:])
        out.append((ids, labels))
    return out


def _worst_margin(logits, labels) -> float:
    """Smallest (target logit - best other logit) over the labelled positions."""
    import torch

    logits, target = logits[:, :-1], labels[:, 1:]
    sel = target != -100
    safe = target.clamp(min=0).unsqueeze(-1)
    gold = logits.gather(-1, safe).squeeze(-1)
    others = logits.scatter(-1, safe, float("-inf")).amax(-1)
    return (gold - others)[sel].min().item() if sel.any() else float("inf")


def overfit(tokenizer, samples, *, budget_sec: float = TRAIN_BUDGET_SEC, margin: float = 2.0, lr: float = 3e-3):
    """Train a tiny Qwen3 until greedy decoding reproduces every reply; returns (model, steps).

    The stop test runs on the very weights that are returned (checked before an update): every
    target token is the argmax with ``margin`` to spare, so fp32 inference in another process
    picks the same tokens.
    """
    import torch
    from transformers import GenerationConfig, Qwen3Config, Qwen3ForCausalLM

    end = tokenizer.convert_tokens_to_ids(IM_END)
    longest = max(len(ids) for ids, _ in samples)
    cfg = Qwen3Config(
        vocab_size=len(tokenizer), hidden_size=HIDDEN, intermediate_size=2 * HIDDEN, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=HIDDEN // 4,
        max_position_embeddings=max(1024, 1 << (longest + 64).bit_length()), tie_word_embeddings=True,
        eos_token_id=end, pad_token_id=tokenizer.pad_token_id, bos_token_id=None,
    )
    cfg._attn_implementation = "sdpa"
    torch.manual_seed(0)
    model = Qwen3ForCausalLM(cfg)
    model.generation_config = GenerationConfig(eos_token_id=end, pad_token_id=tokenizer.pad_token_id,
                                               do_sample=False)
    batches = _batches(samples, tokenizer.pad_token_id)
    n_targets = sum(int((labels[:, 1:] != -100).sum()) for _, labels in batches)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    start = time.perf_counter()
    step = 0
    model.train()
    while True:
        worst, loss = float("inf"), 0.0
        for ids, labels in batches:
            out = model(input_ids=ids, labels=labels)
            worst = min(worst, _worst_margin(out.logits.detach(), labels))
            share = int((labels[:, 1:] != -100).sum()) / n_targets  # token-weighted mean over batches
            (out.loss * share).backward()
            loss += out.loss.item() * share
        if worst > margin:
            break
        if time.perf_counter() - start > budget_sec:
            raise RuntimeError(f"tiny model did not memorize the chats in {budget_sec:.0f} s "
                               f"(step {step}, loss {loss:.4f}, worst margin {worst:.2f})")
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        step += 1
    model.eval()
    return model, step


# -- a scripted stub (fast tests of the HTTP client) -------------------------------------------
def completion(content: str, prompt_tokens: int = 10, completion_tokens: int = 5) -> dict:
    return {
        "id": "c1", "object": "chat.completion", "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    }


class StubServer:
    """Answers POSTs from ``script`` (one (status, headers, body) per request; the last repeats)."""

    completion = staticmethod(completion)  # tests build bodies with openai_stub.completion(...)

    def __init__(self, script: list[tuple[int, dict, object]]):
        self.script = list(script)
        self.requests: list[dict] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                stub.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                      "body": json.loads(body)})
                status, headers, payload = stub.script[min(len(stub.requests), len(stub.script)) - 1]
                data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # a short poll interval: shutdown() waits up to one interval
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                       daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> "StubServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def openai_stub():
    """Start a :class:`StubServer`: ``with openai_stub(script) as srv: ... srv.base_url``."""
    return StubServer


# -- the server ---------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve_command() -> list[str]:
    from transformers.utils.import_utils import is_serve_available

    exe = Path(sys.executable).with_name("transformers")
    if not exe.exists() or not is_serve_available():
        pytest.skip("`transformers serve` is not installed here (needs transformers[serving])")
    return [str(exe), "serve"]


def start_server(checkpoint: Path, log_path: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", CUDA_VISIBLE_DEVICES="", OMP_NUM_THREADS="1",
               TOKENIZERS_PARALLELISM="false")
    cmd = _serve_command() + [str(checkpoint), "--host", "127.0.0.1", "--port", str(port), "--device", "cpu"]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, start_new_session=True)
    deadline = time.monotonic() + HEALTH_TIMEOUT_SEC
    while True:
        if proc.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"transformers serve exited with {proc.returncode}:\n{tail}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                if r.status == 200:
                    return proc, port
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop_server(proc)
            tail = log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"transformers serve not healthy after {HEALTH_TIMEOUT_SEC:.0f} s:\n{tail}")
        time.sleep(0.25)


def stop_server(proc: subprocess.Popen) -> None:
    """SIGTERM the server's process group (it stops in ~0.5 s); SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
    except ProcessLookupError:
        pass


def build_checkpoint(out_dir: Path) -> tuple[Path, dict[str, float], int]:
    """Record the chats, train the tokenizer and the model, save both; return timings."""
    import torch

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    chats = training_chats()
    timings["record_chats_sec"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    # A vocabulary learned from exactly these texts keeps the sequences short (fast steps).
    texts = [m.content for chat in chats.values() for m in chat]
    tokenizer = build_tokenizer(texts * 2)
    samples = training_samples(tokenizer, chats)
    threads = torch.get_num_threads()
    # One thread: on 2 shared cores a second thread fights other processes (measured 6x slower).
    torch.set_num_threads(1)
    try:
        model, steps = overfit(tokenizer, samples)
    finally:
        torch.set_num_threads(threads)
    timings["overfit_sec"] = time.perf_counter() - t0
    timings["n_samples"] = len(samples)
    timings["max_tokens"] = max(len(s) for s, _ in samples)

    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir.resolve(), timings, steps


@pytest.fixture(scope="session")
def served_model(tmp_path_factory) -> Served:
    """A running ``transformers serve`` answering the fixed chats above; stopped at session end."""
    _serve_command()  # skip early, before training, when serving cannot exist
    root = tmp_path_factory.mktemp("served")
    ckpt, timings, steps = build_checkpoint(root / "tiny-teacher")
    t0 = time.perf_counter()
    log_path = root / "serve.log"
    proc, port = start_server(ckpt, log_path)
    timings["server_start_sec"] = time.perf_counter() - t0
    # Shown with the test output (-s, or on failure): where the fixture's time went.
    print("served_model: " + ", ".join(f"{k}={v:.1f}" for k, v in timings.items()) + f", steps={steps}",
          file=sys.stderr)
    try:
        yield Served(base_url=f"http://127.0.0.1:{port}/v1", model=str(ckpt), log_path=log_path,
                     timings=timings, train_steps=steps)
    finally:
        stop_server(proc)
