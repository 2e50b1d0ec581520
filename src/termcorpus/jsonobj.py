"""Find the JSON object in a model's reply: the one extractor the agents, LLM synthesis and the
curation filters share.

Models wrap JSON in code fences and prose, so the fence markers are removed and each ``{`` is
tried in order: the first position that decodes to an object wins (an outer object beats one
nested inside it; a position that decodes to a list or a number is skipped). ``lenient`` is for
LLM-written tasks: raw newlines and tabs inside strings are accepted and, as a second try at each
position, trailing commas are removed (only then: the regex would also touch ``,}`` inside
strings).
"""

from __future__ import annotations

import json
import re

_FENCE = re.compile(r"```[a-zA-Z0-9_-]*")
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_STRICT = json.JSONDecoder()
_LENIENT = json.JSONDecoder(strict=False)

NO_OBJECT = "no JSON object found"


def first_json_object(text: str, *, lenient: bool = False) -> tuple[dict | None, str | None]:
    """``(object, None)``, or ``(None, why)``: the first decoding error, else ``NO_OBJECT``."""
    cleaned = _FENCE.sub("", text)
    decoder = _LENIENT if lenient else _STRICT
    first_error: str | None = None
    start = cleaned.find("{")
    while start >= 0:
        tries = [(cleaned, start)]
        if lenient:
            tries.append((_TRAILING_COMMA.sub(r"\1", cleaned[start:]), 0))
        for n, (candidate, at) in enumerate(tries):
            try:
                obj, _ = decoder.raw_decode(candidate, at)
            except json.JSONDecodeError as e:
                if first_error is None and n == 0:
                    first_error = f"invalid JSON: {e.msg} at character {e.pos - start}"
                continue
            if isinstance(obj, dict):
                return obj, None
            break
        start = cleaned.find("{", start + 1)
    return None, first_error or NO_OBJECT
