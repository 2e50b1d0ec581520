"""Read a Dockerfile into steps a build can replay, and collect the build context it needs.

Parsing is dockerfile-parse's (continuations, comments, JSON and shell forms). It does not know
heredocs (``COPY <<EOF /x`` / ``RUN <<EOS``): it reads each body line as an instruction. So
:func:`parse_dockerfile` takes its instruction list and, for every instruction that opens a
heredoc, cuts the body out of the raw text itself and drops the bogus "instructions" inside it.

:class:`Step` is what both users need: the bwrap layer builder (:mod:`termcorpus.sandbox.layers`)
replays the steps, and the importers (:mod:`termcorpus.tasks.harbor_import`,
:mod:`termcorpus.tasks.tb_import`) pick the build-context files that COPY/ADD name, so a task
JSONL line carries exactly the bytes its image needs.

Refused with one line (:class:`DataError`): multi-stage builds, ``COPY --from``, ADD from a URL
or of an archive, sources outside the build context, symlinks leaving it.
"""

from __future__ import annotations

import io
import json
import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from termcorpus.errors import DataError
from termcorpus.tasks.taskfiles import is_inside, read_file, read_tree

_HEREDOC = re.compile(r"<<(-?)\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\2")
_ARCHIVE = re.compile(r"\.(tar|tar\.gz|tgz|tar\.bz2|tbz2|tar\.xz|txz)$")
_URL = re.compile(r"^[a-z]+://")
KNOWN = {"FROM", "ARG", "ENV", "WORKDIR", "COPY", "ADD", "RUN", "USER", "CMD", "ENTRYPOINT",
         "EXPOSE", "LABEL", "MAINTAINER", "HEALTHCHECK", "STOPSIGNAL", "VOLUME", "SHELL", "ONBUILD"}


@dataclass
class Heredoc:
    name: str
    body: str  # with its final newline; leading tabs removed for <<-
    quoted: bool  # <<'EOF': no variable expansion in the body


@dataclass
class Step:
    kw: str  # upper-case instruction
    value: str  # the arguments as dockerfile-parse joined them (continuations folded)
    line: int  # 1-based line of the instruction
    raw: str = ""  # the first line as written (heredoc openers keep their redirections here)
    heredocs: list[Heredoc] = field(default_factory=list)

    def where(self, dockerfile: str) -> str:
        return f"{dockerfile}:{self.line}"


def parse_dockerfile(text: str, where: str = "Dockerfile") -> list[Step]:
    """The instructions of ``text`` in order, heredoc bodies attached to their instruction."""
    from dockerfile_parse import DockerfileParser

    parser = DockerfileParser(fileobj=io.BytesIO(text.encode("utf-8")))
    try:
        structure = parser.structure
    except Exception as e:  # noqa: BLE001 - the library raises plain exceptions on bad input
        raise DataError(f"cannot parse the Dockerfile ({e})", where=where)
    lines = text.splitlines()
    steps: list[Step] = []
    skip_until = -1
    for item in structure:
        start, end = int(item["startline"]), int(item["endline"])
        if start <= skip_until:
            continue  # a heredoc body line that the parser read as an instruction
        kw = str(item["instruction"]).upper()
        if kw == "COMMENT":  # comments and parser directives (# syntax=...)
            continue
        step = Step(kw=kw, value=str(item["value"]), line=start + 1, raw=lines[start] if start < len(lines) else "")
        if kw in ("RUN", "COPY", "ADD"):
            head = " ".join(lines[start:end + 1])
            pos = end + 1
            for m in _HEREDOC.finditer(head):
                strip_tabs, quoted, name = m.group(1) == "-", bool(m.group(2)), m.group(3)
                body: list[str] = []
                while pos < len(lines) and (lines[pos].lstrip("\t") if strip_tabs else lines[pos]) != name:
                    body.append(lines[pos].lstrip("\t") if strip_tabs else lines[pos])
                    pos += 1
                if pos >= len(lines):
                    raise DataError(f"heredoc <<{name} is never closed", where=f"{where}:{start + 1}")
                pos += 1
                step.heredocs.append(Heredoc(name, "".join(b + "\n" for b in body), quoted))
            if step.heredocs:
                step.raw = head
                skip_until = pos - 1
        if kw == "WORKDIR":
            _no_dotdot(step.value.strip().strip("\"'"), f"{where}:{step.line}")
        if kw not in KNOWN:
            raise DataError(f"unknown instruction {kw}", where=f"{where}:{step.line}")
        steps.append(step)
    if not any(s.kw == "FROM" for s in steps):
        raise DataError("no FROM line", where=where)
    if sum(s.kw == "FROM" for s in steps) > 1:
        raise DataError("multi-stage Dockerfiles (several FROM) are not supported", where=where)
    return steps


def base_image(steps: list[Step]) -> str:
    words = [w for w in next(s for s in steps if s.kw == "FROM").value.split() if not w.startswith("--")]
    return words[0] if words else ""


@dataclass
class CopyArgs:
    flags: dict[str, str]
    sources: list[str]  # context paths, or heredoc names for COPY <<EOF
    dest: str
    heredoc: bool


def copy_args(step: Step, where: str) -> CopyArgs:
    """Flags, sources and destination of a COPY/ADD (shell or JSON form, or a heredoc)."""
    rest = step.value.strip()
    if step.heredocs:
        rest = step.raw.split(None, 1)[1].strip() if len(step.raw.split(None, 1)) > 1 else ""
    flags: dict[str, str] = {}
    while rest.startswith("--"):
        flag, _, rest = rest.partition(" ")
        name, _, val = flag[2:].partition("=")
        flags[name] = val
        rest = rest.lstrip()
    if step.heredocs:
        words = [w for w in shlex.split(_HEREDOC.sub("", rest)) if w]
        if len(words) != 1:
            raise DataError(f"{step.kw} heredoc needs exactly one destination", where=where)
        _no_dotdot(words[0], where)
        return CopyArgs(flags, [h.name for h in step.heredocs], words[0], True)
    try:
        words = json.loads(rest) if rest.startswith("[") else shlex.split(rest)
    except (json.JSONDecodeError, ValueError) as e:
        raise DataError(f"cannot read the {step.kw} arguments ({e})", where=where)
    if not isinstance(words, list) or len(words) < 2 or not all(isinstance(w, str) for w in words):
        raise DataError(f"{step.kw} needs at least one source and a destination", where=where)
    if "from" in flags:
        raise DataError(f"{step.kw} --from (another image or stage) is not supported", where=where)
    for src in words[:-1]:
        if _URL.match(src):
            raise DataError(f"{step.kw} from a URL ({src}) needs the network at build time: not supported; "
                            "fetch it in a RUN step", where=where)
        if step.kw == "ADD" and _ARCHIVE.search(src):
            raise DataError("ADD of an archive (Docker extracts it) is not supported: COPY it and "
                            "extract it in a RUN step", where=where)
    _no_dotdot(words[-1], where)
    return CopyArgs(flags, words[:-1], words[-1], False)


def _no_dotdot(path: str, where: str) -> None:
    if ".." in PurePosixPath(path).parts:
        raise DataError(f"path {path!r} contains '..'", where=where)


def copy_sources(spec: str, context: Path, where: str) -> list[Path]:
    """The context entries one COPY source names (globs expanded, sorted), checked inside it."""
    if spec.startswith("/") or ".." in PurePosixPath(spec).parts:
        raise DataError(f"COPY from {spec!r} is outside the build context", where=where)
    if any(c in spec for c in "*?["):
        matches = sorted(context.glob(spec))
        if not matches:
            raise DataError(f"COPY source {spec!r} matches nothing in the build context", where=where)
    else:
        p = context / spec if spec not in (".", "./") else context
        if not p.exists() and not p.is_symlink():
            raise DataError(f"COPY source {spec!r} does not exist in the build context", where=where)
        matches = [p]
    for m in matches:
        if not is_inside(m.resolve(), context.resolve()):
            if m.is_symlink():
                raise DataError(f"symlink {spec!r} points outside the build context ({os.readlink(m)})",
                                where=where)
            raise DataError(f"COPY from {spec!r} is outside the build context", where=where)
    return matches


def context_files(steps: list[Step], context: Path, task_root: Path, shown: str) -> dict[str, bytes]:
    """Every build-context file a COPY/ADD names (relative POSIX path -> bytes).

    Only these travel with the task: a Terminal-Bench context is usually the whole task folder,
    tests and solution included, which the image must not get unless it asks for them.
    """
    context = context.resolve()
    if not is_inside(context, task_root):
        raise DataError("the build context is outside the task", where=shown)
    out: dict[str, bytes] = {}
    for step in steps:
        if step.kw not in ("COPY", "ADD"):
            continue
        where = step.where(shown)
        args = copy_args(step, where)
        if args.heredoc:
            continue
        for src in args.sources:
            for p in copy_sources(src, context, where):
                rel = p.relative_to(context).as_posix() if p != context else ""
                if p.is_dir():
                    for sub, data in read_tree(p, context, rel or ".").items():
                        out[f"{rel}/{sub}" if rel else sub] = data
                else:
                    out[rel] = read_file(p, context, rel)
    return dict(sorted(out.items()))


def final_workdir(steps: list[Step], default: str = "/app") -> str:
    """The WORKDIR the image ends in (``default`` when it sets none or uses a variable)."""
    wd = "/"
    for s in steps:
        if s.kw == "WORKDIR":
            v = s.value.strip().strip("\"'")
            if "$" in v:
                return default
            wd = str(PurePosixPath(wd) / v)
    return default if wd == "/" else wd
