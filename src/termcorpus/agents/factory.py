"""The agent factory: a teacher named in params becomes an agent."""

from __future__ import annotations

from termcorpus.agents.base import Agent
from termcorpus.agents.oracle import NullAgent, OracleAgent
from termcorpus.errors import ConfigError


def make_agent(teacher: str, params: object | None = None) -> Agent:
    """The teacher agent named in params (``oracle`` offline; ``null`` for self-checks;
    ``openai``: any OpenAI-compatible endpoint configured by the ``execute.teacher_*`` keys)."""
    if teacher == "oracle":
        return OracleAgent()
    if teacher == "null":
        return NullAgent()
    if teacher == "openai":
        from termcorpus.agents.openai_agent import OpenAIChatAgent

        if params is None:
            raise ConfigError("teacher 'openai' needs the execute params", where="params.yaml:execute.teacher")
        return OpenAIChatAgent.from_params(params)
    raise ConfigError(f"unknown teacher {teacher!r}", where="params.yaml:execute.teacher")
