"""The persistent shell every backend shares: one ``bash`` per session, commands over a pipe.

A command is sent to the shell's stdin as ``eval '<keystrokes>' </dev/null FD>&-`` followed by
``printf '<seq> <status> <cwd>' >&FD``: the status line travels on a separate control pipe
(FD), so no end marker can ever be confused with command output, and the command cannot
read or forge it (FD is closed for it, stdin is /dev/null). stdout and stderr share one pipe,
so their order is the order a terminal would show. ``cd``, variables and functions persist
because ``eval`` runs in the shell itself.

Backends (bwrap, local) only say how to start the shell and which processes belong to the
running command; this module does the talking, the output cap and the timeouts.
"""

from __future__ import annotations

import base64
import math
import os
import select
import shutil
import stat
import subprocess
import tempfile
import time
from pathlib import Path

from termcorpus.errors import DataError, EnvironmentProblem
from termcorpus.records import CommandResult, Task
from termcorpus.sandbox.config import SandboxConfig

MAX_TASK_BYTES = 64 << 20  # task files above this are refused: generated tasks are tiny
_STARTUP_TIMEOUT_SEC = 15.0
_KILL_GRACE_SEC = 1.0  # after killing a timed-out command, wait this long for the shell
_SPECIAL_KEYS = {"C-c", "C-d", "C-z", "C-\\", "Escape", "Enter"}  # tmux key names; see run()


def _readable(fds: list[int], timeout_sec: float) -> list[int]:
    """The fds ready to read (or at EOF) within the timeout; poll(), so any fd number works."""
    poller = select.poll()
    for fd in fds:
        poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    return [fd for fd, _ in poller.poll(math.ceil(timeout_sec * 1000) if timeout_sec > 0 else 0)]


def _shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


class OutputCapture:
    """Keep the first and last bytes of a stream; count what is cut in between."""

    def __init__(self, limit: int):
        self.head_limit = limit // 2
        self.tail_limit = limit - self.head_limit
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def feed(self, data: bytes) -> None:
        self.total += len(data)
        room = self.head_limit - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail += data
            extra = len(self.tail) - self.tail_limit
            if extra > 0:
                del self.tail[:extra]

    @property
    def truncated(self) -> bool:
        return self.total > self.head_limit + self.tail_limit

    def text(self) -> str:
        if not self.truncated:
            return (bytes(self.head) + bytes(self.tail)).decode("utf-8", errors="replace")
        cut = self.total - len(self.head) - len(self.tail)
        return (
            self.head.decode("utf-8", errors="replace")
            + f"\n[... output truncated: {cut} bytes cut ...]\n"
            + self.tail.decode("utf-8", errors="replace")
        )


def task_blobs(task: Task) -> list[tuple[str, bytes]]:
    """The task's files as ``(path, bytes)``; bad base64 or too many bytes raise DataError.

    Callers that run many tasks check every task with it first, so a bad task fails the run
    before any output is touched.
    """
    blobs: list[tuple[str, bytes]] = []
    for rel, text in sorted(task.files.items()):
        blobs.append((rel, text.encode("utf-8")))
    for rel, b64 in sorted(task.binary_files.items()):
        try:
            blobs.append((rel, base64.b64decode(b64, validate=True)))
        except ValueError:
            raise DataError(f"binary_files[{rel!r}] is not valid base64", where=f"task {task.id}")
    total = sum(len(b) for _, b in blobs)
    if total > MAX_TASK_BYTES:
        raise DataError(f"task files take {total} bytes, more than {MAX_TASK_BYTES}", where=f"task {task.id}")
    return blobs


def write_task_files(task: Task, app_dir: Path) -> None:
    """Write ``task.files`` / ``task.binary_files`` under ``app_dir`` (a fresh directory)."""
    blobs = task_blobs(task)
    root = app_dir.resolve()
    for rel, data in blobs:
        dest = (app_dir / rel).resolve()
        # records.check_relative_path already refuses '..'; resolve() also catches a file path
        # that runs through another task file.
        if root not in dest.parents:
            raise DataError(f"file path {rel!r} leaves the task directory", where=f"task {task.id}")
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
        except OSError as e:  # e.g. 'a' and 'a/b' both listed: one is in the other's way
            raise DataError(f"file path {rel!r} cannot be written ({e.strerror}); does another "
                            "task file use it as a directory?", where=f"task {task.id}")
        # Scripts keep their exec bit as a Docker build would have given them.
        os.chmod(dest, 0o755 if data.startswith(b"#!") else 0o644)


def prepare_workdir(task: Task, parent: Path) -> Path:
    """Create ``parent/app`` holding the task's files; return it (for a verifier to reuse)."""
    parent = Path(parent)
    os.chmod(parent, 0o711)  # a dropped-uid bwrap must traverse it to bind /app
    app = parent / "app"
    app.mkdir()
    write_task_files(task, app)
    return app


class Session:
    """One sandboxed shell. Use :func:`termcorpus.sandbox.open_session` to get one."""

    backend = "base"

    def __init__(self, task: Task, config: SandboxConfig, *, workdir: Path | None = None,
                 tests_dir: bool = False, verifier_slot: bool = False):
        self.task = task
        # verifier_slot: /tests and /logs/verifier are mounted now but stay empty and closed to
        # the agent; verify_in_place() later fills them and runs the tests in this sandbox.
        self._slot = verifier_slot and not tests_dir
        self.config = config
        self._proc: subprocess.Popen[bytes] | None = None
        self._ctrl_r: int | None = None
        self._seq = 0
        self._cwd = "/app"
        self._closed = False
        self.restarts = 0  # times the shell had to be started again (exit, stuck builtin loop)
        self.root = Path(tempfile.mkdtemp(prefix="termcorpus-sbx-"))
        try:
            os.chmod(self.root, 0o711)
            if workdir is None:
                self.app_dir = self.root / "app"
                self.app_dir.mkdir()
                write_task_files(task, self.app_dir)
            else:
                self.app_dir = Path(workdir)
                if not self.app_dir.is_dir():
                    raise DataError("workdir is not a directory", where=str(workdir))
            self.tests_path: Path | None = None
            self.logs_path: Path | None = None
            if tests_dir or self._slot:
                self.tests_path = self.root / "tests"
                self.tests_path.mkdir()
                os.chmod(self.tests_path, 0o755)
                if tests_dir:
                    self._write_tests()
                self.logs_path = self.root / "logs" / "verifier"
                self.logs_path.mkdir(parents=True)
                os.chmod(self.root / "logs", 0o755)
            self._prepare()
            self._start_shell()
        except BaseException:
            self.close()
            raise

    def _write_tests(self) -> None:
        """Put the task's tests into the (read-only mounted) tests directory."""
        assert self.tests_path is not None
        for rel, text in sorted(self.task.tests.items()):
            dest = self.tests_path / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(text, encoding="utf-8")
            os.chmod(dest, 0o755 if text.startswith("#!") else 0o644)
        for d in [self.tests_path, *self.tests_path.rglob("*")]:
            if d.is_dir():
                os.chmod(d, 0o755)

    def verify_in_place(self, timeout_sec: float) -> bool:
        """Turn this agent session into the verifier's: stop every process of the agent, put
        the tests at /tests, empty /logs/verifier, and start a fresh shell (clean environment,
        /app as the agent left it) in the same sandbox, whose commands may run ``timeout_sec``.

        False when the backend cannot (or this session was not opened with ``verifier_slot``):
        the caller then closes it and verifies in a new sandbox over the same /app.
        """
        return False

    # ---- backend hooks ---------------------------------------------------------------------
    def _prepare(self) -> None:
        """Backend set-up before the first shell (uids, ownership, config files)."""

    def _argv(self, ctrl_fd: int) -> list[str]:
        raise NotImplementedError

    def _popen_kwargs(self) -> dict:
        return {}

    def _after_start(self) -> None:
        """Record which processes are the sandbox's own (not the command's)."""

    def _command_pids(self) -> list[int]:
        """Processes started by commands (everything in the sandbox but its shell)."""
        raise NotImplementedError

    def _kill_everything(self) -> None:
        raise NotImplementedError

    def _release(self) -> None:
        """Backend clean-up after every process is gone."""

    def _extra_fds(self) -> tuple[int, ...]:
        """More pipe ends (besides the status pipe) the sandbox's first process inherits."""
        return ()

    def _after_popen(self) -> None:
        """Close the parent's copies of the ``_extra_fds`` the sandbox now holds."""

    def _close_extra_fds(self) -> None:
        """Close what is left of the ``_extra_fds`` pipes (the shell is gone)."""

    def _collect_exit(self, out_fd: int, capture: "OutputCapture") -> int | None:
        """The shell exited by itself: read its last output, return its exit status."""
        assert self._proc is not None
        self._drain(out_fd, capture, until_eof=True)
        try:
            return self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return None

    @property
    def cgroup(self) -> str:
        """Path of the per-task cgroup, or 'no cgroup' when the machine delegates none."""
        return "no cgroup"

    @property
    def limits(self) -> str:
        """What caps the task's total memory and processes: "cgroup-v2", "cgroup-v1" (a
        per-task cgroup of ours), "docker-cgroup" (the container's), or "rlimit-only"
        (per-process rlimits only; see sandbox/cgroup.py)."""
        return "rlimit-only"

    @property
    def cwd(self) -> str:
        """The shell's working directory after the last command (inside the sandbox)."""
        return self._cwd

    # ---- the shell -------------------------------------------------------------------------
    def _start_shell(self) -> None:
        ctrl_r, ctrl_w = os.pipe()
        extra = self._extra_fds()
        try:
            self._proc = subprocess.Popen(
                self._argv(ctrl_w), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, pass_fds=(ctrl_w, *extra), bufsize=0, **self._popen_kwargs(),
            )
        except OSError as e:
            os.close(ctrl_r)
            self._close_extra_fds()
            raise EnvironmentProblem(f"cannot start the {self.backend} sandbox: {e}")
        finally:
            os.close(ctrl_w)
            if extra:
                self._after_popen()
        self._ctrl_r = ctrl_r
        self._ctrl_fd_inside = ctrl_w
        failed = self._handshake()
        if failed is not None:
            self._stop_shell()
            detail = failed.output.strip().splitlines()
            raise EnvironmentProblem(
                f"the {self.backend} sandbox did not start: {detail[-1] if detail else 'no output'}"
            )

    def _handshake(self) -> CommandResult | None:
        """First exchange with a new shell (umask, working directory), then note its processes.
        None when it answered; else the exchange's result (for the error message)."""
        # Return to the last working directory after a restart (it may be gone: then /app).
        init = f"umask 022; cd -- {_shell_quote(self._cwd)} 2>/dev/null || cd /app 2>/dev/null"
        result = self._exchange(init, _STARTUP_TIMEOUT_SEC, startup=True)
        if not self._answered:
            return result
        self._after_start()
        return None

    def _stop_shell(self) -> None:
        if self._proc is not None:
            self._kill_everything()
            for stream in (self._proc.stdin, self._proc.stdout):
                try:
                    if stream:
                        stream.close()
                except OSError:
                    pass
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None
        if self._ctrl_r is not None:
            os.close(self._ctrl_r)
            self._ctrl_r = None
        self._close_extra_fds()

    def _restart(self) -> None:
        self._stop_shell()
        self.restarts += 1
        self._start_shell()

    def run(self, keystrokes: str, timeout_sec: float | None = None) -> CommandResult:
        """Run one command in the persistent shell; never raises for what the command does.

        ``timeout_sec`` is capped by the config's ``timeout_sec``. On timeout every process
        the command started is killed (background children too), the result says
        ``timed_out``, and the session stays usable.
        """
        if self._closed:
            raise RuntimeError("session is closed")
        limit = self.config.timeout_sec if timeout_sec is None else min(timeout_sec, self.config.timeout_sec)
        if keystrokes.strip() in _SPECIAL_KEYS:
            # A tmux key such as C-c: nothing runs in the foreground between our commands
            # (each one is waited for), so there is nothing to interrupt.
            return CommandResult(keystrokes=keystrokes, output="", exit_code=0)
        if self._proc is None or self._proc.poll() is not None:
            self._restart()
        return self._exchange(keystrokes, max(limit, 0.01))

    def _exchange(self, keystrokes: str, limit: float, startup: bool = False,
                  capture: OutputCapture | None = None) -> CommandResult:
        assert self._proc is not None and self._proc.stdin is not None and self._proc.stdout is not None
        self._seq += 1
        seq = self._seq
        fd = self._ctrl_fd_inside
        body = keystrokes.replace("\x00", "")
        script = (
            f"eval {_shell_quote(body)} </dev/null {fd}>&-\n"
            f"printf '%s %s %s\\n' {seq} \"$?\" \"$PWD\" >&{fd}\n"
        )
        nested = capture is not None  # the no-op after a timeout (below) shares its capture
        capture = OutputCapture(self.config.max_output_bytes) if capture is None else capture
        try:
            self._proc.stdin.write(script.encode("utf-8", errors="replace"))
        except (BrokenPipeError, OSError):
            pass  # the shell is gone; the loop below sees EOF and reports it
        out_fd = self._proc.stdout.fileno()
        ctrl_fd = self._ctrl_r
        watch = [out_fd, ctrl_fd]
        ctrl_buf = b""
        status: int | None = None
        timed_out = False
        deadline = time.monotonic() + limit
        grace_until: float | None = None
        finished = False
        while not finished:
            now = time.monotonic()
            if startup and now >= deadline:
                break  # the caller reports a sandbox that does not start
            if not timed_out and now >= deadline:
                timed_out = True
                self._kill_command()
                grace_until = time.monotonic() + _KILL_GRACE_SEC
            if grace_until is not None and time.monotonic() >= grace_until:
                # The shell itself is stuck (a builtin loop such as `while :; do :; done`):
                # start a fresh sandbox shell in the same /app.
                if not startup:
                    self._drain(out_fd, capture)
                    self._restart()
                break
            wait = (deadline if grace_until is None else grace_until) - time.monotonic()
            if not watch:
                break
            ready = _readable(watch, max(wait, 0.0))
            for rfd in ready:
                data = os.read(rfd, 65536)
                if rfd == out_fd:
                    if data:
                        capture.feed(data)
                    else:
                        watch.remove(out_fd)
                else:
                    if not data:
                        watch.remove(ctrl_fd)
                        continue
                    ctrl_buf += data
                    while b"\n" in ctrl_buf:
                        line, ctrl_buf = ctrl_buf.split(b"\n", 1)
                        parts = line.decode("utf-8", errors="replace").split(" ", 2)
                        if parts[0] == str(seq) and len(parts) > 1 and parts[1].isdigit():
                            # Only a well-formed line counts: where the caller is not root a
                            # command can reopen this pipe via /proc and write garbage to it.
                            status = int(parts[1])
                            if len(parts) > 2:
                                self._cwd = parts[2]
                            finished = True
            if ctrl_fd not in watch and not finished:
                # The shell exited (e.g. the command ran `exit`): collect its last output.
                status = self._collect_exit(out_fd, capture)
                self._stop_shell()
                break
        if finished:
            self._drain(out_fd, capture)
            if timed_out and not startup and not nested:
                # The shell reports jobs killed after it resumed ("Killed  sleep 60") before its
                # next command: run a no-op now so that the report lands in this result, not
                # in the next command's output.
                self._exchange(":", _KILL_GRACE_SEC, capture=capture)
        self._answered = finished
        return CommandResult(
            keystrokes=keystrokes,
            output=capture.text(),
            exit_code=None if timed_out else status,
            timed_out=timed_out,
            truncated=capture.truncated,
        )

    @staticmethod
    def _drain(fd: int, capture: OutputCapture, until_eof: bool = False) -> None:
        """Read what is already in the pipe (everything the command wrote before it ended)."""
        end = time.monotonic() + (2.0 if until_eof else 0.2)
        while time.monotonic() < end:
            ready = _readable([fd], 0.05 if until_eof else 0.0)
            if not ready:
                if until_eof:
                    continue
                return
            try:
                data = os.read(fd, 65536)
            except OSError:
                return
            if not data:
                return
            capture.feed(data)

    def _kill_command(self) -> None:
        # Several passes: a process may fork between our scan and the kill.
        from termcorpus.sandbox.procs import kill_pids

        # Killed processes take a moment to die: look again soon, then less often.
        delay = 0.0002
        for _ in range(60):
            victims = self._command_pids()
            if not victims:
                return
            kill_pids(victims)
            time.sleep(delay)
            delay = min(delay * 2, 0.004)

    # ---- files -----------------------------------------------------------------------------
    def _host_path(self, rel: str) -> Path:
        from termcorpus.records import check_relative_path

        try:
            check_relative_path(rel)
        except ValueError as e:
            raise DataError(str(e))
        path = (self.app_dir / rel).resolve()
        if self.app_dir.resolve() not in path.parents:
            raise DataError(f"path {rel!r} leaves /app (a symlink?)")
        return path

    def put_file(self, rel: str, data: bytes | str) -> None:
        """Write a file under /app from the host side."""
        path = self._host_path(rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        self._own(path)

    def get_file(self, rel: str, max_bytes: int = 1 << 20) -> bytes:
        """Read a file under /app (at most ``max_bytes``; symlinks out of /app are refused)."""
        path = self._host_path(rel)
        # O_NONBLOCK + the regular-file check: a FIFO planted by the task must not hang us.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise DataError(f"path {rel!r} is not a regular file")
        with os.fdopen(fd, "rb") as fh:
            return fh.read(max_bytes)

    def _own(self, path: Path) -> None:
        """Give a host-written file to the sandbox user (bwrap backend, as root)."""

    # ---- lifetime --------------------------------------------------------------------------
    def close(self) -> None:
        """Kill every process of the session and remove its temp dir. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        try:
            self._stop_shell()
        finally:
            try:
                self._release()
            finally:
                shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # last resort; close() is the contract
        try:
            if not getattr(self, "_closed", True):
                self.close()
        except Exception:
            pass
