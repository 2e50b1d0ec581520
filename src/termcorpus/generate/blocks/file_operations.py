"""Blocks of the file_operations domain: directory trees, globs, find, archives, links, sizes.

A ``dir`` artifact's model maps each file's path (relative to the directory) to its text. The
test compares the whole tree (names and content digests), so a step that moves, deletes or
copies files is checked by what the tree holds afterwards.
"""

from __future__ import annotations

from termcorpus.generate.blocks.base import (
    TEXT_FILES, Art, Ctx, Derive, NotApplicable, Step, art_check, b64, block, fill, lines_art, moved,
    out_step, same, text_of, tree,
)


_FILE = ("rows", "text", "nums", "log", "reqs", "words", "csv", "json", "num")


def _top(files: dict[str, str]) -> list[str]:
    return sorted(p for p in files if "/" not in p)


def _ext(p: str) -> str:
    return p.rsplit(".", 1)[-1] if "." in p else ""


def _top_ext(c: Ctx, files: dict[str, str], min_n: int = 1) -> str:
    exts = sorted({_ext(p) for p in _top(files) if _ext(p)})
    exts = [e for e in exts if sum(_ext(p) == e for p in _top(files)) >= min_n]
    if not exts:
        raise NotApplicable("no top-level files")
    return c.rng.choice(exts)


def _in_place(a: Art, phrase: str, cmd: str, files: dict[str, str]) -> Step:
    if files == a.data:
        raise NotApplicable("nothing changes")
    out = Art("dir", a.path, files)
    return Step(phrase, [cmd], out, tree(a.path, files))


@block(("dir",), "dir")
def file_moving(c: Ctx, a: Art) -> Step:
    e = _top_ext(c, a.data)
    sub = c.stem()
    files = {(f"{sub}/{p}" if "/" not in p and _ext(p) == e else p): t for p, t in a.data.items()}
    return _in_place(a, f"move the top-level *.{e} files of {a.path} into a new sub-directory {a.path}/{sub}",
                     f"mkdir -p {a.path}/{sub} && mv {a.path}/*.{e} {a.path}/{sub}/", files)


@block(("dir",), "dir")
def globbing(c: Ctx, a: Art) -> Step:
    e = _top_ext(c, a.data)
    dst = c.stem()
    files = {p: t for p, t in a.data.items() if "/" not in p and _ext(p) == e}
    return Step(f"copy the top-level *.{e} files of {a.path} into a new directory {dst}",
                [f"mkdir -p {dst} && cp {a.path}/*.{e} {dst}/"], Art("dir", dst, files), tree(dst, files))


@block(("dir",), "rows")
def recursive_search(c: Ctx, a: Art) -> Step:
    cands = sorted(p for p, t in a.data.items() if "/" in p and t and (p.endswith(".txt") or p.endswith(".log"))
                   and all(len(x.split()) == 2 and x.split()[1].isdigit() for x in t.splitlines()))
    if not cands:
        raise NotApplicable("no nested data file")
    p = c.rng.choice(cands)
    base = p.rsplit("/", 1)[1]
    if sum(q.rsplit("/", 1)[-1] == base for q in a.data) > 1:
        raise NotApplicable("name not unique")
    dst = c.name("rows")
    lines = a.data[p].splitlines()
    return Step(f"{base} is somewhere under {a.path}: find it and copy it to {dst}", [f"cp {a.path}/{p} {dst}"],
                lines_art("rows", dst, lines), same(dst, lines),
                derive=Derive(f"find {a.path} -name {base}", {"p": rf"^(\S*/{base})$"}, f"cp {{{{p}}}} {dst}"))


@block(("dir",), "tgz")
def archiving(c: Ctx, a: Art) -> Step:
    dst = f"{c.stem()}.tar.gz"
    members = [f"{a.path}/{p}" for p in sorted(a.data)]
    check = (f"[ \"$(tar -tzf {dst} 2>/dev/null | grep -v '/$' | sort)\" = \"$(printf '%s' {b64(text_of(members))} | base64 -d)\" ] "
             f"|| fail '{dst} does not hold the tree'")
    return Step(f"pack directory {a.path} into the gzip-compressed tar archive {dst}", [f"tar -czf {dst} {a.path}"],
                Art("tgz", dst, {"root": a.path, "files": dict(a.data)}), {dst: check})


@block(("dir",), "dir")
def file_renaming(c: Ctx, a: Art) -> Step:
    e = _top_ext(c, a.data)
    new = "bak" if e != "bak" else "old"
    files = {(p[: -len(e)] + new if "/" not in p and _ext(p) == e else p): t for p, t in a.data.items()}
    if len(files) != len(a.data):
        raise NotApplicable("a rename would overwrite")
    return _in_place(a, f"rename every top-level *.{e} file of {a.path} to *.{new}",
                     f"for f in {a.path}/*.{e}; do mv \"$f\" \"${{f%.{e}}}.{new}\"; done", files)


@block(_FILE, None)
def symlinks(c: Ctx, a: Art) -> Step:
    link = c.name(a.kind) if a.kind in TEXT_FILES else c.stem()
    check = f"[ -L {link} ] && [ \"$(readlink {link})\" = {a.path} ] || fail '{link} is not a symlink to {a.path}'"
    return Step(f"make {link} a symbolic link to {a.path}", [f"ln -s {a.path} {link}"],
                moved(a, path=link, plain=False), {link: check})


@block(("dir",), "dir")
def file_cleanup(c: Ctx, a: Art) -> Step:
    files = {p: t for p, t in a.data.items() if t and not p.endswith(".tmp")}
    return _in_place(a, f"delete the empty files and the *.tmp files anywhere under {a.path}",
                     f"find {a.path} -type f \\( -empty -o -name '*.tmp' \\) -delete", files)


@block(("dir",), "words")
def file_concatenation(c: Ctx, a: Art) -> Step:
    e = _top_ext(c, a.data, min_n=2)
    parts = [p for p in _top(a.data) if _ext(p) == e]
    lines = "".join(a.data[p] for p in parts).splitlines()
    return out_step(c, a, "words", "concatenate the top-level *.{{e}} files of {{src}}, in name order, into {{dst}}",
                    "cat {{src}}/*.{{e}} > {{dst}}", lines, e=e)


@block(("rows", "nums", "log", "words", "matrix"), None)
def line_reversal(c: Ctx, a: Art) -> Step:
    return out_step(c, a, a.kind, "write the lines of {{src}} in reverse order to {{dst}}", "tac {{src}} > {{dst}}", a.data[::-1])


@block(("rows", "nums", "log", "words", "text"), None)
def file_inspection(c: Ctx, a: Art) -> Step:
    if len(a.data) < 3:
        raise NotApplicable("too few lines")
    n = c.rng.randint(1, len(a.data) - 1)
    return out_step(c, a, a.kind, "save the last {{n}} lines of {{src}} to {{dst}}", "tail -n {{n}} {{src}} > {{dst}}",
                    a.data[-n:], n=n)


@block(("rows", "nums", "log", "words"), "dir")
def file_splitting(c: Ctx, a: Art) -> Step:
    if len(a.data) < 4:
        raise NotApplicable("too few lines")
    n = c.rng.randint(2, max(2, len(a.data) // 2))
    dst = c.stem()
    chunks = [a.data[i:i + n] for i in range(0, len(a.data), n)]
    files = {f"part_a{chr(97 + i)}": text_of(ch) for i, ch in enumerate(chunks)}
    return Step(f"split {a.path} into pieces of {n} lines named {dst}/part_aa, part_ab, ... (split)",
                [f"mkdir -p {dst} && split -l {n} {a.path} {dst}/part_"], Art("dir", dst, files), tree(dst, files))


@block(("dir",), "dir")
def file_copying(c: Ctx, a: Art) -> Step:
    if "/" in a.path:
        raise NotApplicable("nested source")
    e = _top_ext(c, {p.rsplit("/", 1)[-1]: t for p, t in a.data.items()})
    files = {p: t for p, t in a.data.items() if _ext(p) == e}
    dst = c.stem()
    return Step(f"copy every *.{e} file under {a.path} into a new directory {dst}, keeping the sub-directories",
                [f"mkdir -p {dst} && (cd {a.path} && find . -name '*.{e}' -exec cp --parents {{}} ../{dst}/ \\;)"],
                Art("dir", dst, files), tree(dst, files))


@block(("dir",), "words")
def disk_usage(c: Ctx, a: Art) -> Step:
    rows = sorted(((len(t.encode()), f"{a.path}/{p}") for p, t in a.data.items()), key=lambda r: (-r[0], r[1]))
    return out_step(c, a, "words", "list 'size path' for every file under {{src}}, largest first (ties by path), in {{dst}}",
                    "find {{src}} -type f -printf '%s %p\\n' | sort -k1,1nr -k2,2 > {{dst}}", [f"{s} {p}" for s, p in rows])


@block(("dir",), "words")
def directory_comparison(c: Ctx, a: Art) -> Step:
    paths = sorted(p for p in a.data if a.data[p])
    if len(paths) < 3:
        raise NotApplicable("too few files")
    changed, gone = c.rng.sample(paths, 2)
    if "/" in gone and not any(q != gone and q.startswith(gone.rsplit("/", 1)[0] + "/") for q in a.data):
        raise NotApplicable("the backup would lack a whole directory")
    bak = c.stem()
    other = {p: (t + "changed\n" if p == changed else t) for p, t in a.data.items() if p != gone}
    def where(root: str, p: str) -> str:
        return f"{root}/{p.rsplit('/', 1)[0]}" if "/" in p else root
    lines = sorted([f"Files {a.path}/{changed} and {bak}/{changed} differ",
                    f"Only in {where(a.path, gone)}: {gone.rsplit('/', 1)[-1]}"])
    step = out_step(c, a, "words", "compare {{src}} with its backup {{bak}} (diff -rq) and write the sorted report to {{dst}}",
                    "diff -rq {{src}} {{bak}} | sort > {{dst}}", lines, bak=bak)
    step.files.update({f"{bak}/{p}": t for p, t in other.items()})
    return step


@block(("dir",), "dir")
def file_organization(c: Ctx, a: Art) -> Step:
    top = _top(a.data)
    if not any("." in p for p in top):
        raise NotApplicable("no files to sort")
    if any(_ext(p) in {q.split("/")[0] for q in a.data} for p in top):
        raise NotApplicable("an extension names an existing entry")
    files = {(f"{_ext(p)}/{p}" if p in top and "." in p else p): t for p, t in a.data.items()}
    return _in_place(a, f"sort the top-level files of {a.path} into sub-directories named after their extension",
                     f"(cd {a.path} && for f in *.*; do mkdir -p \"${{f##*.}}\" && mv \"$f\" \"${{f##*.}}/\"; done)", files)


@block(_FILE, None)
def hard_links(c: Ctx, a: Art) -> Step:
    if not a.plain:
        raise NotApplicable("a link or a file with a changed mode")
    link = c.name(a.kind)
    check = f"[ {link} -ef {a.path} ] && [ ! -L {link} ] || fail '{link} is not a hard link to {a.path}'"
    return Step(f"make {link} a hard link to {a.path}", [f"ln {a.path} {link}"], moved(a, path=link, plain=False),
                {link: check})


@block(("tgz",), "dir")
def encoding_decoding(c: Ctx, a: Art) -> Step:
    dst = c.stem()
    root = a.data["root"]
    files = a.data["files"]
    return Step(f"unpack the archive {a.path} into a new directory {dst}", [f"mkdir -p {dst} && tar -xzf {a.path} -C {dst}"],
                Art("dir", f"{dst}/{root}", files), tree(f"{dst}/{root}", files))


BLOCKS = [
    file_moving, globbing, recursive_search, archiving, file_renaming, symlinks, file_cleanup, file_concatenation,
    line_reversal, file_inspection, file_splitting, file_copying, disk_usage, directory_comparison,
    file_organization, hard_links, encoding_decoding,
]
