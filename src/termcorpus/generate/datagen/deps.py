"""Generators of dependency files: requirements, lock and constraint files, pyproject.toml,
package.json, pip lists, Python modules that import the standard library (dependency management)."""

from __future__ import annotations

import json
import random

from termcorpus.generate.datagen._common import _distinct_words, _filler, _version, _words
from termcorpus.generate.pools import NOUNS, PACKAGES, VERBS


# Importable standard-library modules of Debian's python3 (no python3-venv/-tk/-dev needed).
STDLIB_MODULES: tuple[str, ...] = tuple(
    """
    json csv re math random string textwrap difflib heapq bisect fractions decimal statistics
    itertools functools operator collections pathlib glob shutil tempfile hashlib hmac secrets
    base64 binascii struct array queue sched calendar datetime zlib gzip bz2 lzma zipfile tarfile
    sqlite3 uuid ipaddress html copy pprint enum dataclasses typing argparse logging getpass
    platform locale shlex fnmatch configparser tomllib
    """.split()
)


def gen_requirements(rng: random.Random, avoid: frozenset[str], *, n: int, include: str = "", version: str = "",
                     unpinned: int = 0, dups: int = 0) -> str:
    """A requirements file of ``n`` distinct packages (``include`` among them, pinned to
    ``version`` when given); ``unpinned`` lines carry no version; ``dups`` lines repeat."""
    names = rng.sample([p for p in PACKAGES if p not in avoid], n - (1 if include else 0))
    pins = {p: _version(rng, avoid) for p in names}
    if include:
        names.append(include)
        pins[include] = version or _version(rng, avoid)
    rng.shuffle(names)
    bare = set(rng.sample([p for p in names if p != include], unpinned))
    lines = [p if p in bare else f"{p}=={pins[p]}" for p in names]
    lines += [rng.choice(lines) for _ in range(dups)]
    rng.shuffle(lines)
    return "\n".join(lines) + "\n"


def gen_req_pair(rng: random.Random, avoid: frozenset[str], *, a: str, b: str, n: int, k: int) -> dict[str, str]:
    """Two pin lists ``a`` and ``b`` over the same ``n`` packages; exactly ``k`` versions differ."""
    names = rng.sample([p for p in PACKAGES if p not in avoid], n)
    va = {p: _version(rng) for p in names}
    vb = dict(va)
    for p in rng.sample(names, k):
        while vb[p] == va[p]:
            vb[p] = _version(rng)
    nb = list(names)
    rng.shuffle(nb)
    return {
        a: "".join(f"{p}=={va[p]}\n" for p in names),
        b: "".join(f"{p}=={vb[p]}\n" for p in nb),
    }


def gen_modules(rng: random.Random, avoid: frozenset[str], *, n: int, k: int) -> str:
    """``n`` module names, one per line: exactly ``k`` importable standard-library modules, the
    rest made-up names (``<noun><suffix>``) that no Python installs."""
    if k > n:
        raise ValueError("k must be <= n")
    real = rng.sample([m for m in STDLIB_MODULES if m not in avoid], k)
    fake: list[str] = []
    while len(fake) < n - k:
        m = f"{_filler(rng, NOUNS, avoid)}{rng.choice(('lib', 'kit', 'utils', 'tools', 'core', 'ops'))}"
        if m not in fake:
            fake.append(m)
    out = real + fake
    rng.shuffle(out)
    return "\n".join(out) + "\n"


def gen_py_imports(rng: random.Random, avoid: frozenset[str], *, n: int, k: int) -> dict[str, str]:
    """``n`` Python files importing, between them, ``k`` distinct top-level modules (standard
    library and PyPI names) as ``import x``, ``import x.y`` or ``from x import y`` lines."""
    mods = rng.sample([m for m in STDLIB_MODULES + PACKAGES if m not in avoid], k)
    names = _distinct_words(rng, avoid, n)
    per: dict[str, list[str]] = {w: [] for w in names}
    for i, m in enumerate(mods):
        per[names[i % n] if i < n else rng.choice(names)].append(m)
    files = {}
    for w, ms in per.items():
        lines = []
        for m in ms:
            r = rng.random()
            lines.append(f"import {m}" if r < 0.5 else f"from {m} import {rng.choice(VERBS)}" if r < 0.8
                         else f"import {m}.{rng.choice(VERBS)}")
        body = [f"def {rng.choice(VERBS)}_{w}(x):", "    return x", ""]
        files[f"{w}.py"] = "\n".join(lines + [""] + body)
    return dict(sorted(files.items()))


def gen_req_conflict(rng: random.Random, avoid: frozenset[str], *, n: int, k: int) -> str:
    """A requirements file of ``n`` pinned packages where exactly ``k`` appear a second time
    with a different version."""
    if k > n:
        raise ValueError("k must be <= n")
    names = rng.sample([p for p in PACKAGES if p not in avoid], n)
    lines = [f"{p}=={_version(rng)}" for p in names]
    for p in rng.sample(names, k):
        first = next(line for line in lines if line.startswith(p + "=="))
        while True:
            second = f"{p}=={_version(rng)}"
            if second != first:
                break
        lines.append(second)
    rng.shuffle(lines)
    return "\n".join(lines) + "\n"


def gen_lock_pair(rng: random.Random, avoid: frozenset[str], *, req: str, lock: str, n: int, extra: int) -> dict[str, str]:
    """``req`` lists ``n`` unpinned package names; ``lock`` pins those and ``extra`` more (name==version),
    in another order."""
    names = rng.sample([p for p in PACKAGES if p not in avoid], n + extra)
    pins = [f"{p}=={_version(rng)}" for p in names]
    rng.shuffle(pins)
    wanted = names[:n]
    rng.shuffle(wanted)
    return {req: "\n".join(wanted) + "\n", lock: "\n".join(pins) + "\n"}


def gen_versions(rng: random.Random, *, n: int) -> str:
    """``n`` distinct version strings, one per line, shuffled; several share a major.minor prefix
    so that plain text order and version order differ."""
    vs: set[str] = set()
    majors = rng.sample(range(0, 12), 3)
    while len(vs) < n:
        vs.add(f"{rng.choice(majors)}.{rng.randint(0, 12)}.{rng.randint(0, 15)}")
    out = sorted(vs)
    rng.shuffle(out)
    return "\n".join(out) + "\n"


def gen_pyproject(rng: random.Random, avoid: frozenset[str], *, name: str, version: str, n: int) -> str:
    """A pyproject.toml with [build-system], [project] (name, version, ``n`` dependencies with
    specifiers) and an optional-dependencies table."""
    pk = rng.sample([p for p in PACKAGES if p not in avoid], n + 2)
    ops = (">=", "==", "~=", "<")
    deps = [f'    "{p}{rng.choice(ops)}{_version(rng)}",' for p in pk[:n]]
    return "\n".join([
        "[build-system]", 'requires = ["setuptools>=61"]', 'build-backend = "setuptools.build_meta"', "",
        "[project]", f'name = "{name}"', f'version = "{version}"', 'requires-python = ">=3.9"',
        "dependencies = [", *deps, "]", "", "[project.optional-dependencies]",
        f'dev = ["{pk[n]}", "{pk[n + 1]}"]', "",
    ])


def gen_package_json(rng: random.Random, avoid: frozenset[str], *, name: str, n: int) -> str:
    """A node package.json with ``n`` dependencies (caret ranges) and two devDependencies."""
    words = _distinct_words(rng, avoid, n + 2)
    deps = {w: f"^{_version(rng)}" for w in words[:n]}
    dev = {f"{w}-dev": f"~{_version(rng)}" for w in words[n:]}
    return json.dumps({"name": name, "version": _version(rng), "private": True, "dependencies": deps,
                       "devDependencies": dev}, indent=2) + "\n"


def gen_pip_list(rng: random.Random, avoid: frozenset[str], *, n: int) -> str:
    """``pip list``-style output: a ``Package Version`` header, a dashed rule and ``n`` rows with
    the name padded to a column."""
    names = sorted(rng.sample([p for p in PACKAGES if p not in avoid], n), key=str.lower)
    width = max(len(x) for x in names + ["Package"]) + 1
    rows = [f"{'Package'.ljust(width)}Version", f"{'-' * (width - 1)} -------"]
    rows += [f"{x.ljust(width)}{_version(rng)}" for x in names]
    return "\n".join(rows) + "\n"


def gen_req_commented(rng: random.Random, avoid: frozenset[str], *, n: int, comments: int = 2, inline: int = 2,
                      blank: int = 1) -> str:
    """A requirements file of ``n`` pins with ``comments`` full-line comments, ``inline`` pins
    followed by ``  # reason`` and ``blank`` empty lines."""
    if inline > n:
        raise ValueError("inline must be <= n")
    names = rng.sample([p for p in PACKAGES if p not in avoid], n)
    lines = [f"{p}=={_version(rng)}" for p in names]
    for i in rng.sample(range(n), inline):
        lines[i] += "  # " + " ".join(_words(rng, avoid, 2))
    for _ in range(comments):
        lines.insert(rng.randint(0, len(lines)), "# " + " ".join(_words(rng, avoid, 3)))
    for _ in range(blank):
        lines.insert(rng.randint(1, len(lines)), "")
    return "\n".join(lines) + "\n"


def gen_constraint_pair(rng: random.Random, avoid: frozenset[str], *, req: str, cons: str, n: int, k: int) -> dict[str, str]:
    """``req`` pins ``n`` packages (name==version); ``cons`` caps each with ``name<=version``;
    exactly ``k`` pins are above their cap (compared as numeric version tuples)."""
    if k > n:
        raise ValueError("k must be <= n")
    names = rng.sample([p for p in PACKAGES if p not in avoid], n)
    bad = set(rng.sample(names, k))

    def vt(v: str) -> tuple[int, ...]:
        return tuple(int(x) for x in v.split("."))

    pins, caps = {}, {}
    for p in names:
        a, b = _version(rng), _version(rng)
        while a == b:
            b = _version(rng)
        lo, hi = sorted((a, b), key=vt)
        pins[p], caps[p] = (hi, lo) if p in bad else (lo, hi)
        if p not in bad and rng.random() < 0.2:
            caps[p] = pins[p]  # an exact cap is allowed (<=)
    order = list(names)
    rng.shuffle(order)
    return {req: "".join(f"{p}=={pins[p]}\n" for p in names), cons: "".join(f"{p}<={caps[p]}\n" for p in order)}
