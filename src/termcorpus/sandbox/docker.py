"""The Docker backend: one container per task, a persistent ``bash`` inside it, same Session API.

Use it for tasks that need their own image (``task.environment.dockerfile`` or ``image``);
generated tasks run faster under bwrap (see bench/RESULTS.md). The daemon is found the way
the Docker SDK and CLI find it (``DOCKER_HOST``, else ``/var/run/docker.sock``); podman's
Docker-compatible socket works too. Tested with podman 4.3 (Debian bookworm, as root, no
systemd): the whole tests/sandbox/test_sandbox_docker.py passes with ::

    apt-get install -y podman
    podman --cgroup-manager=cgroupfs --events-backend=file \
        system service --time=0 unix:///run/podman/podman.sock &
    export DOCKER_HOST=unix:///run/podman/podman.sock
    scripts/docker_base_image.sh      # imports the cached root file system into podman

Life of a session::

    create container (image; PID 1 = a reaping bash loop, as root)    ~0.3 s
    put_archive /app (task files, owned 1000:1000)   [verifier: + /tests, /logs/verifier]
    docker exec -i -u 1000:1000 <c> bash   <- the persistent shell of session.py
    ... commands over the pipe ...
    kill the shell and its processes; remove the container (always, in close())

The shell speaks the protocol of :mod:`termcorpus.sandbox.session`; ``cd``, variables and
functions carry over between commands exactly as under bwrap (same trajectories, byte for
byte, on every seed: tested). Its status lines cannot use a stream of their own (Docker may
deliver an exec's stderr before the last stdout bytes), so they travel on stdout tagged with
a per-session nonce and are split off again on our side (see ``_INNER`` and ``_DEMUX``; the
programs the backend runs are files in ``sandbox/data/``). The daemon client and the task
images live in :mod:`termcorpus.sandbox.docker_images`.

The verifier runs in the agent's container, as in Harbor: closing an agent session that was
opened on a caller's ``workdir`` (what :class:`termcorpus.execute.episode.Episode` does)
kills every process in it and *parks* the container; the verifier's session on the same
``workdir`` adopts it, copies the tests to /tests and runs them over the agent's /app, and
removes the container when it closes. A parked container nobody adopts is removed as soon
as its workdir is gone (checked whenever a session opens) and at interpreter exit, after its
/app is copied back into the workdir if that still exists (until then the host workdir
still holds the task's initial files: read /app through the session, not the workdir); one
left by a crashed process is removed by :func:`remove_orphans` (run by ``check_backend``).

What it isolates: network (``network_mode=none``: loopback only), users (commands run as
uid/gid 1000, all capabilities dropped, ``no-new-privileges``), file system (the image's
own; nothing of the host is mounted), processes (own PID namespace), environment (only the
variables set here), limits (cgroup memory = ``memory_mb`` with no swap, ``pids.max`` =
``max_procs``, one CPU, RLIMIT_FSIZE, open files, a size-capped tmpfs /tmp, a wall-clock
timeout per command that kills every process the command started, output capped).

What it does not isolate: the kernel is shared (Docker's default seccomp profile is the only
filter); the container's writable layer has no size cap (overlay2 without project quotas);
the daemon runs as root, so whoever can reach its socket controls the host; a command runs
as the same uid as its shell and could, with effort (reading the relay's memory), forge a
status line and end its own command early (its output and exit code are then wrong; nothing
leaves the container); timing and other side channels.
"""

from __future__ import annotations

import atexit
import base64
import dataclasses
import io
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from termcorpus.errors import DataError, EnvironmentProblem
from termcorpus.records import CommandResult
from termcorpus.sandbox.docker_images import (
    BASE_IMAGE, LABEL, _archive_bytes, _image_present, _Tar, client, docker_cli, docker_host, forget_client, image_for,
    task_image_tag,
)
from termcorpus.sandbox.session import Session, _shell_quote

__all__ = ["BASE_IMAGE", "DockerSession", "check_docker", "client", "forget_client", "image_for",
           "remove_orphans", "task_image_tag"]

SANDBOX_USER = "1000:1000"
SANDBOX_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CPUS = 1.0  # per container; the pool's worker count decides how many run at once
_NPROC = 16384
_MAX_LOG_BYTES = 64 << 10  # the verifier reads 4 KiB of a reward file; logs keep their head


def _program(name: str) -> str:
    """A program shipped in ``termcorpus/sandbox/data/`` (package data), as text."""
    return resources.files("termcorpus.sandbox").joinpath(f"data/{name}").read_text(encoding="utf-8")


# PID 1 of every container: reap whatever is re-parented to it (bash's SIGCHLD handling
# waits for any child), and leave at once on SIGTERM.
_PID1 = 'trap "exit 0" TERM; trap : CHLD; while :; do sleep 3600 & wait; done'

# Kill processes of the sandbox user inside the container. Runs as uid 1000 (the container
# has no CAP_KILL, and a process may always signal its own uid); PID 1 runs as root, so a
# command can neither kill it nor be spared by it. Mode "command" spares the session's own
# processes: the exec'd top process T (its parent is outside the container's PID namespace:
# ppid 0) and T's children, the shell and the status relay (see _INNER); everything else,
# including orphans re-parented to PID 1, goes. Mode "all" spares only PID 1 and itself.
# No subshells: they would be children of the killer and be killed. The script: data/docker_kill.sh.
_KILL_SCRIPT = _program("docker_kill.sh")

# The exec'd top process T inside the container. Docker carries an exec's stdout and stderr
# as two streams that the daemon reads independently, so a status line on its own stream can
# overtake the command's last output. Everything therefore travels on stdout, in order: the
# shell's stdout and stderr go straight to it, and its status lines (written to fd CTRL by
# session.py's protocol) pass through a relay that prefixes them with a per-session nonce.
# The relay writes only after the shell wrote its status, i.e. after the command's output is
# in the pipe. The nonce arrives as the first line on stdin, so it is in no command line or
# environment that a command could read. Host side, _DEMUX splits the stream again.
_INNER = (
    "read -r nonce; exec 3>&1 2>&1; "
    "bash --noprofile --norc {ctrl}>&1 1>&3 2>&3 3>&- | "
    "{{ while IFS= read -r l; do printf '%s %s\\n' \"$nonce\" \"$l\"; done; }} >&3; "
    "exit ${{PIPESTATUS[0]}}"  # the shell's status (`exit 3`), not the relay's
)

# Host-side relay (run with ``python -I -S``): start the docker CLI, send it the nonce and
# then our stdin; copy its output to our stdout, except nonce-tagged status lines, which go
# (untagged) to the control fd that session.py reads. The program: data/docker_demux.py.
_DEMUX = _program("docker_demux.py")


def check_docker() -> None:
    """Fail early when the daemon, the CLI or the base image is missing; sweep orphans."""
    c = client()
    docker_cli()
    remove_orphans()
    if not _image_present(c, BASE_IMAGE):
        raise EnvironmentProblem(
            f"image {BASE_IMAGE} not found in the Docker daemon at {docker_host()}: "
            "build it with scripts/docker_base_image.sh"
        )


# ---- parked containers (agent session -> verifier session of the same workdir) --------------
@dataclass
class _Parked:
    container: object
    workdir: Path


_parked_lock = threading.Lock()
_parked: dict[str, _Parked] = {}


def _park(workdir: Path, container: object) -> None:
    with _parked_lock:
        old = _parked.pop(str(workdir), None)
        _parked[str(workdir)] = _Parked(container, workdir)
    if old is not None:
        _evict(old)


def _adopt(workdir: Path) -> object | None:
    with _parked_lock:
        entry = _parked.pop(str(workdir), None)
    return entry.container if entry is not None else None


def _evict(entry: _Parked) -> None:
    """Remove a parked container; first copy its /app back if the workdir still exists."""
    try:
        if entry.workdir.is_dir():
            _sync_app_out(entry.container, entry.workdir)
    except Exception as e:  # the container goes regardless; say what was not copied back
        print(f"termcorpus: could not copy /app of a parked container back to {entry.workdir}: "
              f"{type(e).__name__}: {e}", file=sys.stderr)
    finally:
        _remove(entry.container)


def _sweep_parked() -> None:
    """Remove parked containers whose workdir is gone (their episode ended without a verifier)."""
    with _parked_lock:
        gone = [k for k, e in _parked.items() if not e.workdir.is_dir()]
        entries = [_parked.pop(k) for k in gone]
    for e in entries:
        _remove(e.container)


@atexit.register
def _evict_all_parked() -> None:
    with _parked_lock:
        entries = list(_parked.values())
        _parked.clear()
    for e in entries:
        _evict(e)


def _remove(container: object) -> None:
    try:
        container.remove(force=True)  # type: ignore[attr-defined]
    except Exception:
        pass  # already gone


def _sync_app_out(container, workdir: Path) -> None:
    """Replace the host ``workdir``'s contents with the container's /app."""
    stream, _ = container.get_archive("/app")
    data = _archive_bytes(stream)
    with tempfile.TemporaryDirectory(prefix="termcorpus-docker-out-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            # The "data" filter refuses absolute paths, '..' and links that leave the tree.
            tar.extractall(tmp, filter="data")
        for child in list(workdir.iterdir()):
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
        src = Path(tmp) / "app"
        if src.is_dir():
            for child in src.iterdir():
                shutil.move(str(child), workdir / child.name)


def remove_orphans() -> int:
    """Remove sandbox containers of this host whose owning process is gone; return how many."""
    c = client()
    host = os.uname().nodename
    n = 0
    for ctr in c.containers.list(all=True, filters={"label": f"{LABEL}=session"}):
        labels = ctr.labels or {}
        if labels.get(f"{LABEL}.host") != host:
            continue
        try:
            os.kill(int(labels.get(f"{LABEL}.pid", "0")), 0)
            continue  # owner alive
        except (ProcessLookupError, ValueError):
            pass
        except PermissionError:
            continue  # alive, another user's
        _remove(ctr)
        n += 1
    return n


# ---- the session ----------------------------------------------------------------------------
class DockerSession(Session):
    backend = "docker"
    _container = None
    _park_on_close = False

    def _prepare(self) -> None:
        c = client()
        self._cli = docker_cli()
        _sweep_parked()
        caller_workdir = self.app_dir != self.root / "app"
        adopted = _adopt(self.app_dir.resolve()) if caller_workdir else None
        if adopted is not None:
            self._container = adopted
        else:
            self._container = self._create(c)
            tar = _Tar().tree(self.app_dir, "app", uid=1000)
            if self.task.environment.dockerfile:
                # A built task environment also gets the verifier environment (real pytest, the
                # `python` shim) at /run/termcorpus and a /solution the agent may write.
                from termcorpus.sandbox.layers import default_cache_dir
                from termcorpus.sandbox.verifier_env import verifier_env

                tar.add("run", None, 0o755, 0).tree(verifier_env(default_cache_dir()), "run/termcorpus", uid=0)
                tar.add("solution", None, 0o755, 1000)
            self._container.put_archive("/", tar.bytes())
            if self.task.environment.dockerfile:
                # The image's /app was written by root at build time; the agent (uid 1000)
                # owns it, as under bwrap, where each run's /app is a copy handed to the agent.
                # The container has no CAP_CHOWN: the daemon re-owns it through an archive.
                stream, _ = self._container.get_archive("/app")
                src = tarfile.open(fileobj=io.BytesIO(_archive_bytes(stream)))
                owned = _Tar()
                for m in src.getmembers():
                    m.uid = m.gid = 1000
                    m.uname = m.gname = ""
                    owned._tar.addfile(m, src.extractfile(m) if m.isfile() else None)
                self._container.put_archive("/", owned.bytes())
        if self.tests_path is not None:
            # One archive (each put costs ~50 ms): /tests root-owned, read-only for the
            # agent's uid; /logs/verifier the sandbox user's.
            tar = _Tar().tree(self.tests_path, "tests", uid=0)
            tar.add("logs", None, 0o755, 0).add("logs/verifier", None, 0o755, 1000)
            self._container.put_archive("/", tar.bytes())
        # An agent session on a caller's workdir hands its container to the verifier.
        self._park_on_close = caller_workdir and self.tests_path is None

    def _create(self, c):
        import docker.types

        cfg = self.config
        image = image_for(self.task)
        mem = f"{cfg.memory_mb}m"
        ctr = c.containers.create(
            image,
            # PID 1 is a root bash that reaps orphans (no docker-init: podman has none without
            # catatonit): a command (uid 1000) cannot kill it and stop the container.
            command=["bash", "-c", _PID1], user="0:0", working_dir="/app", stop_signal="SIGKILL",
            hostname="sandbox", network_mode="none", detach=True,
            environment={"PATH": self._image_path(c, image), "HOME": "/home/agent", "USER": "agent",
                         "LANG": "C.UTF-8", "TERM": "dumb"},
            mem_limit=mem, memswap_limit=mem, pids_limit=cfg.max_procs,
            nano_cpus=int(CPUS * 1e9),
            ulimits=[docker.types.Ulimit(name="nofile", soft=1024, hard=1024),
                     docker.types.Ulimit(name="fsize", soft=cfg.max_file_mb << 20, hard=cfg.max_file_mb << 20),
                     docker.types.Ulimit(name="core", soft=0, hard=0),
                     # RLIMIT_NPROC counts uid 1000 across all containers, so it is no
                     # per-task cap (pids.max is); podman needs an explicit value below its
                     # own hard limit, or the container does not start.
                     docker.types.Ulimit(name="nproc", soft=_NPROC, hard=_NPROC)],
            cap_drop=["ALL"], security_opt=["no-new-privileges"],
            tmpfs={"/tmp": f"size={cfg.tmp_mb}m,mode=1777"},
            labels={LABEL: "session", f"{LABEL}.task": self.task.id,
                    f"{LABEL}.pid": str(os.getpid()), f"{LABEL}.host": os.uname().nodename},
        )
        try:
            ctr.start()
        except BaseException:
            _remove(ctr)
            raise
        return ctr

    def _image_path(self, c, image: str) -> str:
        """PATH in the container: a built image keeps its own (ENV PATH=...) plus the shims."""
        if not self.task.environment.dockerfile:
            return SANDBOX_PATH
        from termcorpus.sandbox.layers import RUN_PATH_SUFFIX

        env = c.images.get(image).attrs.get("Config", {}).get("Env") or []
        path = next((e.split("=", 1)[1] for e in env if e.startswith("PATH=")), SANDBOX_PATH)
        return f"{path}:{RUN_PATH_SUFFIX}"

    def _argv(self, ctrl_fd: int) -> list[str]:
        nonce = secrets.token_hex(16)
        return [sys.executable, "-I", "-S", "-c", _DEMUX, nonce, str(ctrl_fd),
                self._cli, "exec", "-i", "-u", SANDBOX_USER, "-w", "/app", self._container.id,
                "bash", "-c", _INNER.format(ctrl=ctrl_fd)]

    def _popen_kwargs(self) -> dict:
        return {"start_new_session": True}

    def _start_shell(self) -> None:
        if self.restarts:
            self._container.reload()
            if self._container.status != "running":
                raise EnvironmentProblem(
                    f"the docker sandbox container of task {self.task.id} is {self._container.status}"
                )
        super()._start_shell()

    def _kill_in_container(self, mode: str) -> None:
        try:
            self._container.exec_run(["bash", "-c", _KILL_SCRIPT, "kill", mode], user=SANDBOX_USER)
        except Exception:
            pass  # container gone: nothing left to kill

    def _command_pids(self) -> list[int]:
        return []  # processes live in the container's PID namespace; see _kill_command

    def _kill_command(self) -> None:
        self._kill_in_container("command")

    def _kill_everything(self) -> None:
        if self._proc is None:
            return
        if self._closed and not self._park_on_close:
            # The container is removed next, which ends every process in it.
            pass
        elif self._closed and self._proc.poll() is None:
            # Parking for the verifier: the idle shell itself becomes the killer (saves an
            # exec round trip), so no agent process survives to race the tests.
            try:
                assert self._proc.stdin is not None
                self._proc.stdin.write(f"exec bash -c {_shell_quote(_KILL_SCRIPT)} kill all\n".encode())
                self._proc.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                self._kill_in_container("all")
        else:
            self._kill_in_container("all")  # a restart: the container lives on
        if self._proc.poll() is None:
            try:  # the relay and the docker CLI on our side (their own process group)
                os.killpg(self._proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass

    def run(self, keystrokes: str, timeout_sec: float | None = None) -> CommandResult:
        result = super().run(keystrokes, timeout_sec)
        if self.logs_path is not None:
            self._fetch_logs()
        return result

    def _fetch_logs(self) -> None:
        """Copy the regular files of /logs/verifier to the host, where the verifier reads them.

        Through the shell (a pipe round trip), not get_archive (~50 ms): each file's name and
        first bytes travel base64-encoded, one file per line. Links are not followed.
        """
        assert self.logs_path is not None
        script = (
            "( cd /logs/verifier 2>/dev/null || exit 0; for f in *; do "
            '[ -f "$f" ] && [ ! -L "$f" ] || continue; printf %s "$f" | base64 -w0; printf " "; '
            f'head -c {_MAX_LOG_BYTES} -- "$f" | base64 -w0; echo; done )'
        )
        saved = self.config
        self.config = dataclasses.replace(saved, max_output_bytes=4 * _MAX_LOG_BYTES, timeout_sec=30.0)
        try:
            result = super().run(script)
        finally:
            self.config = saved
        for child in self.logs_path.iterdir():
            if child.is_file() or child.is_symlink():
                child.unlink()
        for line in result.output.splitlines():
            name_b64, _, data_b64 = line.partition(" ")
            try:
                name = base64.b64decode(name_b64, validate=True).decode("utf-8")
                data = base64.b64decode(data_b64, validate=True)
            except ValueError:
                continue
            if name and "/" not in name and name not in (".", ".."):
                (self.logs_path / name).write_bytes(data)

    # ---- files -------------------------------------------------------------------------------
    def _container_path(self, rel: str) -> str:
        from termcorpus.records import check_relative_path

        try:
            check_relative_path(rel)
        except ValueError as e:
            raise DataError(str(e))
        return "/app/" + rel.replace("\\", "/").strip("/")

    def put_file(self, rel: str, data: bytes | str) -> None:
        """Write a file under /app (owned by the sandbox user)."""
        path = self._container_path(rel)
        raw = data.encode("utf-8") if isinstance(data, str) else data
        parts = path.strip("/").split("/")
        entries: list[tuple[str, bytes | None, int]] = [
            ("/".join(parts[1:i]), None, 0o755) for i in range(2, len(parts))
        ]
        entries.append(("/".join(parts[1:]), raw, 0o755 if raw.startswith(b"#!") else 0o644))
        tar = _Tar()
        for name, blob, mode in entries:
            tar.add(name, blob, mode, 1000)
        self._container.put_archive("/app", tar.bytes())

    def get_file(self, rel: str, max_bytes: int = 1 << 20) -> bytes:
        """Read a file under /app (at most ``max_bytes``; links and directories are refused)."""
        import docker.errors

        path = self._container_path(rel)
        try:
            stream, stat = self._container.get_archive(path)
        except docker.errors.NotFound:
            raise FileNotFoundError(path)
        # Go's os.ModeSymlink bit; podman also fills linkTarget (with the path) for plain files.
        if stat.get("mode", 0) & (1 << 27) or stat.get("linkTarget", "") not in ("", path):
            raise DataError(f"path {rel!r} is a symlink; refusing to follow it")
        with tarfile.open(fileobj=io.BytesIO(_archive_bytes(stream))) as tar:
            member = tar.next()
            if member is None or not member.isreg():
                raise DataError(f"path {rel!r} is not a regular file")
            fh = tar.extractfile(member)
            return fh.read(max_bytes) if fh is not None else b""

    limits = "docker-cgroup"  # the daemon sets the container's memory.max / pids.max

    @property
    def cgroup(self) -> str:
        cid = self._container.id[:12] if self._container is not None else "-"
        return f"docker container {cid} (memory.max, pids.max set by the daemon)"

    @property
    def container_id(self) -> str | None:
        return self._container.id if self._container is not None else None

    # ---- lifetime ----------------------------------------------------------------------------
    def _release(self) -> None:
        if self._container is None:
            return
        ctr, self._container = self._container, None
        if self._park_on_close:
            _park(self.app_dir.resolve(), ctr)
        else:
            _remove(ctr)


