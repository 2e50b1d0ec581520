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


def gen_kv(rng: random.Random, avoid: frozenset[str], *, keys: list, sep: str = "=") -> str:
    """``key<sep>value`` config lines for the given keys (values: numbers or words)."""
    out = []
    for key in keys:
        val = str(rng.randint(1, 9999)) if rng.random() < 0.5 else _filler(rng, NOUNS, avoid)
        out.append(f"{key}{sep}{val}")
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
    files contain ``marker``. File names are lowercase nouns (one alphabetical order everywhere)."""
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
        path = f"{rng.choice(subdirs)}{name}.{e}"
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


