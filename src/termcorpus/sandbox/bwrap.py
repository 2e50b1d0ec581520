"""The bubblewrap backend: one ``bwrap`` (new namespaces, dropped uid, rlimits) per session.

Start-up chain, outermost first (each step ``exec``s the next, so Popen's pid is bwrap's)::

    [sh: join the task cgroup]  prlimit  setpriv (unused host uid)  bwrap ... bash

started with an empty environment (bwrap's PID 1 keeps what it was started with).

Layout inside: /usr read-only (plus the /bin, /lib... symlinks), /etc read-only from a small
prepared copy (a few host /etc files plus our own passwd, group and hosts; one bind instead of
~25 file binds, which cost ~3.5 ms of every start), a fresh /proc and /dev, tmpfs /tmp and /home/agent,
the task directory read-write at /app (the working directory); for the verifier also /tests
read-only and /logs/verifier writable.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import stat
import subprocess
import tempfile
import time
from pathlib import Path

from termcorpus.errors import DataError, EnvironmentProblem
from termcorpus.sandbox import cgroup as cgroups
from termcorpus.sandbox.cgroup import TaskCgroup
from termcorpus.sandbox.procs import children, descendants, kill_pids, pids_of_uid
from termcorpus.sandbox.session import Session, _readable
from termcorpus.sandbox.sweep import Registration, register, start_time, sweep_once
from termcorpus.sandbox.uids import UidLease, lease_uid

SANDBOX_UID = 1000  # the uid (and gid) the task sees
SANDBOX_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Host /etc entries a shell, coreutils and python3 need; nothing with secrets or site config.
ETC_ENTRIES = (
    "alternatives", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "timezone",
    "nsswitch.conf", "mime.types", "magic", "magic.mime", "protocols", "services", "terminfo",
    "python3", "python3.11", "python3.12", "python3.13", "debian_version", "os-release",
    "inputrc", "shells", "bash.bashrc", "ssl/openssl.cnf",
)
_PASSWD = (
    "root:x:0:0:root:/root:/bin/bash\n"
    f"agent:x:{SANDBOX_UID}:{SANDBOX_UID}:agent:/home/agent:/bin/bash\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
)
_GROUP = f"root:x:0:\nagent:x:{SANDBOX_UID}:\nnogroup:x:65534:\n"
_HOSTS = "127.0.0.1\tlocalhost sandbox\n::1\tlocalhost ip6-localhost\n"


def _etc_fingerprint() -> str:
    h = hashlib.sha256(f"{SANDBOX_UID}\0{_PASSWD}\0{_GROUP}\0{_HOSTS}".encode())
    for name in ETC_ENTRIES:
        try:
            st = os.lstat(f"/etc/{name}")
        except OSError:
            continue
        h.update(f"{name}\0{st.st_mode}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    return h.hexdigest()[:16]


def _safe_etc_dir(path: Path) -> bool:
    """Ours and writable by nobody else (it is mounted as every sandbox's /etc)."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid() and not st.st_mode & 0o022


_ETC_DIR: Path | None = None


def etc_dir() -> Path:
    """The sandbox's /etc: the ETC_ENTRIES copied from the host plus our passwd, group and
    hosts, built once per host state under the temp dir (named by a fingerprint of the host
    entries, so a changed host /etc gets a new copy) and shared by every session."""
    global _ETC_DIR
    if _ETC_DIR is not None and _safe_etc_dir(_ETC_DIR):
        return _ETC_DIR
    final = Path(tempfile.gettempdir()) / f"termcorpus-etc-{os.geteuid()}-{_etc_fingerprint()}"
    if not _safe_etc_dir(final):
        build = Path(tempfile.mkdtemp(prefix="termcorpus-etc-build-"))
        try:
            for name in ETC_ENTRIES:
                src, dst = Path("/etc") / name, build / name
                if not os.path.lexists(src):
                    continue
                dst.parent.mkdir(parents=True, exist_ok=True)
                if src.is_symlink():
                    os.symlink(os.readlink(src), dst)
                elif src.is_dir():
                    shutil.copytree(src, dst, symlinks=True)
                else:
                    shutil.copy2(src, dst)
            for name, text in (("passwd", _PASSWD), ("group", _GROUP), ("hosts", _HOSTS)):
                (build / name).write_text(text)
            for dirpath, dirnames, filenames in os.walk(build):
                os.chmod(dirpath, 0o755)
                for f in filenames:
                    if not os.path.islink(os.path.join(dirpath, f)):
                        os.chmod(os.path.join(dirpath, f), 0o644)
            try:
                os.rename(build, final)  # atomic; another process may have won the race
            except OSError:
                pass
        finally:
            shutil.rmtree(build, ignore_errors=True)
        if not _safe_etc_dir(final):
            raise EnvironmentProblem(f"cannot prepare the sandbox's /etc at {final}: it exists "
                                     "but is not a directory of ours that only we can write")
    _ETC_DIR = final
    return final


def require_tools(as_root: bool) -> dict[str, str]:
    """Locate bwrap and the util-linux helpers, or stop with one line saying what to install."""
    tools = {}
    for name, pkg in (("bwrap", "bubblewrap"), ("prlimit", "util-linux"),
                      *((("setpriv", "util-linux"),) if as_root else ())):
        path = shutil.which(name)
        if path is None:
            raise EnvironmentProblem(
                f"'{name}' not found: install it (apt-get update && apt-get install -y {pkg}) "
                "or set execute.sandbox: local (unsafe)"
            )
        tools[name] = path
    return tools


class BwrapSession(Session):
    backend = "bwrap"
    _lease: UidLease | None = None
    _cg: TaskCgroup | None = None
    _reg: Registration | None = None
    _outer: int | None = None
    _inner: int | None = None
    _shell: int | None = None
    _supervisor_pid: int | None = None
    _c2_inside: int | None = None  # the fresh verifier shell's status fd, inside the sandbox

    def _prepare(self) -> None:
        self._fds: dict[str, int] = {}  # verifier_slot pipes: go_r/go_w, c2_r/c2_w
        self._as_root = os.geteuid() == 0
        self._tools = require_tools(self._as_root)
        # Undo sandboxes of runners that died without close() (SIGKILL), then register this
        # one before it holds anything, so a later sweep can undo it too (sandbox/sweep.py).
        sweep_once()
        self._reg = register([self.root])
        if self._as_root:
            self._check_traversable(self.app_dir)
            self._lease = lease_uid(os.getpid() % 1024)
            uid = self._lease.uid
            self._reg.update(uid=uid)
            self._chown_tree(self.app_dir, uid)
            if self.logs_path is not None and not self._slot:
                self._chown_tree(self.logs_path, uid)
        self._etc = etc_dir()
        if self._as_root:
            self._cg = cgroups.create(self.config.memory_mb, self.config.max_procs,
                                      note=lambda paths: self._reg.update(cgroups=[str(p) for p in paths]))

    @staticmethod
    def _check_traversable(path: Path) -> None:
        """The dropped uid must be able to reach a caller's workdir to bind it."""
        for parent in path.resolve().parents:
            if not os.stat(parent).st_mode & 0o001:
                raise DataError(
                    f"workdir {path} is inside {parent}, which other users cannot traverse "
                    "(needs o+x); create it with prepare_workdir() under a temp dir"
                )

    @staticmethod
    def _chown_tree(top: Path, uid: int) -> None:
        # lchown + no symlink following: a link left in /app by an agent cannot redirect us.
        os.lchown(top, uid, uid)
        for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
            for name in dirnames + filenames:
                os.lchown(os.path.join(dirpath, name), uid, uid)

    def _own(self, path: Path) -> None:
        if self._lease is not None:
            os.lchown(path, self._lease.uid, self._lease.uid)

    @property
    def cgroup(self) -> str:
        return str(self._cg.path) if self._cg is not None else "no cgroup"

    @property
    def limits(self) -> str:
        return self._cg.mechanism if self._cg is not None else "rlimit-only"

    @property
    def host_uid(self) -> int:
        """The host uid the sandbox runs as (the caller's own when not root)."""
        return self._lease.uid if self._lease is not None else os.geteuid()

    def _argv(self, ctrl_fd: int) -> list[str]:
        cfg = self.config
        t = self._tools
        argv = [
            t["prlimit"], f"--as={cfg.memory_mb << 20}", f"--nproc={cfg.max_procs}",
            f"--fsize={cfg.max_file_mb << 20}", "--nofile=1024", "--core=0", "--",
        ]
        if self._lease is not None:
            uid = str(self._lease.uid)
            argv += [t["setpriv"], f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--"]
        argv += [
            t["bwrap"], "--unshare-all", "--unshare-user", "--disable-userns",
            "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "sandbox",
            "--cap-drop", "ALL", "--die-with-parent", "--new-session", "--clearenv",
            "--setenv", "PATH", SANDBOX_PATH, "--setenv", "HOME", "/home/agent",
            "--setenv", "USER", "agent", "--setenv", "LANG", "C.UTF-8", "--setenv", "TERM", "dumb",
            "--ro-bind", "/usr", "/usr",
        ]
        for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
            host = Path("/") / top
            if host.is_symlink():
                argv += ["--symlink", os.readlink(host), f"/{top}"]
            elif host.is_dir():
                argv += ["--ro-bind", str(host), f"/{top}"]
        argv += ["--ro-bind", str(self._etc), "/etc"]
        argv += [
            "--proc", "/proc", "--dev", "/dev",
            # bwrap's /dev is a tmpfs sized at half the host's RAM: cap /dev/shm like /tmp and
            # make the rest of /dev read-only below (device nodes stay writable).
            "--size", str(cfg.tmp_mb << 20), "--tmpfs", "/dev/shm",
            "--size", str(cfg.tmp_mb << 20), "--tmpfs", "/tmp",
            "--size", str(cfg.tmp_mb << 20), "--tmpfs", "/home", "--dir", "/home/agent",
            "--bind", str(self.app_dir), "/app",
        ]
        if self.tests_path is not None and self.logs_path is not None:
            argv += ["--ro-bind", str(self.tests_path), "/tests",
                     "--bind", str(self.logs_path), "/logs/verifier"]
        # bwrap's root is a tmpfs: make it read-only, or `echo > /big` would fill host memory.
        argv += ["--remount-ro", "/", "--remount-ro", "/dev", "--chdir", "/app"]
        if self._slot:
            argv += ["bash", "--noprofile", "--norc", "-c", self._supervisor(ctrl_fd)]
        else:
            argv += ["bash", "--noprofile", "--norc"]
        return self._cg.wrap(argv) if self._cg is not None else argv

    # ---- the verifier in the agent's sandbox ----------------------------------------------------
    # With verifier_slot the sandbox's first process is a small supervisor (text fixed here,
    # before any agent command runs): it starts the agent's shell, holds back two pipes the
    # shell never gets (`go`: the host's signal; `ctrl2`: the next shell's status pipe), and
    # once the agent's shell is gone and the host says go, it becomes a fresh shell with
    # bwrap's clean environment. Harbor runs its tests the same way, by a new process in the
    # agent's container after the agent is done. It keeps the supervisor's own copy of the
    # agent's status pipe closed, so the host still sees the agent's shell exit.
    def _supervisor(self, ctrl_fd: int) -> str:
        go, c2 = self._fds["go_r"], self._fds["c2_w"]
        return (
            f"bash --noprofile --norc {go}<&- {c2}>&- <&0 & "
            f"exec {ctrl_fd}>&-; wait $!; printf 'exit %s\\n' \"$?\" >&{c2}; "
            f"read -r _ <&{go} || exit 0; exec {go}<&-; exec bash --noprofile --norc"
        )

    def _popen_kwargs(self) -> dict:
        # bwrap's own PID 1 inside keeps the environment it was started with (/proc/1/environ),
        # so the chain starts from nothing of ours (Popen's env keeps vfork; `env -i` cost an exec).
        return {"env": {"PATH": SANDBOX_PATH, "LANG": "C.UTF-8", "HOME": "/"}}

    def _extra_fds(self) -> tuple[int, ...]:
        if not self._slot:
            return ()
        self._fds["go_r"], self._fds["go_w"] = os.pipe()
        self._fds["c2_r"], self._fds["c2_w"] = os.pipe()
        self._c2_inside = self._fds["c2_w"]
        return (self._fds["go_r"], self._fds["c2_w"])

    def _close_fd(self, name: str) -> None:
        fd = self._fds.pop(name, None)
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    def _after_popen(self) -> None:
        self._close_fd("go_r")  # the sandbox holds these ends now
        self._close_fd("c2_w")

    def _close_extra_fds(self) -> None:
        for name in list(getattr(self, "_fds", {})):
            self._close_fd(name)

    def _collect_exit(self, out_fd: int, capture) -> int | None:
        if not self._slot:
            return super()._collect_exit(out_fd, capture)
        # The supervisor still holds the output pipe (no EOF will come) and bwrap lives on:
        # take the status the supervisor reports and what the shell wrote.
        status = self._agent_exit_status()
        self._drain(out_fd, capture)
        return status

    def _agent_exit_status(self) -> int | None:
        """The agent's shell exited by itself: its status as the supervisor reports it."""
        c2 = self._fds.get("c2_r")
        if c2 is None:
            return None
        buf = b""
        end = time.monotonic() + 1.0
        while b"\n" not in buf and time.monotonic() < end:
            if _readable([c2], max(end - time.monotonic(), 0.0)):
                data = os.read(c2, 256)
                if not data:
                    break
                buf += data
        parts = buf.split(b"\n", 1)[0].split()
        return int(parts[1]) if len(parts) == 2 and parts[0] == b"exit" and parts[1].isdigit() else None

    def verify_in_place(self, timeout_sec: float) -> bool:
        if not self._slot or self._closed or self._proc is None or self._proc.poll() is not None:
            return False
        sup = self._supervisor_pid
        if sup is None or sup not in descendants(self._outer or self._proc.pid):
            return False  # the agent killed it: verify in a new sandbox
        # Every process but bwrap's PID 1 and the supervisor: the agent's shell (no longer
        # kept) and whatever it left running. Nothing of the agent's may touch /app or /logs
        # once tests begin.
        self._shell = None
        self._kill_command()
        assert self.tests_path is not None and self.logs_path is not None
        for child in self.logs_path.iterdir():  # nothing the agent could have planted (non-root)
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
        self._write_tests()
        if self._lease is not None:
            self._chown_tree(self.logs_path, self._lease.uid)
        # The fresh shell reports on ctrl2 (inside: the fd number the supervisor kept); the
        # agent's status pipe is done with.
        assert self._ctrl_r is not None and "c2_r" in self._fds and "go_w" in self._fds
        os.close(self._ctrl_r)
        self._ctrl_r, self._ctrl_fd_inside = self._fds.pop("c2_r"), self._c2_inside
        try:
            os.write(self._fds["go_w"], b"go\n")
        except OSError:
            return False
        finally:
            self._close_fd("go_w")
        self._slot = False  # from here on an ordinary (verifier) session
        self.config = dataclasses.replace(self.config, timeout_sec=float(timeout_sec))
        self._cwd = "/app"
        return self._handshake() is None

    def _after_start(self) -> None:
        assert self._proc is not None
        self._outer = self._proc.pid
        if self._reg is not None:
            self._reg.update(pid=self._outer, pid_start=start_time(self._outer))
        # bwrap (outer, host pid ns) -> bwrap (pid 1 inside) -> bash (pid 2 inside)
        # [-> with verifier_slot, pid 2 is the supervisor and the agent's bash is its child]
        inner = children(self._outer)
        self._inner = inner[0] if inner else None
        second = children(self._inner) if self._inner is not None else []
        self._shell = second[0] if second else None
        self._supervisor_pid = None
        if self._slot:
            self._supervisor_pid = self._shell
            kids = children(self._supervisor_pid) if self._supervisor_pid is not None else []
            self._shell = kids[0] if kids else None

    def _command_pids(self) -> list[int]:
        if self._outer is None:
            return []
        keep = {self._inner, self._shell, self._supervisor_pid}
        return [p for p in descendants(self._outer) if p not in keep]

    def _kill_everything(self) -> None:
        if self._proc is None:
            return
        # Only pids found below our own bwrap right now: a remembered pid may have been reused.
        below = descendants(self._proc.pid)
        if self._inner is not None and self._inner in below:
            # SIGKILL of the namespace's PID 1 makes the kernel kill (and reap) every process
            # inside it; the outer bwrap then reaps PID 1 and exits by itself. Killing both at
            # once would orphan PID 1 to the host's init as a zombie that keeps the uid busy.
            kill_pids([self._inner])
        else:
            kill_pids(below[::-1])  # deepest first, so that each parent reaps its child
        try:
            self._proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            kill_pids(descendants(self._proc.pid)[::-1] + [self._proc.pid])
        self._outer = self._inner = self._shell = None

    def _release(self) -> None:
        if self._lease is not None:
            # Hand the uid back only once nothing runs under it. A zombie may stay a moment
            # (bwrap's PID 1 is re-parented to the host init when the shell exits by itself);
            # lease_uid() skips a uid that still has one.
            for _ in range(400):
                left = pids_of_uid(self._lease.uid, live_only=True)
                if not left:
                    break
                kill_pids(left)
                time.sleep(0.005)
            self._lease.release()
            self._lease = None
        if self._cg is not None:
            self._cg.remove()
            self._cg = None

    def close(self) -> None:
        super().close()
        if self._reg is not None:  # everything it recorded is gone now
            self._reg.drop()
            self._reg = None
