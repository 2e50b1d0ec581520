"""The chat format shared by training and inference (ChatML, as Qwen3 uses).

Training masks everything but assistant content (plus its closing tag); inference renders the
same text with an open assistant turn. Keeping both in one function is what guarantees the
fine-tuned model sees at inference exactly the layout it was trained on.
"""

from __future__ import annotations

from typing import Iterable, Mapping

IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
EOS = "<|endoftext|>"
PAD = "<|pad|>"
SPECIAL_TOKENS = [EOS, IM_START, IM_END, PAD]

# Jinja template stored with the tokenizer so `transformers serve` and apply_chat_template
# render the same text. The newline after 'assistant' is written explicitly (a '-' that eats it
# breaks OpenAI-compatible response parsing).
# The {% generation %} block marks what training learns (assistant content and its closing tag):
# apply_chat_template(..., return_assistant_tokens_mask=True) turns it into the loss mask, so the
# labels come from the very template inference renders (train/data.py encode_chat).
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'assistant' %}"
    "{{ '<|im_start|>assistant\n' }}{% generation %}{{ message['content'] + '<|im_end|>' }}{% endgeneration %}{{ '\n' }}"
    "{% else %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def _role_content(m: object) -> tuple[str, str]:
    if isinstance(m, Mapping):
        return str(m["role"]), str(m["content"])
    return str(getattr(m, "role")), str(getattr(m, "content"))


def as_chat_dicts(messages: Iterable[object]) -> list[dict[str, str]]:
    """Messages (records.Message or mappings) as plain {role, content} dicts for chat APIs."""
    return [dict(zip(("role", "content"), _role_content(m))) for m in messages]


def render_segments(messages: Iterable[object], add_generation_prompt: bool = False) -> list[tuple[str, bool]]:
    """Split the rendered chat into (text, is_trained) pieces: assistant content + IM_END is trained."""
    segs: list[tuple[str, bool]] = []
    for m in messages:
        role, content = _role_content(m)
        segs.append((f"{IM_START}{role}\n", False))
        if role == "assistant":
            segs.append((content + IM_END, True))
            segs.append(("\n", False))
        else:
            segs.append((content + IM_END + "\n", False))
    if add_generation_prompt:
        segs.append((f"{IM_START}assistant\n", False))
    return segs


def render_chat(messages: Iterable[object], add_generation_prompt: bool = False) -> str:
    return "".join(t for t, _ in render_segments(messages, add_generation_prompt))
