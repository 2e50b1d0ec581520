"""Domain errors: everything a user can cause (bad params, bad seed file, missing tool).

The CLI and the stage scripts turn a ``TermcorpusError`` into one line on stderr and exit
code 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class TermcorpusError(Exception):
    """A problem with the user's input or environment, explained in one line."""

    exit_code = 2

    def __init__(self, message: str, *, where: str | None = None):
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class ConfigError(TermcorpusError):
    """params.yaml or an option has a wrong key, type or range."""


class DataError(TermcorpusError):
    """A seed, skill, task or record file does not match its contract."""


class EnvironmentProblem(TermcorpusError):
    """A required tool or service (bwrap, dockerd, an endpoint) is missing or unreachable."""
