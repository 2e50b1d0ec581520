"""The parts every skill block is made of: typed artifacts, steps, checks and input generators.

A composed task is a chain of steps. Each step is made by a :class:`Block` from the
:class:`Art` (artifact) the previous step left behind: a file or directory of a declared
``kind`` (``rows``, ``csv``, ``json``, ``dir``, ...) together with a Python model of its content.
The block picks its arguments from that content, computes the new artifact the way the real
tool would (GNU coreutils / mawk / jq / sqlite3 in the C locale), and returns the phrase for the
instruction, the commands that do it, and the shell checks ``test.sh`` runs on the result.

A step may be observation-dependent (:class:`Derive`): its right command depends on what a
look command prints (a column's position in a header, the path ``find`` returns, the line an
error message names). The oracle runs the look, applies the declared regexes to the REAL output
and fills the command template; the literal command is kept as the task's solution.

The first step's input is generated here (:data:`SOURCES`, one generator per kind), so any
block can open a chain.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from termcorpus.generate.pools import ADJECTIVES, NOUNS, draw, made_up_word
from termcorpus.generate.template import render

# kind -> file extension of a fresh artifact of that kind ("" = a directory)
KINDS: dict[str, str] = {
    "rows": "txt",      # lines "word word number": first field a word, last an integer
    "text": "conf",     # a config file: "Key value" lines, comments, blank lines
    "nums": "txt",      # one integer per line
    "num": "txt",       # one integer
    "csv": "csv",       # header + rows, columns by role (key, cat, x, y)
    "json": "json",     # a list of records with the csv roles
    "log": "log",       # application log lines
    "reqs": "txt",      # a pip requirements file, name==version lines
    "manifest": "json", # {"name", "version", "dependencies": {name: version}}
    "matrix": "txt",    # rows of space-separated integers
    "dir": "",          # a directory tree
    "tgz": "tar.gz",    # a gzip-compressed tar archive of a directory
    "words": "txt",     # any other lines (a listing, a digest, statistics)
    "none": "",         # nothing a later block reads (a chain's last step)
}
LINE_KINDS = ("rows", "text", "nums", "log", "reqs", "matrix", "words")
TEXT_FILES = LINE_KINDS + ("num", "csv", "json", "manifest")  # kinds that are one regular file


class NotApplicable(Exception):
    """The block cannot do meaningful work on this input; the composer redraws."""


@dataclass(frozen=True)
class Art:
    """An artifact in the task's working directory, with a model of its content."""

    kind: str
    path: str
    data: Any
    plain: bool = True  # a regular file written by the chain: safe to edit in place


@dataclass(frozen=True)
class Derive:
    """An observation-dependent command: run ``look``, match ``patterns`` (name -> regex with one
    group, searched in the output) and fill ``{{name}}`` in ``template``."""

    look: str
    patterns: dict[str, str]
    template: str


@dataclass
class Step:
    phrase: str
    commands: list[str]
    out: Art
    checks: dict[str, str]  # what test.sh verifies, keyed by path (a later step on the same path wins)
    files: dict[str, str] = field(default_factory=dict)
    binary_files: dict[str, str] = field(default_factory=dict)
    derive: Derive | None = None  # applies to commands[derive_at]; its look runs one turn before
    derive_at: int = 0


class Ctx:
    """Per-task state a block draws from: the random stream and names not used yet."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[str] = set()

    def stem(self) -> str:
        for _ in range(200):
            s = draw("stem", self.rng)
            if s not in self.used and len(s) <= 16:
                self.used.add(s)
                return s
        raise NotApplicable("no fresh name")

    def name(self, kind: str) -> str:
        ext = KINDS[kind]
        return f"{self.stem()}.{ext}" if ext else self.stem()

    def word(self, avoid: str = "") -> str:
        for _ in range(200):
            w = self.rng.choice(ADJECTIVES)
            if w not in avoid and w not in self.used:
                self.used.add(w)
                return w
        raise NotApplicable("no fresh word")


@dataclass(frozen=True)
class Block:
    """A composable skill step: consumes an artifact of one of ``consumes`` (empty: none, so the
    block can only open a chain), produces one of kind ``produces`` (None: the input's kind)."""

    name: str
    consumes: tuple[str, ...]
    produces: str | None
    make: Callable[[Ctx, Art], Step]

    def out_kind(self, kind: str) -> str:
        return self.produces or kind


def block(consumes: tuple[str, ...], produces: str | None) -> Callable[[Callable[[Ctx, Art], Step]], Block]:
    """Declare the step function below as a :class:`Block` named after it, so a block's kinds sit
    beside the code that reads them and its name cannot drift from the function's."""
    return lambda make: Block(make.__name__, consumes, produces, make)


# ---- content helpers -------------------------------------------------------------------------

def text_of(lines: list[str]) -> str:
    return "".join(x + "\n" for x in lines)


def b64(text: str | bytes) -> str:
    raw = text.encode() if isinstance(text, str) else text
    return base64.b64encode(raw).decode("ascii")


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def dumps(obj: Any) -> str:
    return json.dumps(obj, indent=1) + "\n"


# ---- checks (bash lines for test.sh; the helpers are defined in compose.TEST_HELPERS) --------

def same(path: str, lines: list[str]) -> dict[str, str]:
    """The file holds exactly these lines (trailing blanks on a line ignored)."""
    return {path: f"_same {path} {b64(text_of(lines))}"}


def same_json(path: str, obj: Any) -> dict[str, str]:
    return {path: f"_json {path} {b64(json.dumps(obj, sort_keys=True))}"}


def tree(path: str, files: dict[str, str]) -> dict[str, str]:
    """The directory holds exactly these files with this content (.git and __pycache__ aside)."""
    listing = [f"{sha256(files[p])}  ./{p}" for p in sorted(files)]
    return {path: f"_tree {path} {b64(text_of(listing))}"}


def art_check(a: Art) -> dict[str, str]:
    """The check that an artifact still holds the content its model says."""
    if a.kind == "dir":
        return tree(a.path, a.data)
    if a.kind == "json":
        return same_json(a.path, a.data["records"])
    if a.kind == "manifest":
        return same_json(a.path, a.data)
    if a.kind == "csv":
        return same(a.path, csv_lines(a.data))
    if a.kind in LINE_KINDS or a.kind == "num":
        return same(a.path, a.data)
    return {}


def lines_art(kind: str, path: str, lines: list[str]) -> Art:
    if not lines:
        raise NotApplicable("empty output")
    return Art(kind, path, list(lines))


def moved(a: Art, **changes: Any) -> Art:
    return replace(a, **changes)


# ---- the csv / json table model ---------------------------------------------------------------

def csv_lines(t: dict) -> list[str]:
    return [",".join(t["header"])] + [",".join(r) for r in t["rows"]]


def col(t: dict, role: str) -> int:
    """0-based position of the column playing ``role`` (key, cat, x, y)."""
    if role not in t["roles"]:
        raise NotApplicable(f"the table has no {role} column")
    return t["header"].index(t["roles"][role])


def records(t: dict) -> list[dict]:
    """csv rows as JSON records (numbers as int, as json_processing converts them)."""
    out = []
    for r in t["rows"]:
        out.append({h: (int(v) if v.isdigit() else v) for h, v in zip(t["header"], r)})
    return out


def header_probe(path: str, names: list[str]) -> Derive:
    """Look at the header and read off each named column's 1-based position."""
    look = f"head -1 {path} | tr , '\\n' | grep -n -x " + " ".join(f"-e {n}" for n in names)
    return Derive(look=look, patterns={f"c{i}": rf"^(\d+):{n}$" for i, n in enumerate(names)}, template="")


# ---- first-step inputs: one generator per kind -------------------------------------------------

def _words(rng: random.Random, k: int) -> list[str]:
    return rng.sample(NOUNS, k)


def gen_rows(rng: random.Random) -> list[str]:
    vocab = _words(rng, 5)
    n = rng.randint(7, 11)
    nums = rng.sample(range(10, 1000), n)
    lines = [f"{rng.choice(vocab)} {rng.choice(vocab)} {nums[i]}" for i in range(n)]
    lines.insert(rng.randint(0, len(lines)), rng.choice(lines))  # a repeat for dedup steps
    return lines


_CONF_KEYS = ("Port", "LogLevel", "MaxSessions", "PermitRootLogin", "PasswordAuthentication", "Timeout",
              "Workers", "CacheSize", "AllowUsers", "Banner")


def gen_text(rng: random.Random) -> list[str]:
    keys = rng.sample(_CONF_KEYS, rng.randint(5, 7))
    if "PermitRootLogin" not in keys:
        keys[rng.randrange(len(keys))] = "PermitRootLogin"
    vals = {"PermitRootLogin": "yes", "PasswordAuthentication": "yes", "LogLevel": "INFO"}
    lines = [f"# {rng.choice(NOUNS)} settings"]
    for k in keys:
        v = vals.get(k) or (rng.choice(NOUNS) if k in ("AllowUsers", "Banner") else str(rng.randint(2, 90)))
        lines.append(f"{k} {v}")
        r = rng.random()
        if r < 0.25:
            lines.append("")
        elif r < 0.4:
            lines.append(f"# {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}")
    return lines


def gen_nums(rng: random.Random) -> list[str]:
    return [str(x) for x in rng.sample(range(1, 200), rng.randint(6, 10))]


def gen_num(rng: random.Random) -> list[str]:
    return [str(rng.randint(40, 600))]


_CAT = ("city", "team", "region", "color")
_X = ("qty", "count", "age", "level")
_Y = ("score", "points", "price", "weight")


def gen_table(rng: random.Random, missing: bool | None = None) -> dict:
    roles = {"key": "name", "cat": rng.choice(_CAT), "x": rng.choice(_X), "y": rng.choice(_Y)}
    header = list(roles.values())
    rng.shuffle(header)
    n = rng.randint(6, 9)
    cats = _words(rng, 3)
    keys = rng.sample(ADJECTIVES, n)
    xs = rng.sample(range(1, 40), n)
    ys = rng.sample(range(10, 100), n)
    rows = []
    for i in range(n):
        vals = {"name": keys[i], roles["cat"]: rng.choice(cats), roles["x"]: str(xs[i]), roles["y"]: str(ys[i])}
        rows.append([vals[h] for h in header])
    if missing if missing is not None else rng.random() < 0.5:
        c = header.index(roles["cat"])
        for i in rng.sample(range(n), rng.randint(1, 2)):
            rows[i][c] = ""
    return {"header": header, "rows": rows, "roles": roles}


def gen_json(rng: random.Random) -> dict:
    t = gen_table(rng, missing=False)
    return {"records": records(t), "roles": t["roles"]}


_LEVELS = ("INFO", "INFO", "WARN", "ERROR")
_COMPS = ("auth", "db", "api", "cache", "worker")


def gen_log(rng: random.Random) -> list[str]:
    lines = []
    t = rng.randint(0, 3000)
    for _ in range(rng.randint(7, 10)):
        t += rng.randint(1, 400)
        lvl = rng.choice(_LEVELS)
        comp = rng.choice(_COMPS)
        ip = f"10.0.{rng.randint(0, 9)}.{rng.randint(1, 99)}"
        r = rng.random()
        if r < 0.25:
            msg = f"login failed user={rng.choice(NOUNS)}@{rng.choice(NOUNS)}.org"
        elif r < 0.4:
            msg = f"GET /{rng.choice(NOUNS)}/../../etc/passwd"
        else:
            msg = f"{rng.choice(('request', 'job', 'query'))} {rng.choice(('done', 'slow', 'retry'))} id={rng.randint(100, 999)}"
        lines.append(f"2024-05-0{1 + t // 3600 % 9} {t // 60 % 60:02d}:{t % 60:02d} {lvl} [{comp}] {msg} ip={ip}")
    return lines


_PKGS = ("requests", "numpy", "flask", "click", "rich", "pyyaml", "attrs", "jinja2", "pytest", "idna", "six", "tqdm")


def gen_reqs(rng: random.Random) -> list[str]:
    names = rng.sample(_PKGS, rng.randint(5, 7))
    return [f"{n}=={rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 12)}" for n in names]


def gen_manifest(rng: random.Random) -> dict:
    deps = {r.split("==")[0]: r.split("==")[1] for r in gen_reqs(rng)}
    return {"name": made_up_word(rng), "version": f"{rng.randint(0, 4)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}",
            "dependencies": dict(sorted(deps.items()))}


def gen_matrix(rng: random.Random) -> list[str]:
    cols = rng.randint(3, 4)
    return [" ".join(str(rng.randint(0, 30)) for _ in range(cols)) for _ in range(rng.randint(3, 5))]


def gen_dir(rng: random.Random) -> dict[str, str]:
    """A small project tree: text, csv, log and python files, a sub-directory, a TODO, a secret,
    an empty file and a temp file."""
    files: dict[str, str] = {}
    subs = rng.sample(("src", "docs", "data", "lib", "notes"), 2)
    names = rng.sample(NOUNS, 9)
    exts = ["txt", "txt", "csv", "log", "py", "py", "txt", "py", "log"]
    rng.shuffle(exts)
    for i, (n, e) in enumerate(zip(names, exts)):
        where = f"{subs[i % 3 - 1]}/" if i % 3 else ""
        if e == "py":
            body = f"import {rng.choice(('os', 'sys', 'json', 're', 'csv'))}\n\n\ndef {rng.choice(NOUNS)}_{n}():\n    return {rng.randint(1, 99)}\n"
        else:
            body = text_of([f"{rng.choice(NOUNS)} {rng.randint(1, 999)}" for _ in range(rng.randint(1, 4))])
        files[f"{where}{n}.{e}"] = body
    py = sorted(p for p in files if p.endswith(".py"))
    files[py[0]] += "# TODO: handle errors\n"
    txt = sorted(p for p in files if p.endswith(".txt"))
    files[txt[-1]] += f"API_KEY={rng.randint(10**7, 10**8)}\n"
    files[f"{rng.choice(NOUNS)}.tmp"] = "scratch\n"
    if rng.random() < 0.6:
        files[f"{subs[1]}/{rng.choice(NOUNS)}_old.py"] = f"def {rng.choice(NOUNS)}(:\n    return 1\n"
    files[f"{subs[0]}/empty_{rng.choice(NOUNS)}.txt"] = ""
    return files


def gen_words(rng: random.Random) -> list[str]:
    return [f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {rng.choice(('ok', 'late', 'new'))}" for _ in range(rng.randint(6, 9))]


SOURCES: dict[str, Callable[[random.Random], Any]] = {
    "words": gen_words,
    "rows": gen_rows, "text": gen_text, "nums": gen_nums, "num": gen_num, "csv": gen_table, "json": gen_json,
    "log": gen_log, "reqs": gen_reqs, "manifest": gen_manifest, "matrix": gen_matrix, "dir": gen_dir,
}


def file_text(a: Art) -> str:
    """The exact bytes (as text) of a one-file artifact."""
    if a.kind == "json":
        return dumps(a.data["records"])
    if a.kind == "manifest":
        return dumps(a.data)
    if a.kind == "csv":
        return text_of(csv_lines(a.data))
    return text_of(a.data)


def fill(text: str, **values: object) -> str:
    return render(text, {k: str(v) for k, v in values.items()})


def out_step(c: Ctx, a: Art, kind: str, phrase: str, command: str, lines: list[str] | None,
             data: Any = None, **values: object) -> Step:
    """The common step: read ``a``, write a new file of ``kind`` holding ``lines`` (or, for a
    structured kind, the content modelled by ``data``)."""
    dst = c.name(kind)
    v = {"src": a.path, "dst": dst, **values}
    out = lines_art(kind, dst, lines) if data is None else Art(kind, dst, data)
    return Step(fill(phrase, **v), [fill(command, **v)], out, art_check(out))


def source_files(a: Art) -> dict[str, str]:
    """The task files that hold a generated first artifact."""
    if a.kind == "dir":
        return {f"{a.path}/{p}": t for p, t in a.data.items()}
    return {a.path: file_text(a)}


def partial_word(c: Ctx, lines: list[str], allow_all: bool = False) -> str:
    """A word (matched as a substring, like grep) found in some lines but, unless allowed, not all."""
    words = sorted({w for line in lines for w in line.replace("[", " ").replace("]", " ").split()
                    if w.isalpha() and len(w) > 2})
    top = len(lines) + 1 if allow_all else len(lines)
    cands = [w for w in words if 0 < sum(w in x for x in lines) < top]
    if not cands:
        raise NotApplicable("no word splits the lines")
    return c.rng.choice(cands)


def last_ints(lines: list[str]) -> list[int]:
    try:
        return [int(x.split()[-1]) for x in lines]
    except (ValueError, IndexError):
        raise NotApplicable("lines do not end in a number") from None
