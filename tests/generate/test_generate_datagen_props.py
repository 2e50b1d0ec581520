"""The data generators added for the second seed set keep the promises their seeds rely on
(exact counts, a unique answer, well-formed files), for several random streams."""

from __future__ import annotations

import ast
import base64
import collections
import gzip
import importlib.util
import json
import random
import re
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET

import pytest

from termcorpus.generate.datagen import run_generator

SEEDS = range(6)
NONE: frozenset[str] = frozenset()


def gen(generator: str, seed: int, **args: object):  # type: ignore[no-untyped-def]
    return run_generator(generator, {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in args.items()},
                         random.Random(seed), NONE)


@pytest.mark.parametrize("seed", SEEDS)
def test_pairs_and_sets_share_exactly_k_keys(seed):
    files = gen("join_pair", seed, a="a", b="b", n=6, k=3)
    a, b = (dict(line.split() for line in files[x].splitlines()) for x in "ab")
    assert len(a) == len(b) == 6 and len(set(a) & set(b)) == 3
    files = gen("word_sets", seed, a="a", b="b", n=7, k=2, dups=2)
    wa, wb = files["a"].split(), files["b"].split()
    assert len(wa) == len(wb) == 9 and len(set(wa) & set(wb)) == 2
    d = gen("dir_pair", seed, a="x", b="y", common=2, only_a=3, only_b=1)
    xa = {p[2:] for p in d if p.startswith("x/")}
    ya = {p[2:] for p in d if p.startswith("y/")}
    assert (len(xa & ya), len(xa - ya), len(ya - xa)) == (2, 3, 1)


@pytest.mark.parametrize("seed", SEEDS)
def test_text_generators_hold_their_counts(seed):
    text = gen("messy", seed, n=6, blank=2, comments=3, trailing=2, spaces=2)
    lines = text.splitlines()
    assert lines.count("") == 2 and sum(x.startswith("#") for x in lines) == 3
    assert sum(x != x.rstrip(" \t") for x in lines) == 2 and sum("  " in x.strip() for x in lines) >= 2
    counts = collections.Counter(gen("tally", seed, n=5).split())
    top = sorted(counts.values())
    assert len(counts) == 5 and top[-1] > top[-2]
    lines = gen("cards", seed, n=8, k=3).splitlines()
    assert sum(bool(re.search(r"\b\d{4}[ -]\d{4}[ -]\d{4}[ -]\d{4}\b", x)) for x in lines) == 3
    assert sum("../" in x for x in gen("attack_log", seed, n=12, k=4).splitlines()) == 4


@pytest.mark.parametrize("seed", SEEDS)
def test_encoded_text_decodes(seed):
    raw = base64.b64decode(gen("encoded", seed, n=4, gzip=True))
    assert len(gzip.decompress(raw).decode().splitlines()) == 4
    assert len(base64.b64decode(gen("encoded", seed, n=3)).decode().splitlines()) == 3
    import codecs
    assert codecs.decode(gen("rot13", seed, n=3), "rot13").split()[0].istitle()
    head, body, _ = gen("jwt", seed, issuer="id.example").strip().split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert claims["iss"] == "id.example" and {"sub", "role", "exp", "iat"} <= set(claims)


@pytest.mark.parametrize("seed", SEEDS)
def test_trees_have_unique_sizes_twins_and_spaces(seed):
    sizes = [len(t) for t in gen("sized_tree", seed, n=6, depth=2).values()]
    assert len(sizes) == 6 and len(set(sizes)) == 6
    files = gen("dup_tree", seed, n=5, k=2)
    c = collections.Counter(files.values())
    assert len(files) == 7 and sum(1 for t in files.values() if c[t] > 1) == 4
    names = gen("spaced_names", seed, n=5, k=2)
    assert len(names) == 5 and sum(" " in p for p in names) == 2
    paths = gen("manifest", seed, n=6).split()
    assert len(set(paths)) == 6 and all(not p.startswith("/") for p in paths)


@pytest.mark.parametrize("seed", SEEDS)
def test_python_sources_parse_import_and_break_as_promised(seed):
    mods = gen("modules", seed, n=7, k=3).split()
    assert sum(importlib.util.find_spec(m) is not None for m in mods) == 3
    files = gen("py_imports", seed, n=3, k=6)
    found = {m for t in files.values() for m in re.findall(r"^(?:import|from) (\w+)", t, re.M)}
    assert len(found) == 6 and all(ast.parse(t) for t in files.values())
    broken = 0
    for path, text in gen("py_syntax", seed, n=5, k=2).items():
        try:
            compile(text, path, "exec")
        except SyntaxError:
            broken += 1
    assert broken == 2
    tree = ast.parse(gen("pycode", seed, n=4, comments=2, blanks=2))
    assert sum(isinstance(n, ast.FunctionDef) for n in tree.body) == 4


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_crash_script_raises_on_a_later_line(seed):
    script = gen("py_crash", seed, n=8)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    line = int(re.findall(r"line (\d+)", proc.stderr)[-1])
    assert proc.returncode == 1 and 2 <= line <= 8 and proc.stderr.strip().splitlines()[-1].split(":")[0].endswith("Error")


@pytest.mark.parametrize("seed", SEEDS)
def test_dependency_files_hold_their_counts(seed):
    lines = gen("req_conflict", seed, n=6, k=2).splitlines()
    c = collections.Counter(x.split("==")[0] for x in lines)
    assert sum(v > 1 for v in c.values()) == 2 and len(set(lines)) == len(lines)
    pair = gen("lock_pair", seed, req="r", lock="l", n=3, extra=2)
    pins = dict(x.split("==") for x in pair["l"].splitlines())
    assert set(pair["r"].split()) <= set(pins) and len(pins) == 5

    def vt(v: str) -> tuple[int, ...]:
        return tuple(map(int, v.split(".")))

    pair = gen("constraint_pair", seed, req="r", cons="c", n=6, k=2)
    caps = dict(x.split("<=") for x in pair["c"].splitlines())
    assert sum(vt(v) > vt(caps[p]) for p, v in (x.split("==") for x in pair["r"].splitlines())) == 2
    assert len(set(gen("versions", seed, n=7).split())) == 7
    doc = tomllib.loads(gen("pyproject", seed, name="kit", version="1.2.3", n=4))
    assert doc["project"]["name"] == "kit" and len(doc["project"]["dependencies"]) == 4
    assert len(json.loads(gen("package_json", seed, name="app", n=3))["dependencies"]) == 3
    assert len(gen("pip_list", seed, n=5).splitlines()) == 7
    pins = [x for x in gen("req_commented", seed, n=5, comments=2, inline=2).splitlines() if x and not x.startswith("#")]
    assert len(pins) == 5 and sum("#" in x for x in pins) == 2


@pytest.mark.parametrize("seed", SEEDS)
def test_security_files_hold_their_counts(seed):
    rows = [x.split(":", 1) for x in gen("passwords", seed, n=8, k=3, min_len=9).splitlines()]
    assert sum(len(p) < 9 or not re.search("[0-9]", p) for _, p in rows) == 3
    rows = [x.split() for x in gen("listeners", seed, n=6, k=2).splitlines()[1:]]
    assert sum(r[3].startswith(("0.0.0.0:", "[::]:")) for r in rows) == 2 and len({r[3].rsplit(":", 1)[1] for r in rows}) == 6
    lines = gen("sudoers", seed, n=5, k=2).splitlines()
    assert sum("NOPASSWD" in x and not x.startswith("#") for x in lines) == 2
    rows = [x.split(":") for x in gen("passwd_uid0", seed, n=6, k=2).splitlines()]
    assert rows[0][0] == "root" and sum(r[2] == "0" for r in rows[1:]) == 2
    rows = [x.split(":") for x in gen("shadow", seed, n=6, k=2).splitlines()]
    assert sum(r[1] == "" for r in rows) == 2
    keys = [x.split("=")[0] for x in gen("dotenv", seed, n=6, k=2, prefix="SVC").splitlines()]
    assert all(k.startswith("SVC_") for k in keys)
    assert sum(k.endswith(("_TOKEN", "_PASSWORD", "_SECRET", "_API_KEY")) for k in keys) == 2
    domains = gen("domains", seed, n=4).split()
    assert len(set(domains)) == 4 and all(d.endswith(".example") for d in domains)
    root = ET.fromstring(gen("xml_items", seed, n=5, include="anvil", tag="part"))
    assert len(root) == 5 and len(root.findall(".//part[@name='anvil']")) == 1


def test_kv_keeps_key_order_unless_asked_to_shuffle():
    keys = ["alpha_size", "beta_mode", "gamma_path", "delta_url", "omega_port"]
    plain = [x.split("=")[0] for x in gen("kv", 1, keys=",".join(keys)).splitlines()]
    assert plain == keys
    mixed = [[x.split("=")[0] for x in gen("kv", s, keys=",".join(keys), shuffle=True).splitlines()] for s in range(5)]
    assert all(sorted(m) == sorted(keys) for m in mixed) and any(m != keys for m in mixed)
