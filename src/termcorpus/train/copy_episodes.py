"""Copy episodes (``train.copy_episodes``): short synthetic chats whose whole task is to copy one
value of a training instruction into a command.

Why: read one by one, a third of the default model's failures on new variants of trained
templates copy a value wrongly (``';'`` for ``'-'``, ``age`` for ``clicks``, mode ``640``):
values that stay spelled out under the name codec (punctuation, numbers, vocabulary words), so
the model has to copy their tokens. A copy episode asks for nothing else::

    Task: Put the text ; on one line in a new file mavokelu.txt.
    {"analysis":"Nothing is done yet.","plan":"Run printf.","commands":[{"keystrokes":"printf '%s\\n' ';' > mavokelu.txt\\n",...}],...}
    $ printf '%s\\n' ';' > mavokelu.txt
    {"analysis":"The task is done.","plan":"Finish.","commands":[],"task_complete":true}

The value is one of the source chat's own slot values (the values the generators put into
instructions, so copies are drawn from the distribution the model meets), the file a fresh
made-up name (``pools.fresh_name``: never an evaluation task's name), the replies and the
observation in the oracle's exact form (``records.render_action``, ``records.observation_message``), the
prompt's protocol header the source chat's own. Nothing is run: like ``train.fresh_names`` this
changes what the loop draws, not the corpus. The loop's budget (steps x rows) stays the same, so
copy episodes take the place of real ones in it.
"""

from __future__ import annotations

import random
import shlex
from typing import Callable, Sequence

from termcorpus.generate.pools import fresh_name
from termcorpus.records import Action, Command, CommandResult, observation_message, render_action
from termcorpus.train.data import Chat

_TASK = "Task: "
PHRASES = (
    "Put the text {v} on one line in a new file {f}.",
    "Write this value, exactly, as the only line of {f}: {v}",
    "Create {f} holding one line: {v}",
)
MAX_VALUE_CHARS = 40


def copy_chat(chat: Chat, rng: random.Random, prefer: Callable[[str], bool] | None = None) -> Chat | None:
    """A copy episode made from one of ``chat``'s slot values, one that ``prefer`` accepts when
    there is one (None: it has no usable value or its first message carries no ``Task: `` header)."""
    if not chat.messages or chat.messages[0][0] != "user":
        return None
    header, sep, _ = chat.messages[0][1].partition(_TASK)
    values = sorted({v for v in chat.slot_values if v.strip() == v and v and "\n" not in v and len(v) <= MAX_VALUE_CHARS})
    if not sep or not values:
        return None
    if prefer is not None:
        values = [v for v in values if prefer(v)] or values
    value, name = rng.choice(values), fresh_name(rng) + ".txt"
    command = f"printf '%s\\n' {shlex.quote(value)} > {name}\n"
    return Chat(
        messages=(
            ("user", header + _TASK + rng.choice(PHRASES).format(v=value, f=name)),
            ("assistant", render_action(Action(analysis="Nothing is done yet.", plan="Run printf.",
                                               commands=[Command(keystrokes=command)]))),
            ("user", observation_message([CommandResult(keystrokes=command, output="", exit_code=0)])),
            ("assistant", render_action(Action(analysis="The task is done.", plan="Finish.", task_complete=True))),
        ),
        slot_values=(value, name),
        origin="copy",
    )


def copy_episodes(chats: Sequence[Chat], share: float, seed: int,
                  prefer: Callable[[str], bool] | None = None) -> list[tuple[int, Chat]]:
    """``(i, copy)`` pairs: after training chat ``i``, with probability ``share``, a copy episode
    made from it (``Random((seed, i))``: the same chats, share and seed give the same copies).
    ``prefer``: which values to copy when a chat has several kinds (the trainer prefers those
    the name codec leaves spelled out: a placeholder is already one token to copy)."""
    out: list[tuple[int, Chat]] = []
    if share <= 0.0:
        return out
    for i, chat in enumerate(chats):
        rng = random.Random(f"copy:{seed}:{i}")
        if rng.random() < share and (copy := copy_chat(chat, rng, prefer)) is not None:
            out.append((i, copy))
    return out


def interleave(chats: Sequence[Chat], copies: Sequence[tuple[int, Chat]]) -> list[Chat]:
    """``chats`` with each copy right after its source chat, so the curriculum order holds."""
    after: dict[int, list[Chat]] = {}
    for i, c in copies:
        after.setdefault(i, []).append(c)
    return [x for i, chat in enumerate(chats) for x in (chat, *after.get(i, ()))]
