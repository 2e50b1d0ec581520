"""Named data generators: the input files of a task, built from the variant's random stream.

A seed's file entry says ``gen: csv`` with ``args`` (templates rendered to strings first); the
generator gets the variant's ``random.Random``, the set of slot values to ``avoid`` as filler (so a
pattern the task asks about appears exactly as often as the generator promised), and its own
keyword arguments converted from strings according to the function's annotations (``int``,
``bool``, ``list`` = comma-separated, ``str``). It returns the file text, or a mapping
``relative path -> text`` for generators that build several files (joined under the entry's
``path``; ``"."`` means the task root).

Generators make the properties a test relies on hold by construction: an exact count of
matching lines, a unique maximum, distinct numeric values (so "the row with the largest x" has
one answer and numeric sorts have no ties). All text is ASCII.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import random
from typing import Callable, Mapping

from termcorpus.generate.pools import ADJECTIVES, CATEGORIES, DIRS, EXTS, NOUNS, PACKAGES, SHELLS, USERS, VERBS

def _filler(rng: random.Random, pool: tuple[str, ...], avoid: frozenset[str], include: str = "") -> str:
    """A pool word that is not a slot value and does not contain ``include`` as a substring."""
    while True:
        w = rng.choice(pool)
        if w not in avoid and not (include and include in w):
            return w


_WORD_POOLS: dict[str, tuple[str, ...]] = {
    "noun": NOUNS, "adj": ADJECTIVES, "verb": VERBS, "user": USERS, "category": CATEGORIES, "dir": DIRS,
}


def _words(rng: random.Random, avoid: frozenset[str], n: int, include: str = "", pool: tuple[str, ...] = NOUNS) -> list[str]:
    return [_filler(rng, pool, avoid, include) for _ in range(n)]


def gen_lines(rng: random.Random, avoid: frozenset[str], *, n: int, pool: str = "noun", words: int = 1,
              include: str = "", k: int = 0, dups: int = 0) -> str:
    """``n`` lines of ``words`` pool words; exactly ``k`` lines contain ``include``; ``dups`` repeats."""
    if pool not in _WORD_POOLS:
        raise ValueError(f"pool must be one of {', '.join(sorted(_WORD_POOLS))}")
    if k > n or dups >= n:
        raise ValueError("k must be <= n and dups < n")
    src = _WORD_POOLS[pool]
    lines: list[str] = []
    for i in range(n - dups):
        ws = _words(rng, avoid, words, include, src)
        if i < k:
            ws.insert(rng.randint(0, len(ws)), include)
        lines.append(" ".join(ws))
    # duplicates copy lines that do not hold `include`, so the count of matches stays exactly k
    plain = lines[k:] or lines
    lines.extend(rng.choice(plain) for _ in range(dups))
    rng.shuffle(lines)
    return "\n".join(lines) + "\n"


def gen_numbers(rng: random.Random, *, n: int, lo: int, hi: int, distinct: bool = True) -> str:
    """``n`` integers in [lo, hi], one per line (distinct when the range allows)."""
    if distinct and hi - lo + 1 >= n:
        vals = rng.sample(range(lo, hi + 1), n)
    else:
        vals = [rng.randint(lo, hi) for _ in range(n)]
    return "\n".join(map(str, vals)) + "\n"


def gen_decimals(rng: random.Random, *, n: int, lo: int, hi: int, places: int = 1) -> str:
    """``n`` decimal numbers in [lo, hi] with ``places`` decimals, one per line."""
    scale = 10**places
    vals = rng.sample(range(lo * scale, hi * scale + 1), n)
    return "\n".join(f"{v / scale:.{places}f}" for v in vals) + "\n"


class _Column:
    """Values for one typed column of a csv/records generator (see ``gen_csv``)."""

    def __init__(self, spec: str, rows: int, rng: random.Random, avoid: frozenset[str]):
        kind, *a = spec.split(":")
        self.kind, self.rng, self.avoid, self.rows = kind, rng, avoid, rows
        if kind == "id":
            self.values: list[object] = list(range(1, rows + 1))
        elif kind in ("int", "maybe_int"):
            lo, hi = (int(a[0]), int(a[1])) if a else (0, 999)
            if hi - lo + 1 >= rows:
                vals: list[object] = list(rng.sample(range(lo, hi + 1), rows))
            else:
                vals = [rng.randint(lo, hi) for _ in range(rows)]
            if kind == "maybe_int":
                # at least one missing and one present value, about a quarter missing
                holes = set(rng.sample(range(rows), max(1, min(rows - 1, rows // 4 + rng.randint(0, 1)))))
                vals = [None if i in holes else v for i, v in enumerate(vals)]
            self.values = vals
        elif kind == "float":
            lo, hi = (int(a[0]), int(a[1])) if len(a) >= 2 else (0, 100)
            places = int(a[2]) if len(a) >= 3 else 2
            scale = 10**places
            self.values = [v / scale for v in rng.sample(range(lo * scale, hi * scale + 1), rows)]
            self.places = places
        elif kind == "category":
            cats = rng.sample([c for c in CATEGORIES if c not in avoid], rng.randint(3, 4))
            self.values = [cats[i % len(cats)] for i in range(rows)]
            rng.shuffle(self.values)
        elif kind == "choice":
            opts = a[0].split("|") if a else []
            if not opts or not all(opts):
                raise ValueError("choice columns need values: choice:a|b|c")
            vals = [opts[i % len(opts)] for i in range(rows)]
            rng.shuffle(vals)
            self.values = list(vals)
        elif kind == "word":
            self.values = rng.sample([w for w in NOUNS if w not in avoid], rows)
        elif kind == "name":
            self.values = rng.sample([u for u in USERS if u not in avoid], min(rows, len(USERS)))
            self.values += [rng.choice(USERS) for _ in range(rows - len(self.values))]
        elif kind == "date":
            days = rng.sample(range(0, 365), rows)
            self.values = [_date(d) for d in sorted(days)]
        elif kind == "email":
            self.values = [f"{rng.choice(USERS)}{rng.randint(1, 99)}@{rng.choice(NOUNS)}.example" for _ in range(rows)]
        else:
            raise ValueError(
                f"unknown column type {kind!r}; expected id, int, maybe_int, float, category, choice, word, name, date, email"
            )

    def text(self, i: int) -> str:
        v = self.values[i]
        if v is None:
            return ""
        if self.kind == "float":
            return f"{v:.{self.places}f}"
        return str(v)


_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _date(day_of_year: int) -> str:
    m = 0
    while day_of_year >= _MONTH_DAYS[m]:
        day_of_year -= _MONTH_DAYS[m]
        m += 1
    return f"2024-{m + 1:02d}-{day_of_year + 1:02d}"


def _columns(header: list[str], types: list[str], rows: int, rng: random.Random, avoid: frozenset[str]) -> list[_Column]:
    if len(header) != len(types):
        raise ValueError(f"header has {len(header)} names but types has {len(types)}")
    if len(set(header)) != len(header):
        raise ValueError(f"header names repeat: {','.join(header)}")
    return [_Column(t, rows, rng, avoid) for t in types]


def _placed(header: list[str], types: list[str], place: str, at: int) -> tuple[list[str], list[str]]:
    """Move column ``place`` to 1-based position ``at`` (so a task can vary where a column is)."""
    if not place:
        return header, types
    if place not in header:
        raise ValueError(f"place names column {place!r}, which is not in the header")
    if not 1 <= at <= len(header):
        raise ValueError(f"at must be between 1 and {len(header)}")
    i = header.index(place)
    h, t = header[:i] + header[i + 1:], types[:i] + types[i + 1:]
    h.insert(at - 1, place)
    t.insert(at - 1, types[i])
    return h, t


def gen_csv(rng: random.Random, avoid: frozenset[str], *, header: list, types: list, rows: int, sep: str = ",",
            noheader: bool = False, place: str = "", at: int = 1) -> str:
    """A header row and ``rows`` rows; ``types`` per column: id, int[:lo:hi], maybe_int[:lo:hi],
    float[:lo:hi:places], category, choice:a|b|c, word, name, date, email. Numeric columns hold
    distinct values (one maximum, no ties). ``place``/``at`` move one column to a position;
    ``noheader`` leaves the header row out."""
    header, types = _placed(header, types, place, at)
    cols = _columns(header, types, rows, rng, avoid)
    out = [] if noheader else [sep.join(header)]
    for i in range(rows):
        out.append(sep.join(c.text(i) for c in cols))
    return "\n".join(out) + "\n"


def gen_sql(rng: random.Random, avoid: frozenset[str], *, table: str, columns: list, types: list, rows: int) -> str:
    """An SQL script creating ``table`` (INTEGER/REAL/TEXT columns by csv type) and inserting
    ``rows`` rows."""
    cols = _columns(columns, types, rows, rng, avoid)
    sqltype = {"id": "INTEGER", "int": "INTEGER", "maybe_int": "INTEGER", "float": "REAL"}
    decl = ", ".join(f"{c} {sqltype.get(col.kind, 'TEXT')}" for c, col in zip(columns, cols))
    out = [f"CREATE TABLE {table} ({decl});"]
    for i in range(rows):
        vals = []
        for col in cols:
            v = col.values[i]
            vals.append("NULL" if v is None else col.text(i) if col.kind in sqltype else f"'{v}'")
        out.append(f"INSERT INTO {table} VALUES ({', '.join(vals)});")
    return "\n".join(out) + "\n"


def gen_records(rng: random.Random, avoid: frozenset[str], *, fields: list, types: list, n: int,
                jsonl: bool = False) -> str:
    """``n`` JSON objects (types as for csv; numbers stay numbers, a missing maybe_int is null),
    as one indented JSON array or, with ``jsonl``, one object per line."""
    cols = _columns(fields, types, n, rng, avoid)
    objs = [{f: c.values[i] for f, c in zip(fields, cols)} for i in range(n)]
    if jsonl:
        return "".join(json.dumps(o) + "\n" for o in objs)
    return json.dumps(objs, indent=2) + "\n"


_LEVELS = ("INFO", "WARN", "ERROR", "DEBUG")
_MSG = ("started", "stopped", "retrying", "timeout", "connected", "closed", "failed", "queued",
        "done", "skipped", "saved", "loaded", "rejected", "accepted")


def _clock(rng: random.Random, n: int) -> list[str]:
    t = rng.randint(0, 20000)
    out = []
    for _ in range(n):
        t += rng.randint(1, 300)
        out.append(f"2024-03-{1 + t // 86400:02d} {t // 3600 % 24:02d}:{t // 60 % 60:02d}:{t % 60:02d}")
    return out


def gen_log(rng: random.Random, avoid: frozenset[str], *, n: int, level: str = "", k: int = 0,
            include: str = "", ki: int = 0) -> str:
    """Application log lines ``DATE TIME LEVEL [component] message``: exactly ``k`` lines at
    ``level`` (others at other levels) and exactly ``ki`` lines whose message holds ``include``."""
    if k > n or ki > n:
        raise ValueError("k and ki must be <= n")
    others = [lv for lv in _LEVELS if lv != level]
    levels = [level] * k + [rng.choice(others) for _ in range(n - k)] if level else [rng.choice(_LEVELS) for _ in range(n)]
    rng.shuffle(levels)
    marked = set(rng.sample(range(n), ki))
    comps = [_filler(rng, NOUNS, avoid, include) for _ in range(4)]
    lines = []
    for i, ts in enumerate(_clock(rng, n)):
        msg = [_filler(rng, _MSG, avoid, include), _filler(rng, NOUNS, avoid, include)]
        if i in marked:
            msg.insert(rng.randint(0, 2), include)
        lines.append(f"{ts} {levels[i]} [{rng.choice(comps)}] {' '.join(msg)}")
    return "\n".join(lines) + "\n"


def _ips(rng: random.Random, k: int) -> list[str]:
    ips: set[str] = set()
    while len(ips) < k:
        ips.add(f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}")
    return sorted(ips)


def gen_access_log(rng: random.Random, avoid: frozenset[str], *, n: int) -> str:
    """Web server access log (common log format); exactly one client IP makes the most requests."""
    ips = _ips(rng, rng.randint(4, 7))
    top = rng.choice(ips)
    rest = [ip for ip in ips if ip != top]
    counts = {ip: 0 for ip in ips}
    order: list[str] = []
    while len(order) < n:
        ip = rng.choice(ips)
        order.append(ip)
        counts[ip] += 1
    # make the chosen IP the strict maximum by turning some others' hits into its own
    while counts[top] <= max(counts[ip] for ip in rest):
        i = next(j for j, ip in enumerate(order) if ip != top and counts[ip] == max(counts[x] for x in rest))
        counts[order[i]] -= 1
        order[i] = top
        counts[top] += 1
    lines = []
    for ip, ts in zip(order, _clock(rng, n)):
        d, hms = ts.split(" ")
        path = "/" + _filler(rng, NOUNS, avoid)
        status = rng.choice((200, 200, 200, 200, 301, 304, 404, 500))
        lines.append(f'{ip} - - [{d[8:10]}/Mar/2024:{hms} +0000] "GET {path} HTTP/1.1" {status} {rng.randint(100, 9999)}')
    return "\n".join(lines) + "\n"


def gen_auth_log(rng: random.Random, avoid: frozenset[str], *, n: int, failed: int, host: str = "server") -> str:
    """sshd auth log: exactly ``failed`` 'Failed password' lines among ``n``."""
    if failed > n:
        raise ValueError("failed must be <= n")
    ips = _ips(rng, rng.randint(3, 6))
    kinds = ["fail"] * failed + ["ok"] * (n - failed)
    rng.shuffle(kinds)
    lines = []
    for kind, ts in zip(kinds, _clock(rng, n)):
        user = rng.choice(USERS)
        ip = rng.choice(ips)
        pid = rng.randint(1000, 65000)
        what = "Failed password" if kind == "fail" else "Accepted password"
        lines.append(f"Mar {10 + int(ts[8:10])} {ts[11:]} {host} sshd[{pid}]: {what} for {user} from {ip} port {rng.randint(30000, 65000)} ssh2")
    return "\n".join(lines) + "\n"


def gen_kv(rng: random.Random, avoid: frozenset[str], *, keys: list, sep: str = "=", shuffle: bool = False) -> str:
    """``key<sep>value`` config lines for the given keys (values: numbers or words); with
    ``shuffle`` the lines come in random order (so a key's position is not part of the template)."""
    out = []
    for key in keys:
        val = str(rng.randint(1, 9999)) if rng.random() < 0.5 else _filler(rng, NOUNS, avoid)
        out.append(f"{key}{sep}{val}")
    if shuffle:
        rng.shuffle(out)
    return "\n".join(out) + "\n"


def _version(rng: random.Random, avoid: frozenset[str] = frozenset()) -> str:
    while True:
        v = f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 20)}"
        if v not in avoid:
            return v


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


def gen_passwd(rng: random.Random, avoid: frozenset[str], *, n: int, shell: str, k: int) -> str:
    """/etc/passwd-style lines; exactly ``k`` of the ``n`` accounts use ``shell``."""
    users = rng.sample([u for u in USERS if u not in avoid], n)
    shells = [shell] * k + [rng.choice([s for s in SHELLS if s != shell]) for _ in range(n - k)]
    rng.shuffle(shells)
    return "".join(
        f"{u}:x:{1000 + i}:{1000 + i}:{u.title()}:/home/{u}:{s}\n" for i, (u, s) in enumerate(zip(users, shells))
    )


def gen_matrix(rng: random.Random, *, rows: int, cols: int, lo: int = 0, hi: int = 99) -> str:
    """A whitespace-separated integer matrix."""
    return "".join(" ".join(str(rng.randint(lo, hi)) for _ in range(cols)) + "\n" for _ in range(rows))


def gen_xy(rng: random.Random, *, n: int, xname: str = "x", yname: str = "y") -> str:
    """CSV of ``n`` points with a noisy linear relation between the two columns."""
    a = rng.randint(-50, 50) / 10 or 1.5
    b = rng.randint(-100, 100) / 10
    xs = sorted(rng.sample(range(0, 200), n))
    out = [f"{xname},{yname}"]
    for x in xs:
        out.append(f"{x / 10:.1f},{a * x / 10 + b + rng.randint(-30, 30) / 100:.2f}")
    return "\n".join(out) + "\n"


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


def gen_emails(rng: random.Random, avoid: frozenset[str], *, n: int, k: int) -> str:
    """``n`` lines of text; exactly ``k`` of them contain one e-mail address."""
    lines = []
    for i in range(n):
        ws = _words(rng, avoid, rng.randint(3, 6))
        if i < k:
            ws.insert(rng.randint(0, len(ws)), f"{rng.choice(USERS)}.{rng.choice(NOUNS)}@{rng.choice(NOUNS)}.example")
        lines.append(" ".join(ws))
    rng.shuffle(lines)
    return "\n".join(lines) + "\n"


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


def gen_signal(rng: random.Random, *, n: int, tname: str = "t", vname: str = "v") -> str:
    """CSV of ``n`` samples (time strictly increasing, irregular steps) of a positive signal."""
    t = 0.0
    out = [f"{tname},{vname}"]
    for _ in range(n):
        out.append(f"{t:.1f},{rng.randint(0, 500) / 10:.1f}")
        t += rng.randint(1, 20) / 10
    return "\n".join(out) + "\n"


# --- generators added for the second batch of seeds (data/seeds/*_2.yaml) -----------------------

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
_SUFFIX_SECRET = ("TOKEN", "PASSWORD", "SECRET", "API_KEY")
_SUFFIX_PLAIN = ("HOST", "PORT", "NAME", "LEVEL", "MODE", "REGION", "USER", "TIMEOUT")


def _distinct_words(rng: random.Random, avoid: frozenset[str], n: int, pool: tuple[str, ...] = NOUNS) -> list[str]:
    return rng.sample([w for w in pool if w not in avoid], n)


def gen_join_pair(rng: random.Random, avoid: frozenset[str], *, a: str, b: str, n: int, k: int) -> dict[str, str]:
    """Two files of ``key value`` lines (space-separated, unsorted): ``a`` maps keys to users, ``b``
    to numbers; each has ``n`` keys and exactly ``k`` keys occur in both."""
    if k > n:
        raise ValueError("k must be <= n")
    keys = _distinct_words(rng, avoid, 2 * n - k)
    ka, kb = keys[:n], keys[:k] + keys[n:]
    rng.shuffle(ka)
    rng.shuffle(kb)
    nums = rng.sample(range(10, 1000), len(kb))
    return {a: "".join(f"{x} {rng.choice(USERS)}\n" for x in ka),
            b: "".join(f"{x} {v}\n" for x, v in zip(kb, nums))}


def gen_word_sets(rng: random.Random, avoid: frozenset[str], *, a: str, b: str, n: int, k: int, dups: int = 0) -> dict[str, str]:
    """Two word lists (one word per line, unsorted) ``a`` and ``b`` of ``n`` distinct words each,
    exactly ``k`` words in both; ``dups`` words of each list appear twice."""
    if k > n or dups > n:
        raise ValueError("k and dups must be <= n")
    words = _distinct_words(rng, avoid, 2 * n - k)
    wa, wb = words[:n], words[:k] + words[n:]
    wa = wa + rng.sample(wa, dups)
    wb = wb + rng.sample(wb, dups)
    rng.shuffle(wa)
    rng.shuffle(wb)
    return {a: "\n".join(wa) + "\n", b: "\n".join(wb) + "\n"}


def gen_xml_items(rng: random.Random, avoid: frozenset[str], *, n: int, include: str, tag: str = "item") -> str:
    """An XML catalog of ``n`` ``<tag name=".." price=".." qty=".."/>`` elements with distinct
    names, one of them named ``include`` (at a random position)."""
    names = _distinct_words(rng, avoid, n - 1) + [include]
    rng.shuffle(names)
    prices = rng.sample(range(100, 10000), n)
    out = ['<?xml version="1.0"?>', "<catalog>"]
    for name, price in zip(names, prices):
        out.append(f'  <{tag} name="{name}" price="{price / 100:.2f}" qty="{rng.randint(0, 500)}"/>')
    out.append("</catalog>")
    return "\n".join(out) + "\n"


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


def gen_messy(rng: random.Random, avoid: frozenset[str], *, n: int, blank: int = 0, comments: int = 0,
              trailing: int = 0, spaces: int = 0) -> str:
    """``n`` lines of 2-4 words plus ``blank`` empty lines and ``comments`` lines starting with
    '#'; ``trailing`` content lines end in spaces/tabs; ``spaces`` lines have runs of spaces."""
    if trailing > n or spaces > n:
        raise ValueError("trailing and spaces must be <= n")
    lines = [_words(rng, avoid, rng.randint(2, 4)) for _ in range(n)]
    text = []
    spaced = set(rng.sample(range(n), spaces))
    trail = set(rng.sample(range(n), trailing))
    for i, ws in enumerate(lines):
        line = (" " * rng.randint(2, 4)).join(ws) if i in spaced else " ".join(ws)
        if i in trail:
            line += rng.choice(("  ", " ", "\t", " \t", "   "))
        text.append(line)
    for _ in range(comments):
        text.insert(rng.randint(0, len(text)), "# " + " ".join(_words(rng, avoid, 3)))
    for _ in range(blank):
        text.insert(rng.randint(1, len(text)), "")
    return "\n".join(text) + "\n"


def gen_tally(rng: random.Random, avoid: frozenset[str], *, n: int, numbers: bool = False) -> str:
    """One value per line (shuffled): ``n`` distinct words (or integers) repeated 1-4 times, one of
    them strictly more often than any other (a unique mode)."""
    vals = [str(v) for v in rng.sample(range(10, 100), n)] if numbers else _distinct_words(rng, avoid, n)
    counts = [rng.randint(1, 4) for _ in vals]
    counts[rng.randrange(n)] = 5 + rng.randint(0, 2)
    out = [v for v, c in zip(vals, counts) for _ in range(c)]
    rng.shuffle(out)
    return "\n".join(out) + "\n"


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


def gen_jwt(rng: random.Random, avoid: frozenset[str], *, issuer: str = "auth.example") -> str:
    """A JSON Web Token (header.payload.signature, base64url without padding) whose payload holds
    sub (a user), role, iss, iat and exp claims; the signature is random bytes."""
    import base64

    def b64url(b: bytes) -> str:
        return base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")

    iat = rng.randint(1_700_000_000, 1_800_000_000)
    payload = {"sub": _filler(rng, USERS, avoid), "role": rng.choice(("admin", "viewer", "editor", "auditor")),
               "iss": issuer, "iat": iat, "exp": iat + rng.choice((900, 3600, 86400))}
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = b64url(json.dumps(payload, separators=(",", ":")).encode())
    sig = b64url(bytes(rng.randrange(256) for _ in range(32)))
    return f"{head}.{body}.{sig}\n"


def gen_rot13(rng: random.Random, avoid: frozenset[str], *, n: int) -> str:
    """``n`` lines of words (some capitalized, with punctuation) encoded with ROT13."""
    import codecs

    lines = []
    for _ in range(n):
        ws = _words(rng, avoid, rng.randint(3, 7))
        ws[0] = ws[0].title()
        lines.append(" ".join(ws) + rng.choice((".", "!", "?", ",", "")))
    return codecs.encode("\n".join(lines) + "\n", "rot13")


def gen_shadow(rng: random.Random, avoid: frozenset[str], *, n: int, k: int) -> str:
    """/etc/shadow-style lines: exactly ``k`` of ``n`` accounts have an empty password field;
    the others hold a hash or are locked (``!`` / ``*``)."""
    if k > n:
        raise ValueError("k must be <= n")
    users = rng.sample([u for u in USERS if u not in avoid], n)
    empty = set(rng.sample(range(n), k))
    out = []
    for i, u in enumerate(users):
        if i in empty:
            pw = ""
        elif rng.random() < 0.25:
            pw = rng.choice(("!", "*", "!!"))
        else:
            salt = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(8))
            pw = f"$6${salt}$" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyzABCDEF0123456789./") for _ in range(43))
        out.append(f"{u}:{pw}:{rng.randint(18000, 20000)}:0:99999:7:::")
    return "\n".join(out) + "\n"


def gen_passwords(rng: random.Random, avoid: frozenset[str], *, n: int, k: int, min_len: int) -> str:
    """``user:password`` lines: exactly ``k`` of ``n`` passwords break the policy "at least
    ``min_len`` characters and at least one digit" (too short, or no digit)."""
    if k > n:
        raise ValueError("k must be <= n")
    users = rng.sample([u for u in USERS if u not in avoid], n)
    letters = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
    out = []
    for i, u in enumerate(users):
        if i < k and rng.random() < 0.5:  # too short (may hold a digit)
            pw = "".join(rng.choice(letters) for _ in range(rng.randint(3, min_len - 2))) + str(rng.randint(0, 9))
        elif i < k:  # long enough, no digit
            pw = "".join(rng.choice(letters) for _ in range(rng.randint(min_len, min_len + 6)))
        else:
            pw = "".join(rng.choice(letters) for _ in range(rng.randint(min_len - 1, min_len + 5))) + str(rng.randint(0, 99))
        out.append(f"{u}:{pw}")
    rng.shuffle(out)
    return "\n".join(out) + "\n"


def gen_listeners(rng: random.Random, avoid: frozenset[str], *, n: int, k: int) -> str:
    """``ss -tlnp``-style listening sockets: exactly ``k`` of ``n`` bind all interfaces
    (0.0.0.0 or [::]), the rest 127.0.0.1; ports are distinct."""
    if k > n:
        raise ValueError("k must be <= n")
    ports = rng.sample(range(1024, 9999), n)
    exposed = set(rng.sample(range(n), k))
    out = ["State  Recv-Q Send-Q Local-Address:Port Peer-Address:Port Process"]
    for i, port in enumerate(ports):
        addr = rng.choice(("0.0.0.0", "[::]")) if i in exposed else "127.0.0.1"
        proc = _filler(rng, NOUNS, avoid)
        out.append(f'LISTEN 0      128    {addr}:{port} *:* users:(("{proc}d",pid={rng.randint(100, 9999)},fd={rng.randint(3, 30)}))')
    return "\n".join(out) + "\n"


def gen_sudoers(rng: random.Random, avoid: frozenset[str], *, n: int, k: int) -> str:
    """A sudoers-style file: comments, defaults and ``n`` user rules, exactly ``k`` of them
    NOPASSWD (plus a commented-out NOPASSWD rule that must not count)."""
    if k > n:
        raise ValueError("k must be <= n")
    users = rng.sample([u for u in USERS if u not in avoid], n + 1)
    nopw = set(rng.sample(range(n), k))
    out = ["# sudoers file", "Defaults env_reset", "Defaults secure_path=/usr/sbin:/usr/bin:/sbin:/bin", ""]
    for i, u in enumerate(users[:n]):
        cmd = rng.choice(("ALL", "/usr/bin/systemctl", "/usr/bin/apt-get", "/bin/mount"))
        out.append(f"{u} ALL=(ALL) {'NOPASSWD: ' if i in nopw else ''}{cmd}")
    out.insert(rng.randint(4, len(out)), f"# {users[n]} ALL=(ALL) NOPASSWD: ALL")
    return "\n".join(out) + "\n"


def gen_passwd_uid0(rng: random.Random, avoid: frozenset[str], *, n: int, k: int) -> str:
    """/etc/passwd lines: root (UID 0) first, then ``n`` accounts, exactly ``k`` of which also
    have UID 0 (backdoor accounts)."""
    if k > n:
        raise ValueError("k must be <= n")
    users = rng.sample([u for u in USERS if u not in avoid], n)
    zero = set(rng.sample(range(n), k))
    out = ["root:x:0:0:root:/root:/bin/bash"]
    for i, u in enumerate(users):
        uid = 0 if i in zero else 1000 + i
        out.append(f"{u}:x:{uid}:{1000 + i}:{u.title()}:/home/{u}:{rng.choice(SHELLS)}")
    return "\n".join(out) + "\n"


def gen_dotenv(rng: random.Random, avoid: frozenset[str], *, n: int, k: int, prefix: str = "APP") -> str:
    """``KEY=value`` lines: exactly ``k`` of ``n`` keys end in a secret suffix (_TOKEN,
    _PASSWORD, _SECRET, _API_KEY), the others in harmless ones; keys are ``PREFIX_WORD_SUFFIX``."""
    if k > n:
        raise ValueError("k must be <= n")
    words = _distinct_words(rng, avoid, n)
    out = []
    for i, w in enumerate(words):
        suffix = rng.choice(_SUFFIX_SECRET if i < k else _SUFFIX_PLAIN)
        val = "".join(rng.choice("abcdef0123456789") for _ in range(16)) if i < k else _filler(rng, NOUNS, avoid)
        out.append(f"{prefix}_{w.upper()}_{suffix}={val}")
    rng.shuffle(out)
    return "\n".join(out) + "\n"


def gen_attack_log(rng: random.Random, avoid: frozenset[str], *, n: int, k: int) -> str:
    """Access log (common log format): exactly ``k`` of ``n`` requests try a path traversal
    (``../``), coming from 1-3 attacker IPs; the others are ordinary requests."""
    if k > n:
        raise ValueError("k must be <= n")
    ips = _ips(rng, rng.randint(5, 8))
    bad_ips = rng.sample(ips, min(k, rng.randint(1, 3)))
    bad = set(rng.sample(range(n), k))
    lines = []
    for i, ts in enumerate(_clock(rng, n)):
        d, hms = ts.split(" ")
        if i in bad:
            ip = rng.choice(bad_ips)
            path = "/" + _filler(rng, NOUNS, avoid) + "?f=" + "../" * rng.randint(2, 5) + rng.choice(("etc/passwd", "etc/shadow", "root/.ssh/id_rsa"))
        else:
            ip = rng.choice([x for x in ips if x not in bad_ips] or ips)
            path = "/" + _filler(rng, NOUNS, avoid) + "/" + _filler(rng, NOUNS, avoid)
        lines.append(f'{ip} - - [{d[8:10]}/Mar/2024:{hms} +0000] "GET {path} HTTP/1.1" {rng.choice((200, 404, 403))} {rng.randint(100, 9999)}')
    return "\n".join(lines) + "\n"


def gen_cards(rng: random.Random, avoid: frozenset[str], *, n: int, k: int) -> str:
    """``n`` lines of order text; exactly ``k`` hold a 16-digit card number (4 groups of 4
    digits separated by spaces or dashes); other numbers on the lines have 1-5 digits."""
    if k > n:
        raise ValueError("k must be <= n")
    lines = []
    for i in range(n):
        ws = [f"order{rng.randint(100, 99999)}", _filler(rng, USERS, avoid), *_words(rng, avoid, 2)]
        if i < k:
            sep = rng.choice((" ", "-"))
            ws.insert(rng.randint(1, len(ws)), sep.join(f"{rng.randint(0, 9999):04d}" for _ in range(4)))
        lines.append(" ".join(ws))
    rng.shuffle(lines)
    return "\n".join(lines) + "\n"


def gen_domains(rng: random.Random, avoid: frozenset[str], *, n: int) -> str:
    """``n`` distinct domain names (``word-word.example``), one per line."""
    out: list[str] = []
    while len(out) < n:
        d = f"{_filler(rng, ADJECTIVES, avoid)}-{_filler(rng, NOUNS, avoid)}.example"
        if d not in out:
            out.append(d)
    return "\n".join(out) + "\n"


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


GENERATORS: dict[str, Callable[..., object]] = {
    "lines": gen_lines,
    "numbers": gen_numbers,
    "decimals": gen_decimals,
    "csv": gen_csv,
    "sql": gen_sql,
    "records": gen_records,
    "log": gen_log,
    "access_log": gen_access_log,
    "auth_log": gen_auth_log,
    "kv": gen_kv,
    "requirements": gen_requirements,
    "req_pair": gen_req_pair,
    "passwd": gen_passwd,
    "matrix": gen_matrix,
    "xy": gen_xy,
    "tree": gen_tree,
    "emails": gen_emails,
    "checksums": gen_checksums,
    "signal": gen_signal,
    "join_pair": gen_join_pair,
    "messy": gen_messy,
    "py_syntax": gen_py_syntax,
    "manifest": gen_manifest,
    "spaced_names": gen_spaced_names,
    "py_crash": gen_py_crash,
    "xml_items": gen_xml_items,
    "word_sets": gen_word_sets,
    "tally": gen_tally,
    "encoded": gen_encoded,
    "sized_tree": gen_sized_tree,
    "dup_tree": gen_dup_tree,
    "dir_pair": gen_dir_pair,
    "modules": gen_modules,
    "py_imports": gen_py_imports,
    "req_conflict": gen_req_conflict,
    "lock_pair": gen_lock_pair,
    "versions": gen_versions,
    "pyproject": gen_pyproject,
    "package_json": gen_package_json,
    "passwords": gen_passwords,
    "jwt": gen_jwt,
    "rot13": gen_rot13,
    "shadow": gen_shadow,
    "pip_list": gen_pip_list,
    "req_commented": gen_req_commented,
    "constraint_pair": gen_constraint_pair,
    "listeners": gen_listeners,
    "sudoers": gen_sudoers,
    "passwd_uid0": gen_passwd_uid0,
    "dotenv": gen_dotenv,
    "attack_log": gen_attack_log,
    "cards": gen_cards,
    "domains": gen_domains,
    "pycode": gen_pycode,
}


def generator_params(name: str) -> dict[str, inspect.Parameter]:
    """The keyword arguments a generator accepts (``rng``/``avoid`` are supplied by the caller)."""
    sig = inspect.signature(GENERATORS[name])
    return {k: p for k, p in sig.parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}


_PARAMS_CACHE: dict[str, tuple[dict[str, inspect.Parameter], bool]] = {}


def _converted(name: str, args: Mapping[str, str]) -> dict[str, object]:
    if name not in _PARAMS_CACHE:
        fn = GENERATORS[name]
        _PARAMS_CACHE[name] = (generator_params(name), "avoid" in inspect.signature(fn).parameters)
    params, _ = _PARAMS_CACHE[name]
    out: dict[str, object] = {}
    for key, raw in args.items():
        if key not in params:
            raise ValueError(f"unknown argument {key!r}; {name} takes {', '.join(params)}")
        ann = params[key].annotation
        if ann in (int, "int"):
            try:
                out[key] = int(raw)
            except ValueError:
                raise ValueError(f"argument {key!r} must be an integer, got {raw!r}") from None
        elif ann in (bool, "bool"):
            if raw not in ("true", "false"):
                raise ValueError(f"argument {key!r} must be true or false, got {raw!r}")
            out[key] = raw == "true"
        elif ann in (list, "list"):
            out[key] = [x.strip() for x in raw.split(",")]
        else:
            out[key] = raw
    missing = [k for k, p in params.items() if p.default is inspect.Parameter.empty and k not in out]
    if missing:
        raise ValueError(f"missing argument {missing[0]!r} of generator {name}")
    return out


def run_generator(name: str, args: Mapping[str, str], rng: random.Random, avoid: frozenset[str]) -> str | dict[str, str]:
    """Call generator ``name`` with string ``args``; a bad argument raises ValueError (one line)."""
    kwargs = _converted(name, args)
    fn = GENERATORS[name]
    if _PARAMS_CACHE[name][1]:
        return fn(rng, avoid, **kwargs)  # type: ignore[return-value]
    return fn(rng, **kwargs)  # type: ignore[return-value]


