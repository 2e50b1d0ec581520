"""Blocks of the security domain: permissions, secrets, logs, checksums, redaction, audits."""

from __future__ import annotations

import re

from termcorpus.generate.blocks.base import (
    Art, Ctx, NotApplicable, Step, block, lines_art, moved, out_step, same, sha256, text_of,
)
from termcorpus.generate.pools import NOUNS


_ANY = ("rows", "text", "nums", "log", "reqs", "words", "csv", "json", "num", "dir")


@block(_ANY, None)
def file_permissions(c: Ctx, a: Art) -> Step:
    if not a.plain:
        raise NotApplicable("a link (chmod would change its target) or already restricted")
    mode = c.rng.choice(("600", "640", "400", "700", "750"))
    what = {"600": "only the owner can read and write", "640": "owner read/write, group read, others nothing",
            "400": "only the owner can read", "700": "only the owner can read, write and enter",
            "750": "owner all, group read and enter, others nothing"}[mode]
    check = f"[ \"$(stat -c %a {a.path})\" = {mode} ] || fail '{a.path} has the wrong mode'"
    if a.kind == "dir":
        check = f"[ \"$(stat -c %a {a.path})\" = {mode} ] || fail '{a.path} has the wrong mode'"
        if mode in ("600", "640", "400"):
            raise NotApplicable("a directory needs x")
    return Step(f"set the mode of {a.path} so that {what} (mode {mode})", [f"chmod {mode} {a.path}"],
                moved(a, plain=False), {f"{a.path}#mode": check})


@block(("dir",), "words")
def secret_scanning(c: Ctx, a: Art) -> Step:
    hits = sorted(f"{a.path}/{p}" for p, t in a.data.items() if "API_KEY=" in t)
    if not hits:
        raise NotApplicable("no secrets")
    return out_step(c, a, "words", "list, sorted, the files under {{src}} that contain 'API_KEY=' in {{dst}}",
                    "grep -rl 'API_KEY=' {{src}} | sort > {{dst}}", hits)


@block(("log",), "words")
def log_forensics(c: Ctx, a: Art) -> Step:
    ips = sorted({x.rsplit("ip=", 1)[1] for x in a.data if "login failed" in x and "ip=" in x})
    if not ips:
        raise NotApplicable("no failed logins")
    return out_step(c, a, "words", "write the distinct ip= addresses of the 'login failed' entries of {{src}}, sorted, to {{dst}}",
                    "grep 'login failed' {{src}} | sed 's/.*ip=//' | sort -u > {{dst}}", ips)


@block(("dir",), "words")
def integrity_checking(c: Ctx, a: Art) -> Step:
    paths = sorted(a.data)
    if len(paths) < 2:
        raise NotApplicable("too few files")
    bad = c.rng.choice(paths)
    sums = f"{c.stem()}.sha256"
    listing = [f"{sha256(a.data[p] + ('x' if p == bad else ''))}  {a.path}/{p}" for p in paths]
    step = out_step(c, a, "words", "check the files of {{src}} against {{sums}} (sha256sum -c) and write the lines of the "
                    "files that fail to {{dst}}", "sha256sum -c {{sums}} 2>/dev/null | grep -v ': OK$' > {{dst}}",
                    [f"{a.path}/{bad}: FAILED"], sums=sums)
    step.files[sums] = text_of(listing)
    return step


_EMAIL = re.compile(r"[a-z0-9]+@[a-z0-9]+\.org")


@block(("log",), "log")
def data_redaction(c: Ctx, a: Art) -> Step:
    if not any(_EMAIL.search(x) for x in a.data):
        raise NotApplicable("no e-mail addresses")
    return out_step(c, a, a.kind, "replace every e-mail address (x@y.org) in {{src}} with [email], result in {{dst}}",
                    "sed -E 's/[a-z0-9]+@[a-z0-9]+\\.org/[email]/g' {{src}} > {{dst}}", [_EMAIL.sub("[email]", x) for x in a.data])


@block(("rows", "text", "nums", "log", "reqs", "words", "num", "matrix"), "words")
def hashing(c: Ctx, a: Art) -> Step:
    from termcorpus.generate.blocks.base import file_text

    digest = sha256(file_text(a))
    step = out_step(c, a, "words", "write the SHA-256 hex digest of {{src}} (digest only) to {{dst}}",
                    "sha256sum {{src}} | cut -d' ' -f1 > {{dst}}", [digest])
    return step


@block((), "words")
def access_control_audit(c: Ctx, a: Art) -> Step:
    users = c.rng.sample(NOUNS, 6)
    entries, root_like = [], []
    for i, u in enumerate(users):
        uid = 0 if (i == 0 or c.rng.random() < 0.25) else 1000 + i
        shell = c.rng.choice(("/bin/bash", "/usr/sbin/nologin", "/bin/sh"))
        entries.append(f"{u}:x:{uid}:{uid}::/home/{u}:{shell}")
        if uid == 0:
            root_like.append(u)
    pw = f"{c.stem()}.passwd"
    step = out_step(c, a, "words", "list the accounts of {{pw}} (passwd format) with uid 0, in file order, in {{dst}}",
                    "awk -F: '$3 == 0 {print $1}' {{pw}} > {{dst}}", root_like, pw=pw)
    step.files[pw] = text_of(entries)
    return step


@block((), "words")
def password_policy(c: Ctx, a: Art) -> Step:
    pws = []
    for _ in range(c.rng.randint(5, 8)):
        w = c.rng.choice(NOUNS)
        pws.append(w + (str(c.rng.randint(1, 99)) if c.rng.random() < 0.6 else "") + ("X" * c.rng.randint(0, 4)))
    weak = [p for p in pws if len(p) < 8 or not re.search(r"[0-9]", p)]
    if not weak or len(weak) == len(pws):
        raise NotApplicable("policy splits nothing")
    f = f"{c.stem()}.txt"
    step = out_step(c, a, "words", "write the passwords of {{f}} shorter than 8 characters or without a digit, in file "
                    "order, to {{dst}}", "awk 'length($0) < 8 || $0 !~ /[0-9]/' {{f}} > {{dst}}", weak, f=f)
    step.files[f] = text_of(pws)
    return step


@block(("log",), "log")
def intrusion_detection(c: Ctx, a: Art) -> Step:
    hits = [x for x in a.data if "/../" in x]
    if not hits:
        raise NotApplicable("no traversal")
    return out_step(c, a, "log", "keep the entries of {{src}} whose request contains '/../' in {{dst}}",
                    "grep -F '/../' {{src}} > {{dst}}", hits)


def _rot13(s: str) -> str:
    return s.translate(str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                                     "NOPQRSTUVWXYZABCDEFGHIJKLMnopqrstuvwxyzabcdefghijklm"))


@block(("rows", "words"), None)
def token_handling(c: Ctx, a: Art) -> Step:
    return out_step(c, a, a.kind, "ROT13-encode {{src}} into {{dst}} (tr)", "tr 'A-Za-z' 'N-ZA-Mn-za-m' < {{src}} > {{dst}}",
                    [_rot13(x) for x in a.data])


@block((), "nums")
def network_exposure(c: Ctx, a: Art) -> Step:
    ports = c.rng.sample(range(20, 9000), c.rng.randint(4, 6))
    rows, public = [], []
    for p in ports:
        host = c.rng.choice(("0.0.0.0", "127.0.0.1", "0.0.0.0"))
        rows.append(f"tcp   LISTEN 0      128      {host}:{p}      0.0.0.0:*")
        if host == "0.0.0.0":
            public.append(p)
    if not public:
        raise NotApplicable("nothing exposed")
    f = f"{c.stem()}.txt"
    step = out_step(c, a, "nums", "{{f}} is 'ss -ltn' output; write the ports listening on 0.0.0.0, ascending, to {{dst}}",
                    "awk '$5 ~ /^0\\.0\\.0\\.0:/ {split($5, a, \":\"); print a[2]}' {{f}} | sort -n > {{dst}}",
                    [str(p) for p in sorted(public)], f=f)
    step.files[f] = text_of(["Netid State  Recv-Q Send-Q Local-Address:Port Peer-Address:Port"] + rows)
    return step


@block(("text",), "text")
def system_hardening(c: Ctx, a: Art) -> Step:
    if not a.plain or "PermitRootLogin yes" not in a.data:
        raise NotApplicable("nothing to harden")
    new = ["PermitRootLogin no" if x == "PermitRootLogin yes" else x for x in a.data]
    return Step(f"in {a.path} itself, turn PermitRootLogin from yes to no", [f"sed -i 's/^PermitRootLogin yes/PermitRootLogin no/' {a.path}"],
                lines_art(a.kind, a.path, new), same(a.path, new))


BLOCKS = [
    file_permissions, secret_scanning, log_forensics, integrity_checking, data_redaction, hashing,
    access_control_audit, password_policy, intrusion_detection, token_handling, network_exposure, system_hardening,
]
