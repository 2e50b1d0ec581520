"""Generators of numbers and tables: number columns, CSV / SQL / JSON records with distinct numeric
values and a unique maximum, matrices, x/y series and signals (data science, querying, scientific
computing)."""

from __future__ import annotations

import json
import random

from termcorpus.generate.datagen._common import _distinct_words
from termcorpus.generate.pools import CATEGORIES, NOUNS, USERS


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


def gen_signal(rng: random.Random, *, n: int, tname: str = "t", vname: str = "v") -> str:
    """CSV of ``n`` samples (time strictly increasing, irregular steps) of a positive signal."""
    t = 0.0
    out = [f"{tname},{vname}"]
    for _ in range(n):
        out.append(f"{t:.1f},{rng.randint(0, 500) / 10:.1f}")
        t += rng.randint(1, 20) / 10
    return "\n".join(out) + "\n"


def gen_tally(rng: random.Random, avoid: frozenset[str], *, n: int, numbers: bool = False) -> str:
    """One value per line (shuffled): ``n`` distinct words (or integers) repeated 1-4 times, one of
    them strictly more often than any other (a unique mode)."""
    vals = [str(v) for v in rng.sample(range(10, 100), n)] if numbers else _distinct_words(rng, avoid, n)
    counts = [rng.randint(1, 4) for _ in vals]
    counts[rng.randrange(n)] = 5 + rng.randint(0, 2)
    out = [v for v, c in zip(vals, counts) for _ in range(c)]
    rng.shuffle(out)
    return "\n".join(out) + "\n"


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
