"""Generators of directory trees and files: trees with an exact count of matching files, manifests,
checksums, names with spaces, sized and duplicate files, directory pairs (file operations)."""

from __future__ import annotations

import hashlib
import random

from termcorpus.generate.datagen._common import _distinct_words, _filler, _words
from termcorpus.generate.pools import ADJECTIVES, DIRS, EXTS, NOUNS, VERBS


def gen_tree(rng: random.Random, avoid: frozenset[str], *, ext: str = "", k: int = 0, n: int = 4, depth: int = 2,
             empty: int = 0, marker: str = "", marked: int = 0) -> dict[str, str]:
    """A directory tree: ``k`` files ending ``.ext`` and ``n`` files with other extensions, spread
    over sub-directories up to ``depth`` deep; ``empty`` extra empty files; exactly ``marked``
    files contain ``marker``. File names are lowercase nouns (one alphabetical order everywhere);
    each sub-directory holds at least one file."""
    subdirs = [""]
    for _ in range(rng.randint(1, 3) if depth > 0 else 0):
        parent = rng.choice([d for d in subdirs if d.count("/") < depth])
        subdirs.append(f"{parent}{_filler(rng, DIRS, avoid)}/")
    subdirs = list(dict.fromkeys(subdirs))
    other_exts = [e for e in EXTS if e != ext and e not in avoid]
    total = k + n + empty
    names = rng.sample([w for w in NOUNS if w not in avoid and not (marker and marker in w)], total)
    files: dict[str, str] = {}
    for i, name in enumerate(names):
        e = ext if i < k else rng.choice(other_exts)
        body = "" if i >= k + n else "\n".join(" ".join(_words(rng, avoid, 3, marker)) for _ in range(rng.randint(1, 4))) + "\n"
        # every sub-directory holds at least one file (an empty tree would make "list the
        # sub-directories" or "flatten" tasks vacuous), the rest land anywhere
        where = subdirs[i + 1] if i + 1 < len(subdirs) else rng.choice(subdirs)
        path = f"{where}{name}.{e}"
        files[path] = body
    if marked:
        nonempty = [p for p, t in files.items() if t]
        for p in rng.sample(nonempty, marked):
            files[p] += f"{marker} {rng.choice(VERBS)}{rng.randint(10, 99)}\n"
    return dict(sorted(files.items()))


def gen_checksums(rng: random.Random, avoid: frozenset[str], *, dir: str, n: int, sums: str) -> dict[str, str]:
    """``n`` files under ``dir`` and a sha256sum list ``sums`` of them; exactly one file was changed
    after the list was made."""
    names = rng.sample([w for w in NOUNS if w not in avoid], n)
    files = {f"{dir}/{w}.txt": " ".join(_words(rng, avoid, 5)) + "\n" for w in names}
    listing = "".join(f"{hashlib.sha256(t.encode()).hexdigest()}  {p}\n" for p, t in files.items())
    bad = rng.choice(sorted(files))
    files[bad] += "tampered\n"
    files[sums] = listing
    return files


def gen_manifest(rng: random.Random, avoid: frozenset[str], *, n: int, depth: int = 3) -> str:
    """``n`` distinct relative file paths (up to ``depth`` directories deep), one per line."""
    out: list[str] = []
    while len(out) < n:
        dirs = [_filler(rng, DIRS, avoid) for _ in range(rng.randint(0, depth))]
        path = "/".join(dirs + [f"{_filler(rng, NOUNS, avoid)}.{rng.choice(EXTS)}"])
        if path not in out:
            out.append(path)
    return "\n".join(out) + "\n"


def gen_spaced_names(rng: random.Random, avoid: frozenset[str], *, n: int, k: int) -> dict[str, str]:
    """``n`` files (flat) of which exactly ``k`` have spaces in their names (``adj noun.ext``,
    sometimes two spaces); the others are single lowercase words."""
    if k > n:
        raise ValueError("k must be <= n")
    words = _distinct_words(rng, avoid, n)
    files = {}
    for i, w in enumerate(words):
        if i < k:
            extra = f" {_filler(rng, VERBS, avoid)}" if rng.random() < 0.3 else ""
            name = f"{_filler(rng, ADJECTIVES, avoid)} {w}{extra}"
        else:
            name = w
        files[f"{name}.{rng.choice(EXTS)}"] = " ".join(_words(rng, avoid, 4)) + "\n"
    return dict(sorted(files.items()))


def gen_encoded(rng: random.Random, avoid: frozenset[str], *, n: int, gzip: bool = False) -> str:
    """Base64 (76-column lines) of ``n`` lines of words; with ``gzip``, of their gzip
    compression (mtime 0, so the bytes are reproducible)."""
    import base64
    import gzip as gz

    data = ("\n".join(" ".join(_words(rng, avoid, rng.randint(2, 5))) for _ in range(n)) + "\n").encode()
    if gzip:
        data = gz.compress(data, mtime=0)
    b = base64.b64encode(data).decode("ascii")
    return "\n".join(b[i:i + 76] for i in range(0, len(b), 76)) + "\n"


def gen_sized_tree(rng: random.Random, avoid: frozenset[str], *, n: int, depth: int = 1) -> dict[str, str]:
    """``n`` files of pairwise different sizes (one largest, one smallest), in sub-directories up
    to ``depth`` deep."""
    subdirs = [""]
    for _ in range(rng.randint(1, 3) if depth > 0 else 0):
        parent = rng.choice([d for d in subdirs if d.count("/") < depth])
        subdirs.append(f"{parent}{_filler(rng, DIRS, avoid)}/")
    subdirs = list(dict.fromkeys(subdirs))
    sizes = rng.sample(range(20, 900), n)
    files = {}
    for name, size in zip(_distinct_words(rng, avoid, n), sizes):
        body = ""
        while len(body) < size:
            body += " ".join(_words(rng, avoid, 8)) + "\n"
        files[f"{rng.choice(subdirs)}{name}.{rng.choice(EXTS)}"] = body[: size - 1] + "\n"
    return dict(sorted(files.items()))


def gen_dup_tree(rng: random.Random, avoid: frozenset[str], *, n: int, k: int) -> dict[str, str]:
    """``n`` files (flat) with unique contents plus ``k`` more files, each an exact copy of a
    different one of them (so 2k files have a twin)."""
    if k > n:
        raise ValueError("k must be <= n")
    names = _distinct_words(rng, avoid, n + k)
    bodies = [" ".join(_words(rng, avoid, rng.randint(3, 8))) + f" {i}\n" for i in range(n)]
    files = {f"{w}.txt": b for w, b in zip(names, bodies)}
    for w, b in zip(names[n:], rng.sample(bodies, k)):
        files[f"{w}.txt"] = b
    return dict(sorted(files.items()))


def gen_dir_pair(rng: random.Random, avoid: frozenset[str], *, a: str, b: str, common: int, only_a: int,
                 only_b: int) -> dict[str, str]:
    """Two directories: ``common`` file names in both (different contents), ``only_a`` names only
    in ``a``, ``only_b`` only in ``b``."""
    names = [f"{w}.{rng.choice(EXTS)}" for w in _distinct_words(rng, avoid, common + only_a + only_b)]
    files: dict[str, str] = {}
    for i, name in enumerate(names):
        if i < common + only_a:
            files[f"{a}/{name}"] = " ".join(_words(rng, avoid, 4)) + " a\n"
        if i < common or i >= common + only_a:
            files[f"{b}/{name}"] = " ".join(_words(rng, avoid, 4)) + " b\n"
    return dict(sorted(files.items()))
