"""Task environments as built, cached root-filesystem layers (the bwrap backend's ``docker build``).

A task whose ``environment.dockerfile`` is set gets a *layer*: the Dockerfile's COPY/ADD,
WORKDIR, ENV, ARG, USER and RUN steps replayed over the host's base system, kept as the upper
directories of three overlay mounts (``/`` over a small skeleton, ``/usr`` over the host's
/usr, ``/etc`` over the sandbox's prepared /etc). Layout of one layer under
``<cache>/layers/<digest>/``::

    fs/ usr/ etc/     the overlay upper directories the build wrote (whiteouts included)
    app/              a copy of the final WORKDIR (each run gets its own copy at the workdir)
    layer.json        image, workdir, env, user, notes, build seconds

The digest covers the Dockerfile text, every build-context file, the base system (Debian
release and python3 version) and :data:`LAYER_FORMAT`: the same Dockerfile and context build
once (a ``flock`` makes parallel workers wait for one build).

How a build step runs: as root in a private mount namespace (``unshare --mount``, so every
mount disappears with the process, even under SIGKILL), the three overlays are mounted with the
layer's directories as uppers, then ``bwrap --bind MERGED /`` runs the step with its own PID/IPC/UTS
namespaces, a reduced capability set (chown, dac_override, fowner, fsetid, setuid, setgid),
the host's network (only builds get it: the registries are PyPI and Debian) and no view of the
host beyond /usr. COPY/ADD stage their files on the host side and copy them in through the
same kind of step, so overlay semantics (whiteouts, existing directories) hold.

What a build does not isolate: it runs as the host's root (no user namespace, so files keep
their owners) with the six capabilities above, and with the host's network; the kernel is
shared. A Dockerfile is trusted as ``docker build`` trusts it: import only task folders you would
``docker build``. Agents and verifiers never run this way (see :mod:`termcorpus.sandbox`).

``apt-get install`` / ``apt install`` in a RUN: packages already installed on the host are
there (the layer's /usr is the host's); the others are downloaded with the host's apt into this
cache (when Debian's mirror answers) and unpacked into the layer with ``dpkg-deb -x`` (no
maintainer scripts run); otherwise the build stops with one error naming them. Inside the build
``apt-get``/``apt`` are shims that only say so.

At run time (:meth:`Layer.run_mounts`) the layer's directories become lower layers under a
fresh per-session upper: every run starts from the built layer and its writes vanish with it.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import platform
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

from termcorpus.errors import DataError, EnvironmentProblem
from termcorpus.records import Environment

LAYER_FORMAT = "2"
BUILD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
RUN_PATH_SUFFIX = "/run/termcorpus/tail"
_BUILD_CAPS = ("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_SETUID", "CAP_SETGID")
_SKELETON_DIRS = ("usr", "etc", "tmp", "proc", "dev", "home", "root", "app", "opt", "srv", "mnt",
                  "run", "var/tmp", "var/lib", "var/cache", "var/log", "tests", "logs/verifier",
                  "solution", "installed-agent")
_APT_INSTALL = re.compile(r"\bapt(?:-get)?\s+(?:-\S+\s+)*install\b([^;&|\n]*)")
_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")
_BUILD_STEP_TIMEOUT_SEC = 900.0


def default_cache_dir() -> Path:
    """``$TERMCORPUS_CACHE``, else ``~/.cache/termcorpus`` (read once by the caller)."""
    env = os.environ.get("TERMCORPUS_CACHE", "")
    return Path(env) if env else Path.home() / ".cache" / "termcorpus"


def _host_fingerprint() -> str:
    parts = []
    for f in ("/etc/debian_version", "/etc/os-release"):
        try:
            parts.append(Path(f).read_text())
        except OSError:
            parts.append("")
    py = subprocess.run(["/usr/bin/python3", "-c", "import sys;print(sys.version)"],
                        capture_output=True, text=True).stdout if Path("/usr/bin/python3").exists() else ""
    return hashlib.sha256(("\0".join(parts) + py + platform.machine()).encode()).hexdigest()[:16]


_FP: str | None = None


def layer_digest(env: Environment) -> str:
    """Content key of a task's layer: Dockerfile + context + base system + format."""
    global _FP
    if _FP is None:
        _FP = _host_fingerprint()
    h = hashlib.sha256(f"{LAYER_FORMAT}\0{_FP}\0".encode() + env.dockerfile.encode("utf-8"))
    for rel, b64 in sorted(env.build_context.items()):
        h.update(b"\0" + rel.encode("utf-8") + b"\0" + b64.encode("ascii"))
    return h.hexdigest()[:32]


def expand(value: str, variables: dict[str, str]) -> str:
    """Docker's ``$VAR`` / ``${VAR}`` / ``${VAR:-default}`` substitution in ENV, WORKDIR, COPY."""
    def sub(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(3)
        if name in variables and variables[name] != "":
            return variables[name]
        return m.group(2) or "" if m.group(1) else ""
    return _VAR.sub(sub, value)


@dataclass
class LayerConfig:
    image: str = ""
    workdir: str = "/"
    env: dict[str, str] = field(default_factory=dict)
    user: str = "root"
    notes: list[str] = field(default_factory=list)
    build_sec: float = 0.0
    agent_owned: list[str] = field(default_factory=list)  # paths the build gave uid 1000


@dataclass
class Layer:
    """A built layer on disk and what a run needs from it."""

    path: Path
    config: LayerConfig
    cached: bool  # True when this call found it built already

    @property
    def app(self) -> Path:
        return self.path / "app"

    def run_mounts(self, run_dir: Path, skeleton: Path, etc: Path, uid: int | None = None,
                   verifier: Path | None = None) -> tuple[Path, str]:
        """(merged root, shell commands mounting it) for one run: the layer under a fresh upper
        in ``run_dir`` (created here; removed by the caller). ``uid``: the host uid the agent
        runs as; what the build gave the agent's uid 1000 (``COPY --chown``, ``RUN chown``) is
        handed to it in this run's upper. ``verifier``: mounted read-only at /run/termcorpus
        (here, as root: the cache may sit where the sandbox's uid cannot reach, e.g. /root)."""
        for sub in ("fs", "usr", "etc", "w/fs", "w/usr", "w/etc", "m"):
            (run_dir / sub).mkdir(parents=True, exist_ok=True)
        m = run_dir / "m"
        script = "; ".join([
            _mount_cmd(f"{self.path / 'fs'}:{skeleton}", run_dir / "fs", run_dir / "w/fs", m),
            _mount_cmd(f"{self.path / 'usr'}:/usr", run_dir / "usr", run_dir / "w/usr", m / "usr"),
            _mount_cmd(f"{self.path / 'etc'}:{etc}", run_dir / "etc", run_dir / "w/etc", m / "etc"),
        ])
        if verifier is not None:
            run = shlex.quote(str(m / "run"))
            mnt = shlex.quote(str(m / "run" / "termcorpus"))
            script += (f"; mount -t tmpfs -o size=1m,mode=755 termcorpus {run} && mkdir {mnt} && "
                       f"mount --bind {shlex.quote(str(verifier))} {mnt} && mount -o remount,bind,ro {mnt}")
        if uid is not None and self.config.agent_owned:
            paths = " ".join(shlex.quote(str(m) + p) for p in self.config.agent_owned)
            script += f"; chown -h {uid}:{uid} {paths}"
        return m, script

    def run_env(self) -> dict[str, str]:
        """The image's ENV for the agent's and the verifier's shells (PATH gets the shims)."""
        env = dict(self.config.env)
        if "PATH" in env:
            env["PATH"] = f"{env['PATH']}:{RUN_PATH_SUFFIX}"
        return env


def _mount_cmd(lower: str, upper: Path, work: Path, target: Path) -> str:
    opts = f"lowerdir={lower},upperdir={upper},workdir={work}"
    return f"mount -t overlay termcorpus -o {shlex.quote(opts)} {shlex.quote(str(target))}"


def _publish(tmp: Path, final: Path) -> None:
    """Move a finished ``tmp`` directory to ``final`` in one rename; when another process got
    there first (the rename fails), keep theirs and drop ours."""
    try:
        os.rename(tmp, final)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)


def skeleton_dir(cache: Path) -> Path:
    """The empty root the layers overlay: the host's /bin, /lib... symlinks and the usual dirs."""
    final = cache / f"skeleton-{LAYER_FORMAT}"
    if final.is_dir():
        return final
    build = Path(tempfile.mkdtemp(prefix=".skeleton-", dir=cache))
    for d in _SKELETON_DIRS:
        (build / d).mkdir(parents=True, exist_ok=True)
    os.chmod(build / "tmp", 0o1777)
    os.chmod(build / "var/tmp", 0o1777)
    os.chmod(build / "root", 0o700)
    for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        host = Path("/") / top
        if host.is_symlink():
            os.symlink(os.readlink(host), build / top)
    os.chmod(build, 0o755)
    _publish(build, final)
    return final


_BUILD_HOST_FILES = ("/etc/resolv.conf", "/etc/ssl/certs", "/etc/ca-certificates.conf")


def _build_etc_extras(cache: Path) -> Path:
    """Empty mount points for the host files a build binds (DNS, CA certificates), as a lower
    layer of the build's /etc, so that bwrap never creates them in the layer itself."""
    d = cache / f"build-etc-{LAYER_FORMAT}"
    if not d.is_dir():
        tmp = Path(tempfile.mkdtemp(prefix=".build-etc-", dir=cache))
        (tmp / "ssl" / "certs").mkdir(parents=True)
        (tmp / "resolv.conf").touch()
        (tmp / "ca-certificates.conf").touch()
        for p in (tmp, tmp / "ssl", tmp / "ssl" / "certs"):
            os.chmod(p, 0o755)
        _publish(tmp, d)
    return d


def _tools() -> dict[str, str]:
    out = {}
    for name in ("unshare", "bwrap", "mount"):
        p = shutil.which(name)
        if p is None:
            raise EnvironmentProblem(f"'{name}' not found: building task environments needs util-linux and bubblewrap")
        out[name] = p
    return out


class _Builder:
    """One build: replays the steps into ``out`` (a fresh directory), as root."""

    def __init__(self, env: Environment, out: Path, cache: Path, shims: Path, where: str):
        from termcorpus.sandbox.bwrap import etc_dir
        from termcorpus.tasks.dockerfile import base_image, parse_dockerfile

        self.env, self.out, self.cache, self.shims, self.where = env, out, cache, shims, where
        self.steps = parse_dockerfile(env.dockerfile, where)
        self.cfg = LayerConfig(image=base_image(self.steps))
        self.args: dict[str, str] = {}
        self.skeleton = skeleton_dir(cache)
        self.etc = f"{_build_etc_extras(cache)}:{etc_dir()}"
        self.tools = _tools()
        for sub in ("fs", "usr", "etc", "app", "w/fs", "w/usr", "w/etc", "m"):
            (out / sub).mkdir(parents=True, exist_ok=True)
        self.context: dict[str, bytes] = {}
        for rel, b64 in env.build_context.items():
            try:
                self.context[rel] = base64.b64decode(b64, validate=True)
            except ValueError:
                raise DataError(f"build_context[{rel!r}] is not valid base64", where=where)

    # ---- running one step in the build sandbox ----------------------------------------------
    def _sandbox(self, argv: list[str], *, binds: list[tuple[str, str]] = (), cwd: str = "/",
                 timeout: float = _BUILD_STEP_TIMEOUT_SEC, step: str = "") -> str:
        m = self.out / "m"
        mounts = "; ".join([
            _mount_cmd(str(self.skeleton), self.out / "fs", self.out / "w/fs", m),
            _mount_cmd("/usr", self.out / "usr", self.out / "w/usr", m / "usr"),
            _mount_cmd(self.etc, self.out / "etc", self.out / "w/etc", m / "etc"),
        ])
        variables = {**self.args, **self.cfg.env}
        bw = [self.tools["bwrap"], "--bind", str(m), "/", "--proc", "/proc", "--dev", "/dev",
              "--tmpfs", "/tmp", "--tmpfs", "/run", "--ro-bind", str(self.shims), "/run/termcorpus",
              "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--hostname", "build",
              "--die-with-parent", "--new-session", "--clearenv", "--cap-drop", "ALL"]
        for cap in _BUILD_CAPS:
            bw += ["--cap-add", cap]
        for host in _BUILD_HOST_FILES:
            if os.path.exists(host):
                bw += ["--ro-bind", host, host]
        for src, dst in binds:
            bw += ["--ro-bind", src, dst]
        envs = {"HOME": "/root", "LANG": "C.UTF-8", "DEBIAN_FRONTEND": "noninteractive",
                "PIP_BREAK_SYSTEM_PACKAGES": "1", "PIP_ROOT_USER_ACTION": "ignore",
                "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_CACHE_DIR": "1", **variables}
        envs["PATH"] = f"/run/termcorpus/bin:{variables.get('PATH') or BUILD_PATH}:{RUN_PATH_SUFFIX}"
        for k, v in envs.items():
            bw += ["--setenv", k, v]
        bw += ["--chdir", cwd, "--"] + argv
        cmd = [self.tools["unshare"], "--mount", "--propagation", "private", "--", "sh", "-c",
               f"{mounts} && exec \"$@\"", "sh"] + bw
        try:
            r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout,
                               env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"})
        except subprocess.TimeoutExpired:
            raise DataError(f"{step or self.where + ' build step'} ran past {timeout:g}s")
        output = (r.stdout + r.stderr).decode("utf-8", errors="replace")
        if r.returncode != 0:
            tail = " | ".join(line for line in output.strip().splitlines()[-3:]) or "(no output)"
            raise DataError(f"{step or self.where + ' build step'} failed with exit code {r.returncode}: "
                            f"{tail[-400:]}")
        return output

    # ---- the steps ---------------------------------------------------------------------------
    def build(self) -> LayerConfig:
        from termcorpus.tasks.dockerfile import copy_args

        start = time.monotonic()
        for st in self.steps:
            where = st.where(self.where)
            if st.kw == "ARG":
                for item in shlex.split(st.value):
                    k, eq, v = item.partition("=")
                    self.args.setdefault(k, expand(v, {**self.args, **self.cfg.env}) if eq else "")
            elif st.kw == "ENV":
                self._env(st.value, where)
            elif st.kw == "WORKDIR":
                self.cfg.workdir = self._abs(expand(st.value.strip().strip("\"'"), self._vars()), where)
                self._sandbox(["mkdir", "-p", self.cfg.workdir], step=f"{where} WORKDIR")
            elif st.kw == "USER":
                self.cfg.user = expand(st.value.strip(), self._vars())
                if self.cfg.user not in ("root", "0", "0:0"):
                    self.cfg.notes.append(f"{where}: USER {self.cfg.user}: later RUN steps still run as root; "
                                          "the agent runs as the sandbox user (uid 1000)")
            elif st.kw in ("COPY", "ADD"):
                self._copy(st, copy_args(st, where), where)
            elif st.kw == "RUN":
                self._run(st, where)
            elif st.kw in ("SHELL", "ONBUILD", "VOLUME"):
                self.cfg.notes.append(f"{where}: {st.kw} ignored")
        self._finish()
        self.cfg.build_sec = round(time.monotonic() - start, 3)
        return self.cfg

    def _vars(self) -> dict[str, str]:
        return {**self.args, **self.cfg.env}

    def _env(self, value: str, where: str) -> None:
        try:
            words = shlex.split(value)
        except ValueError as e:
            raise DataError(f"cannot read ENV ({e})", where=where)
        if words and "=" not in words[0]:  # legacy form: ENV KEY value with spaces
            self.cfg.env[words[0]] = expand(value.split(None, 1)[1] if len(words) > 1 else "", self._vars())
            return
        for w in words:
            k, eq, v = w.partition("=")
            if not eq or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", k):
                raise DataError(f"cannot read ENV item {w!r}", where=where)
            self.cfg.env[k] = expand(v, {**self._vars(), "PATH": self.cfg.env.get("PATH", BUILD_PATH)})

    def _abs(self, path: str, where: str) -> str:
        p = PurePosixPath(path if path.startswith("/") else f"{self.cfg.workdir.rstrip('/')}/{path}")
        parts: list[str] = []
        for part in p.parts[1:]:
            if part == "..":
                raise DataError(f"path {path!r} contains '..'", where=where)
            if part != ".":
                parts.append(part)
        return "/" + "/".join(parts)

    def _copy(self, st, args, where: str) -> None:
        """Stage the files at their final absolute paths on the host, then copy them in."""
        stage = Path(tempfile.mkdtemp(prefix="stage-", dir=self.out))
        # (absolute dest, data or None for a dir, mode, file name if dest is an existing directory)
        items: list[tuple[str, bytes | None, int, str]] = []
        dest_raw = expand(args.dest, self._vars())
        dest = self._abs(dest_raw, where)
        if args.heredoc:
            for h in st.heredocs:
                body = h.body if h.quoted else expand(h.body, self._vars())
                items.append((dest, body.encode("utf-8"), 0o644, PurePosixPath(dest).name))
        else:
            files = self._context_items(args.sources, where)
            into_dir = dest_raw.endswith("/") or len(args.sources) > 1 or any(is_dir for _, _, is_dir in files)
            for src_rel, inner, is_dir in files:
                for rel, data in inner:
                    if is_dir:
                        target = f"{dest.rstrip('/')}/{rel}" if rel else dest
                    else:
                        target = f"{dest.rstrip('/')}/{PurePosixPath(src_rel).name}" if into_dir else dest
                    items.append((target, data, 0o755 if data is not None and data.startswith(b"#!") else 0o644,
                                  PurePosixPath(rel or src_rel).name))
        mode = args.flags.get("chmod")
        owner = expand(args.flags.get("chown", ""), self._vars())
        chown = f'chown -h {shlex.quote(owner)} "$d"' if owner else ":"
        lines = ["set -e"]
        for i, (target, data, fmode, name) in enumerate(items):
            if target == "/":
                continue
            if data is None:
                lines.append(f"mkdir -p {shlex.quote(target)}")
                continue
            (stage / str(i)).mkdir()
            src = stage / str(i) / name
            src.write_bytes(data)
            os.chmod(src, int(mode, 8) if mode else fmode)
            # An existing directory at the destination takes the file inside, under the
            # source's name (Docker's rule); parents are created as Docker creates them.
            lines.append(f"d={shlex.quote(target)}; mkdir -p \"$(dirname \"$d\")\"; "
                         f"if [ -d \"$d\" ]; then d=\"$d\"/{shlex.quote(name)}; fi; "
                         f"cp -p /run/stage/{i}/{shlex.quote(name)} \"$d\"; {chown}")
        self._sandbox(["sh", "-c", "\n".join(lines)], binds=[(str(stage), "/run/stage")],
                      step=f"{where} {st.kw}")
        shutil.rmtree(stage, ignore_errors=True)

    def _context_items(self, sources: list[str], where: str):
        """[(source path, [(relative path, bytes or None for a dir)], is a directory)]."""
        import fnmatch

        out = []
        for spec in sources:
            spec = expand(spec, self._vars())
            norm = spec.strip("/") if spec not in (".", "./") else ""
            norm = "" if norm == "." else norm.removeprefix("./")
            if any(c in norm for c in "*?["):
                depth = norm.count("/") + 1
                entries = {"/".join(r.split("/")[:depth]) for r in self.context if r.count("/") + 1 >= depth}
                names = sorted(e for e in entries if fnmatch.fnmatch(e, norm))
            else:
                names = [norm]
            if not names:
                raise DataError(f"COPY source {spec!r} matches nothing in the build context", where=where)
            for name in names:
                if name in self.context:
                    out.append((name, [("", self.context[name])], False))
                    continue
                prefix = f"{name}/" if name else ""
                inner = [(r[len(prefix):], d) for r, d in sorted(self.context.items()) if r.startswith(prefix)]
                if not inner:
                    raise DataError(f"COPY source {spec!r} is not in the build context", where=where)
                out.append((name, inner, True))
        return out

    def _run(self, st, where: str) -> None:
        value = st.value.strip()
        if st.heredocs:
            head = st.raw.split(None, 1)[1] if len(st.raw.split(None, 1)) > 1 else ""
            if re.fullmatch(r"\s*<<-?\s*['\"]?[A-Za-z_][A-Za-z0-9_]*['\"]?\s*", head):
                script = st.heredocs[0].body
            else:
                script = head + "\n" + "".join(h.body + h.name + "\n" for h in st.heredocs)
            argv = ["/bin/sh", "-c", script]
        elif value.startswith("["):
            try:
                argv = json.loads(value)
            except json.JSONDecodeError as e:
                raise DataError(f"cannot read the RUN exec form ({e})", where=where)
            if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
                raise DataError("RUN exec form must be a list of strings", where=where)
        else:
            argv = ["/bin/sh", "-c", value]
        self._apt(" ".join(argv), where)
        self._sandbox(argv, cwd=self.cfg.workdir, step=f"{where} RUN")

    def _apt(self, script: str, where: str) -> None:
        wanted: list[str] = []
        for m in _APT_INSTALL.finditer(script):
            for w in m.group(1).split():
                if w.startswith("-") or w in ("\\",):
                    continue
                name = re.split(r"[=:]", w, 1)[0]
                if re.fullmatch(r"[a-z0-9][a-z0-9+.\-]+", name):
                    wanted.append(name)
        missing = [p for p in dict.fromkeys(wanted) if not _host_has(p)]
        if not missing:
            return
        debs = _apt_download(missing, self.cache, where)
        for deb in debs:
            self._sandbox(["dpkg-deb", "-x", f"/run/debs/{deb.name}", "/"],
                          binds=[(str(deb.parent), "/run/debs")], step=f"{where} apt {deb.name}")
        self.cfg.notes.append(f"{where}: apt packages {', '.join(missing)} unpacked from Debian "
                              "(maintainer scripts not run)")

    def _finish(self) -> None:
        """Make the workdir exist and snapshot it: each run copies it to its own /app."""
        wd = self.cfg.workdir if self.cfg.workdir != "/" else "/app"
        self.cfg.workdir = wd
        # The snapshot goes to the layer's app/ (outside the overlays): copy it on the host
        # side, in a private mount namespace holding the merged view.
        m = self.out / "m"
        mounts = "; ".join([
            _mount_cmd(str(self.skeleton), self.out / "fs", self.out / "w/fs", m),
            _mount_cmd("/usr", self.out / "usr", self.out / "w/usr", m / "usr"),
            _mount_cmd(self.etc, self.out / "etc", self.out / "w/etc", m / "etc"),
        ])
        snap = (f"{mounts} && mkdir -p {shlex.quote(str(m) + wd)} && "
                f"cp -a {shlex.quote(str(m) + wd)}/. {shlex.quote(str(self.out / 'app'))}/")
        r = subprocess.run([self.tools["unshare"], "--mount", "--propagation", "private", "--", "sh", "-c", snap],
                           capture_output=True, text=True)
        self._agent_owned()
        if r.returncode != 0:
            raise DataError(f"cannot snapshot the workdir {wd}: {r.stderr.strip()[-300:]}", where=self.where)


    def _agent_owned(self, limit: int = 2000) -> None:
        for top, prefix in (("fs", ""), ("usr", "/usr"), ("etc", "/etc")):
            base = self.out / top
            for dirpath, dirnames, filenames in os.walk(base):
                for name in dirnames + filenames:
                    p = Path(dirpath) / name
                    try:
                        st = os.lstat(p)
                    except OSError:
                        continue
                    if 1000 in (st.st_uid, st.st_gid):
                        self.cfg.agent_owned.append(prefix + "/" + p.relative_to(base).as_posix())
        self.cfg.agent_owned = sorted(set(self.cfg.agent_owned))[:limit]


def _host_has(pkg: str) -> bool:
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True)
    return r.returncode == 0 and "install ok installed" in r.stdout


def _debian_reachable() -> bool:
    try:
        with socket.create_connection(("deb.debian.org", 80), timeout=3):
            return True
    except OSError:
        return False


def _apt_download(pkgs: list[str], cache: Path, where: str) -> list[Path]:
    """Download ``pkgs`` and the dependencies the host lacks into a fresh folder of the cache,
    with the host's apt sources but our own lists and archive directories (the host's apt
    state is not touched)."""
    if shutil.which("apt-get") is None or not _debian_reachable():
        raise DataError(f"apt packages not installed on this host and Debian's registry is unreachable: "
                        f"{', '.join(pkgs)}", where=where)
    lists = cache / "apt" / "lists"
    (lists / "partial").mkdir(parents=True, exist_ok=True)
    arch = Path(tempfile.mkdtemp(prefix="debs-", dir=cache / "apt"))
    (arch / "partial").mkdir()
    opts = ["-o", f"Dir::State::Lists={lists}", "-o", f"Dir::Cache::Archives={arch}",
            "-o", "Debug::NoLocking=1", "-o", "APT::Sandbox::User=root"]
    fresh = (lists / ".updated").exists() and time.time() - (lists / ".updated").stat().st_mtime < 86400
    if not fresh:
        r = subprocess.run(["apt-get", *opts, "update", "-qq"], capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            raise DataError(f"apt packages {', '.join(pkgs)} are not on this host and `apt-get update` failed: "
                            f"{r.stderr.strip()[-200:]}", where=where)
        (lists / ".updated").touch()
    r = subprocess.run(["apt-get", *opts, "install", "-y", "-qq", "--download-only", "--no-install-recommends",
                        *pkgs], capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise DataError(f"apt cannot provide {', '.join(pkgs)}: {r.stderr.strip()[-200:]}", where=where)
    return sorted(arch.glob("*.deb"))


def _write_shims(dir_: Path) -> None:
    """The build's /run/termcorpus/bin: apt shims, `python` -> python3."""
    from termcorpus.sandbox.verifier_env import write_common_shims

    (dir_ / "bin").mkdir(parents=True, exist_ok=True)
    shim = ("#!/bin/sh\n# termcorpus build: apt packages were provided before this step "
            "(host packages, or unpacked from Debian).\necho \"termcorpus: $(basename \"$0\") $1: "
            "packages provided by the layer build\" >&2\nexit 0\n")
    for name in ("apt-get", "apt"):
        (dir_ / "bin" / name).write_text(shim)
        os.chmod(dir_ / "bin" / name, 0o755)
    write_common_shims(dir_ / "tail")


def ensure_layer(env: Environment, cache: Path | None = None, *, where: str = "environment.dockerfile") -> Layer:
    """The built layer of ``env`` (building it now when the cache has none); needs root."""
    if not env.dockerfile:
        raise DataError("has no Dockerfile to build", where=where)
    if os.geteuid() != 0:
        raise EnvironmentProblem("building a task environment (overlay mounts) needs root; "
                                 "or use execute.sandbox: docker")
    cache = Path(cache) if cache is not None else default_cache_dir()
    layers = cache / "layers"
    layers.mkdir(parents=True, exist_ok=True)
    digest = layer_digest(env)
    final = layers / digest
    if (final / "layer.json").is_file():
        return Layer(final, LayerConfig(**json.loads((final / "layer.json").read_text())), cached=True)
    with open(layers / f"{digest}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build per digest; the others wait and reuse it
        if (final / "layer.json").is_file():
            return Layer(final, LayerConfig(**json.loads((final / "layer.json").read_text())), cached=True)
        build = Path(tempfile.mkdtemp(prefix=f".build-{digest}-", dir=layers))
        shims = cache / f"shims-{LAYER_FORMAT}"
        try:
            if not (shims / "bin" / "apt-get").exists():
                _write_shims(shims)
            cfg = _Builder(env, build, cache, shims, where).build()
            for sub in ("w", "m"):
                shutil.rmtree(build / sub, ignore_errors=True)
            for stage in build.glob("stage-*"):
                shutil.rmtree(stage, ignore_errors=True)
            (build / "layer.json").write_text(json.dumps(asdict(cfg), indent=1, sort_keys=True))
            os.chmod(build, 0o755)
            os.rename(build, final)
        except BaseException:
            shutil.rmtree(build, ignore_errors=True)
            raise
    return Layer(final, cfg, cached=False)
