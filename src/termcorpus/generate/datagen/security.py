"""Generators of security data: JWTs, ROT13 text, shadow and sudoers files, passwords, listening
ports, .env secrets, attack logs, card numbers, domains (security)."""

from __future__ import annotations

import json
import random

from termcorpus.generate.datagen._common import _clock, _distinct_words, _filler, _ips, _words
from termcorpus.generate.pools import ADJECTIVES, NOUNS, SHELLS, USERS


_SUFFIX_SECRET = ("TOKEN", "PASSWORD", "SECRET", "API_KEY")


_SUFFIX_PLAIN = ("HOST", "PORT", "NAME", "LEVEL", "MODE", "REGION", "USER", "TIMEOUT")


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
