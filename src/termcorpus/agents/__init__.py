"""Terminal agents speaking the Terminus-2 JSON protocol (oracle, null; model agents elsewhere)."""

from termcorpus.agents.base import Agent
from termcorpus.agents.oracle import NullAgent, OracleAgent
from termcorpus.agents.protocol import (
    PROMPT_STYLES,
    first_user_message,
    observation_message,
    parse_action,
    parse_error_message,
    render_action,
)

__all__ = [
    "Agent", "NullAgent", "OracleAgent", "PROMPT_STYLES", "first_user_message",
    "observation_message", "parse_action", "parse_error_message", "render_action",
]
