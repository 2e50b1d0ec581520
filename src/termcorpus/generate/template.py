"""The tiny template language of seeds and skill blocks: ``{{ name }}`` and nothing else.

Why not ``str.format``: shell, awk and Python snippets are full of single braces
(``awk '{print $1}'``, ``${APP_DIR}``), which ``str.format`` would make authors double. A
double-brace reference is rare in those languages, and there are no expressions, filters or
attribute access, so rendering a template never evaluates anything a seed author wrote.

Templates are compiled once (cached) into literal/reference pieces; rendering is a join.
"""

from __future__ import annotations

import functools
import re
from typing import Mapping

REF = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


@functools.lru_cache(maxsize=4096)
def compile_template(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Split ``text`` into literals (n+1) and reference names (n), alternating."""
    parts = REF.split(text)
    return tuple(parts[0::2]), tuple(parts[1::2])


def refs(text: str) -> tuple[str, ...]:
    """Names referenced by ``text``, in order of appearance (with repeats)."""
    return compile_template(text)[1]


def render(text: str, values: Mapping[str, str]) -> str:
    """Substitute every ``{{ name }}``; a missing name raises KeyError (seeds are checked first)."""
    lits, names = compile_template(text)
    if not names:
        return text
    out = [lits[0]]
    for name, lit in zip(names, lits[1:]):
        out.append(values[name])
        out.append(lit)
    return "".join(out)
