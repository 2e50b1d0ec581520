"""Sandbox limits and backend choice, built once from the ``execute`` params section."""

from __future__ import annotations

from dataclasses import dataclass

from termcorpus.errors import ConfigError

BACKENDS = ("bwrap", "docker", "local")


@dataclass
class SandboxConfig:
    """What a sandbox session may use. Units are in the field names."""

    backend: str = "bwrap"
    timeout_sec: float = 20.0  # hard cap on one command's wall time
    memory_mb: int = 1024  # RLIMIT_AS per process (and memory.max when a cgroup is delegated)
    max_procs: int = 256  # RLIMIT_NPROC for the sandbox's own host uid (and pids.max)
    max_output_bytes: int = 8192  # output kept per command: head + tail around a marker
    tmp_mb: int = 256  # size of the tmpfs mounted at /tmp inside the sandbox
    max_file_mb: int = 1024  # RLIMIT_FSIZE: largest file a sandboxed process may write
    verify_in_place: bool = True  # bwrap: run the tests in the agent's sandbox (one per task)

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ConfigError(
                f"sandbox backend {self.backend!r} is not implemented; use one of {', '.join(BACKENDS)}",
                where="params.yaml:execute.sandbox",
            )
        if self.timeout_sec <= 0 or self.memory_mb < 16 or self.max_procs < 4 or self.max_output_bytes < 64:
            raise ConfigError(
                "sandbox limits out of range (timeout_sec > 0, memory_mb >= 16, max_procs >= 4, "
                "max_output_bytes >= 64)",
                where="params.yaml:execute",
            )

    @classmethod
    def from_params(cls, params: object) -> "SandboxConfig":
        """Build from an ``ExecuteParams`` (or any object with the same attributes)."""
        return cls(
            backend=getattr(params, "sandbox"),
            timeout_sec=float(getattr(params, "timeout_sec")),
            memory_mb=int(getattr(params, "memory_mb")),
            max_procs=int(getattr(params, "max_procs")),
            max_output_bytes=int(getattr(params, "max_output_bytes")),
            verify_in_place=bool(getattr(params, "verify_in_place", True)),
        )
