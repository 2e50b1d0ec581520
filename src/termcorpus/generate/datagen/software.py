"""Generators of Python code: crashing scripts, syntax errors, code with comments and blanks
(debugging, software engineering)."""

from __future__ import annotations

import random

from termcorpus.generate.datagen._common import _distinct_words, _filler, _words
from termcorpus.generate.pools import NOUNS, VERBS


_CRASHES = (
    ('int("{w}")', "ValueError"), ("{v} / 0", "ZeroDivisionError"), ('{{}}["{w}"]', "KeyError"),
    ("[{v}][5]", "IndexError"), ('{v} + "{w}"', "TypeError"), ("{v}.{w}()", "AttributeError"),
    ("{w}_total + {v}", "NameError"), ('open("{w}.missing")', "FileNotFoundError"),
)


def gen_py_crash(rng: random.Random, avoid: frozenset[str], *, n: int) -> str:
    """A Python script of ``n`` simple top-level statements (assignments and prints) where one
    statement at a random line (not the first) raises an exception of a random kind."""
    names = _distinct_words(rng, avoid, n)
    crash_at = rng.randint(2, n)
    lines: list[str] = []
    for i, name in enumerate(names, 1):
        prev = names[rng.randrange(i - 1)] if i > 1 else ""
        if i == crash_at:
            code, _ = rng.choice(_CRASHES)
            lines.append(f"{name} = " + code.format(v=prev, w=_filler(rng, NOUNS, avoid)))
        elif prev and rng.random() < 0.3:
            lines.append(f"print({prev})")
            names[i - 1] = prev  # nothing new was defined on this line
        elif prev and rng.random() < 0.5:
            lines.append(f"{name} = {prev} {rng.choice('+-*')} {rng.randint(1, 9)}")
        else:
            lines.append(f"{name} = {rng.randint(1, 99)}")
    return "\n".join(lines) + "\n"


_SYNTAX_BREAKS = (
    lambda line: line.replace("):", ")", 1),          # def without its colon
    lambda line: line.replace("(", "(( ", 1),          # unbalanced parenthesis
    lambda line: line.replace("return", "return return", 1),
)


def gen_py_syntax(rng: random.Random, avoid: frozenset[str], *, n: int, k: int) -> dict[str, str]:
    """``n`` small Python modules, exactly ``k`` of which contain a syntax error in their
    function definition (missing colon, unbalanced parenthesis or a doubled keyword)."""
    if k > n:
        raise ValueError("k must be <= n")
    names = _distinct_words(rng, avoid, n)
    broken = set(rng.sample(names, k))
    files = {}
    for w in names:
        head = f"def {rng.choice(VERBS)}_{w}(value):"
        body = f"    return value {rng.choice('+-*')} {rng.randint(1, 9)}"
        if w in broken:
            fix = rng.randrange(len(_SYNTAX_BREAKS))
            if fix == 2:
                body = _SYNTAX_BREAKS[2](body)
            else:
                head = _SYNTAX_BREAKS[fix](head)
        files[f"{w}.py"] = "\n".join([f'"""The {w} helpers."""', "", "", head, body, ""])
    return dict(sorted(files.items()))


def gen_pycode(rng: random.Random, avoid: frozenset[str], *, n: int, comments: int = 2, blanks: int = 2) -> str:
    """A Python module of ``n`` top-level functions (and one class with a method), with
    ``comments`` comment lines and ``blanks`` extra blank lines scattered between the code."""
    names = rng.sample([f"{v}_{w}" for v in VERBS for w in NOUNS if w not in avoid], n + 1)
    blocks = []
    for name in names[:n]:
        body = [f"def {name}(value):"]
        for _ in range(rng.randint(1, 3)):
            body.append(f"    value = value {rng.choice('+-*')} {rng.randint(1, 9)}")
        body.append("    return value")
        blocks.append(body)
    cls = "".join(w.title() for w in names[n].split("_"))
    blocks.insert(rng.randint(0, len(blocks)), [f"class {cls}:", "    def run(self):", "        return 0"])
    lines = ['"""Helpers."""', ""]
    for b in blocks:
        lines += b + ["", ""]
    for _ in range(comments):
        lines.insert(rng.randint(2, len(lines)), f"# {' '.join(_words(rng, avoid, 3))}")
    for _ in range(blanks):
        lines.insert(rng.randint(2, len(lines)), "")
    return "\n".join(lines).rstrip("\n") + "\n"
