"""What an agent is: given the task and the chat so far, return the next assistant text."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from termcorpus.records import Message, Task


@runtime_checkable
class Agent(Protocol):
    """An agent speaking the Terminus-2 JSON protocol.

    ``act`` returns the raw assistant text (which may be malformed: the episode turns a
    parse error into the next observation). ``messages`` ends with a user message.
    """

    name: str
    model: str

    def act(self, task: Task, messages: list[Message]) -> str: ...
