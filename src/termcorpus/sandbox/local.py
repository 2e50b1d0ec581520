"""The local backend: a plain ``bash`` in a temp dir. UNSAFE: for debugging only.

It isolates nothing: the command runs as the caller, sees the whole file system and the
network, and can leave daemons behind that escape its session. /app, /tests and
/logs/verifier do not exist: the shell starts in the task's temp dir, so tasks that name
those absolute paths (all verifier tests do) fail here. Use it to debug the protocol and the
agents on a machine without bwrap, never to run untrusted or generated commands.
"""

from __future__ import annotations

import os
import shutil

from termcorpus.sandbox.procs import descendants, kill_pids, session_members
from termcorpus.sandbox.session import Session


class LocalSession(Session):
    backend = "local"

    def _prepare(self) -> None:
        self._cwd = str(self.app_dir)

    def _argv(self, ctrl_fd: int) -> list[str]:
        cfg = self.config
        prlimit = shutil.which("prlimit")
        limits = [prlimit, f"--as={cfg.memory_mb << 20}", f"--fsize={cfg.max_file_mb << 20}", "--"] if prlimit else []
        return [*limits, "bash", "--noprofile", "--norc"]

    def _popen_kwargs(self) -> dict:
        env = {"PATH": os.defpath + ":/usr/local/bin", "HOME": str(self.app_dir), "LANG": "C.UTF-8", "TERM": "dumb"}
        # A new session makes the shell a session leader: its children share its session id.
        return {"cwd": str(self.app_dir), "env": env, "start_new_session": True}

    def _command_pids(self) -> list[int]:
        if self._proc is None:
            return []
        shell = self._proc.pid
        found = set(descendants(shell)) | set(session_members(shell))
        found.discard(shell)
        return sorted(found)

    def _kill_everything(self) -> None:
        if self._proc is not None:
            shell = self._proc.pid
            kill_pids(sorted(set(descendants(shell)) | set(session_members(shell))) + [shell])
