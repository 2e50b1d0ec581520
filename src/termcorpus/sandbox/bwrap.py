"""The bubblewrap backend: one ``bwrap`` (new namespaces, dropped uid, rlimits) per session.

Start-up chain, outermost first (each step ``exec``s the next, so Popen's pid is bwrap's)::

    [sh: join the task cgroup]  prlimit  setpriv (unused host uid)  env -i  bwrap ... bash

Layout inside: /usr read-only (plus the /bin, /lib... symlinks), a few /etc files, our own
/etc/passwd, /etc/group and /etc/hosts, a fresh /proc and /dev, tmpfs /tmp and /home/agent,
the task directory read-write at /app (the working directory); for the verifier also /tests
read-only and /logs/verifier writable.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from termcorpus.errors import DataError, EnvironmentProblem
from termcorpus.sandbox.cgroup import TaskCgroup, delegated_parent
from termcorpus.sandbox.procs import descendants, kill_pids, pids_of_uid, process_table
from termcorpus.sandbox.session import Session
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


def require_tools(as_root: bool) -> dict[str, str]:
    """Locate bwrap and the util-linux helpers, or stop with one line saying what to install."""
    tools = {}
    for name, pkg in (("bwrap", "bubblewrap"), ("prlimit", "util-linux"), ("env", "coreutils"),
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
    _outer: int | None = None
    _inner: int | None = None
    _shell: int | None = None

    def _prepare(self) -> None:
        self._as_root = os.geteuid() == 0
        self._tools = require_tools(self._as_root)
        if self._as_root:
            self._check_traversable(self.app_dir)
            self._lease = lease_uid(os.getpid() % 1024)
            uid = self._lease.uid
            self._chown_tree(self.app_dir, uid)
            if self.logs_path is not None:
                self._chown_tree(self.logs_path, uid)
        etc = self.root / "etc"
        etc.mkdir()
        for name, text in (("passwd", _PASSWD), ("group", _GROUP), ("hosts", _HOSTS)):
            (etc / name).write_text(text)
            os.chmod(etc / name, 0o644)
        os.chmod(etc, 0o755)
        parent = delegated_parent() if self._as_root else None
        if parent is not None:
            self._cg = TaskCgroup(parent, self.config.memory_mb, self.config.max_procs)

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
        # env -i: bwrap's own PID 1 inside keeps the environment it was started with
        # (/proc/1/environ), so it must start from nothing.
        argv += [t["env"], "-i", f"PATH={SANDBOX_PATH}", "LANG=C.UTF-8", "HOME=/"]
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
        for name in ETC_ENTRIES:
            if os.path.exists(f"/etc/{name}"):
                argv += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
        for name in ("passwd", "group", "hosts"):
            argv += ["--ro-bind", str(self.root / "etc" / name), f"/etc/{name}"]
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
        argv += ["--remount-ro", "/", "--remount-ro", "/dev", "--chdir", "/app", "bash", "--noprofile", "--norc"]
        return self._cg.wrap(argv) if self._cg is not None else argv

    def _after_start(self) -> None:
        assert self._proc is not None
        self._outer = self._proc.pid
        table = process_table()
        below = descendants(self._outer, table)
        # bwrap (outer, host pid ns) -> bwrap (pid 1 inside) -> bash (pid 2 inside)
        self._inner = below[0] if below else None
        self._shell = below[1] if len(below) > 1 else None

    def _command_pids(self) -> list[int]:
        if self._outer is None:
            return []
        keep = {self._inner, self._shell}
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
