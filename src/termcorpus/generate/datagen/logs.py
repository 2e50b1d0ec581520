"""Generators of logs and system tables: application, access and auth logs, /etc/passwd (data
querying)."""

from __future__ import annotations

import random

from termcorpus.generate.datagen._common import _clock, _filler, _ips
from termcorpus.generate.pools import NOUNS, SHELLS, USERS


_LEVELS = ("INFO", "WARN", "ERROR", "DEBUG")


_MSG = ("started", "stopped", "retrying", "timeout", "connected", "closed", "failed", "queued",
        "done", "skipped", "saved", "loaded", "rejected", "accepted")


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


def gen_passwd(rng: random.Random, avoid: frozenset[str], *, n: int, shell: str, k: int) -> str:
    """/etc/passwd-style lines; exactly ``k`` of the ``n`` accounts use ``shell``."""
    users = rng.sample([u for u in USERS if u not in avoid], n)
    shells = [shell] * k + [rng.choice([s for s in SHELLS if s != shell]) for _ in range(n - k)]
    rng.shuffle(shells)
    return "".join(
        f"{u}:x:{1000 + i}:{1000 + i}:{u.title()}:/home/{u}:{s}\n" for i, (u, s) in enumerate(zip(users, shells))
    )
