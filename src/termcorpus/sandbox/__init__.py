"""Run a task's commands in a sandbox: one persistent shell per task, with limits.

``open_session(task, config)`` starts a :class:`Session` (run a command with a timeout and
capped output, put and get files, ``close()`` leaves nothing behind) on the backend that
``SandboxConfig`` names: ``bwrap`` (default; namespaces, an unused host uid, rlimits and a
per-task cgroup), ``docker`` (one container per task, for tasks with their own image) or
``local`` (isolates nothing; debugging only). What each backend isolates, and what it does not,
is stated in :mod:`termcorpus.sandbox.backends` (bwrap), :mod:`termcorpus.sandbox.docker` and
:mod:`termcorpus.sandbox.local`; ``layers`` builds task environments, ``sweep`` undoes the
leftovers of a killed runner, and ``verifier_env`` provides the verifiers' pytest.
"""

from __future__ import annotations

from termcorpus.sandbox.backends import check_backend, limits_mechanism, open_session
from termcorpus.sandbox.config import BACKENDS, SandboxConfig
from termcorpus.sandbox.session import OutputCapture, Session, prepare_workdir, write_task_files

__all__ = [
    "BACKENDS", "OutputCapture", "SandboxConfig", "Session", "open_session", "prepare_workdir",
    "write_task_files", "check_backend", "limits_mechanism",
]
