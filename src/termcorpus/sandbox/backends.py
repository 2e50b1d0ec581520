"""Open a session on the configured backend, check its tools, and say what caps its memory.

What the default ``bwrap`` backend isolates:

* network: new, empty network namespace (``--unshare-all``): no interfaces but loopback;
* file system: only /usr (read-only), a few /etc files, the task at /app (read-write),
  tmpfs /tmp, /home/agent and /dev/shm (each capped at ``tmp_mb``; the rest of /dev is
  read-only); the verifier also gets /tests (read-only) and /logs/verifier.
  /root, /work, /home of the host, the repo and its data are not visible;
* users: the task runs as uid 1000 inside, mapped to an unused host uid (never root), with
  all capabilities dropped and no further user namespaces;
* processes: own PID namespace (``ps`` shows only the task), ``--new-session`` (no TIOCSTI
  into our terminal), ``--die-with-parent`` (nothing outlives a crashed worker);
* environment: started under ``env -i`` and ``--clearenv``: no variable of the caller
  (tokens, keys) is visible, not even in /proc/1/environ;
* limits: RLIMIT_AS (memory per process), RLIMIT_NPROC (processes of the sandbox's uid),
  RLIMIT_FSIZE, open files, a size cap on the tmpfs mounts, a wall-clock timeout per command
  (the whole process tree of a timed-out command is killed), and output capped per command.
  A per-task cgroup also caps total memory and pids: a delegated cgroup v2 where the
  machine has one, else a child of our own cgroup in the v1 memory/pids hierarchies (hybrid
  hosts); ``Session.limits`` says which holds ("cgroup-v2", "cgroup-v1", "rlimit-only").
* leftovers: every sandbox is registered in a state dir; the next sandbox start (or
  ``termcorpus sandbox sweep``) undoes those of a runner that was SIGKILLed.

What it does not isolate:

* the kernel is shared: a kernel exploit escapes; there is no seccomp filter;
* without a usable cgroup ("rlimit-only"), total memory of several processes is not capped
  (each one is),
  and CPU time is limited only by the per-command wall-clock timeout;
* disk: /app lives in a host temp dir; only the per-file size is capped;
* /usr of the host is readable (installed software, not data);
* timing and other side channels.

The ``docker`` backend (one container per task, for tasks with their own image) states its
own isolation in :mod:`termcorpus.sandbox.docker`. The ``local`` backend isolates nothing
(see :mod:`termcorpus.sandbox.local`).
"""

from __future__ import annotations

from pathlib import Path

from termcorpus.errors import ConfigError
from termcorpus.records import Task
from termcorpus.sandbox.config import BACKENDS, SandboxConfig
from termcorpus.sandbox.session import Session


def open_session(task: Task, config: SandboxConfig, *, workdir: Path | None = None,
                 tests_dir: bool = False, verifier_slot: bool = False) -> Session:
    """Start a sandboxed shell for ``task`` (use as a context manager; ``close()`` cleans up).

    Without ``workdir`` the task's files are written to a fresh temp dir mounted at /app and
    removed on close. With ``workdir`` (a directory made by :func:`prepare_workdir`, whose
    parents the sandbox uid can traverse) that directory is mounted at /app as it is, is
    handed to the sandbox uid, and is kept on close: this is how the verifier sees the
    agent's /app. ``tests_dir`` adds the task's tests at /tests (read-only) and a writable
    /logs/verifier. ``verifier_slot`` (bwrap) prepares an agent's session so that
    ``Session.verify_in_place`` can later run the tests in it (one sandbox per task).
    """
    if config.backend == "bwrap":
        from termcorpus.sandbox.bwrap import BwrapSession

        return BwrapSession(task, config, workdir=workdir, tests_dir=tests_dir, verifier_slot=verifier_slot)
    if config.backend == "docker":
        from termcorpus.sandbox.docker import DockerSession

        return DockerSession(task, config, workdir=workdir, tests_dir=tests_dir)
    if config.backend == "local":
        from termcorpus.sandbox.local import LocalSession

        return LocalSession(task, config, workdir=workdir, tests_dir=tests_dir)
    raise ConfigError(f"sandbox backend {config.backend!r} is not implemented; use one of "
                      f"{', '.join(BACKENDS)}", where="params.yaml:execute.sandbox")


def check_backend(config: SandboxConfig) -> None:
    """Fail early, with one line, when the backend's tools are missing."""
    if config.backend == "bwrap":
        import os

        from termcorpus.sandbox.bwrap import require_tools

        require_tools(os.geteuid() == 0)
    elif config.backend == "docker":
        from termcorpus.sandbox.docker import check_docker

        check_docker()


def limits_mechanism(config: SandboxConfig) -> str:
    """What caps a task's total memory under ``config`` on this machine (see Session.limits)."""
    if config.backend == "bwrap":
        from termcorpus.sandbox.cgroup import mechanism

        return mechanism()
    return "docker-cgroup" if config.backend == "docker" else "rlimit-only"
