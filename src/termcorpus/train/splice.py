"""Splice episodes (``train.splice_episodes``): a composed training chat cut at one step, whose
step there is another chain's step, so the reply to it cannot be recalled from the rest of the
instruction.

Why: on held-out compositions the default model leaves the reference at turn 1 in 55 of 60
episodes (``first_miss``, docs/EXPERIMENTS.md), although every first skill of those tasks opens
training chains: it maps a whole instruction to a memorised episode instead of reading the step
it is at. In the corpus each chain's instruction predicts every one of its replies, so nothing
asks the model to read one step's words. A splice does::

    Task: In /app, keeping every file you make: 1) <A's step 1> 2) <B's step 4> 3) <C's step 2>
    <A's reply to step 1>        (real)
    <A's observation>            (real, printed by the sandbox)
    <B's reply to its step 4>    (real: B's command, this turn's analysis)

Chat A keeps its steps before the cut, with their real replies and observations; the step at
the cut is a donor's (a plain one-turn step of another training chat, the reply as B's episode
wrote it); the steps after it are words of other training chats' steps, by a walk over skills.
The episode ends with the donor's reply: nothing after the cut is shown or trained, so every
observation in a splice is one the sandbox really printed for the turns before it. Every two
adjacent skills of a splice's instruction are adjacent in some training chain, so a splice
never holds a pair the generator reserved for the held-out compositions. Nothing is run: like
copy episodes this changes what the loop draws (the same steps and rows), not the corpus.

A chat is cut only when it parses as a composition: numbered steps ``1) ... n)`` in its first
message, as many skills in its ``skills`` column, and as many step groups of replies (a look turn,
whose plan starts with :data:`LOOK_PLAN`, belongs to the step after it) before the final
``task_complete`` reply.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Sequence

from pydantic import ValidationError

from termcorpus.records import Action, render_action
from termcorpus.train.data import Chat

# The oracle's plan on the look turn before an observation-dependent step (agents/oracle.py;
# tests/train/test_splice.py checks the oracle still writes it).
LOOK_PLAN = "Look first: "
RUN_PLAN = "Run "

Message = tuple[str, str]


@dataclass(frozen=True)
class Steps:
    """A composed chat by step: the first message up to ``1)``, each step's words, and each
    step's messages (its replies and the observations after them)."""

    header: str
    texts: tuple[str, ...]
    groups: tuple[tuple[Message, ...], ...]
    skills: tuple[str, ...]
    firsts: tuple[Action, ...]  # each group's first reply, parsed (parse_steps parses every reply once)

    def instruction(self, texts: Sequence[str]) -> str:
        """The first message with ``texts`` as its steps (``instruction(self.texts)`` is the chat's own)."""
        return self.header + " ".join(f"{i}) {t}" for i, t in enumerate(texts, 1))

    def plain(self, k: int) -> Action | None:
        """Step ``k``'s reply when it is one plain turn (no look before it), else None."""
        action = self.firsts[k]
        return action if len(self.groups[k]) == 2 and action.plan.startswith(RUN_PLAN) else None


def _action(text: str) -> Action | None:
    try:
        return Action.model_validate_json(text)
    except ValidationError:
        return None


def parse_steps(chat: Chat) -> Steps | None:
    """``chat`` by step, or None when it is not a composition this module can cut."""
    n, msgs = len(chat.skills), chat.messages
    if n < 2 or len(msgs) < 3 or msgs[0][0] != "user" or len(msgs) % 2 != 0:
        return None
    first = msgs[0][1]
    starts, at = [], 0
    for i in range(1, n + 1):
        at = first.find(f" {i}) ", at)
        if at < 0:
            return None
        starts.append(at)
        at += 1
    if first.find(f" {n + 1}) ", at) >= 0:
        return None
    ends = [*starts[1:], len(first)]
    texts = tuple(first[s + len(f" {i}) "):e].strip() for i, (s, e) in enumerate(zip(starts, ends), 1))
    header = first[:starts[0] + 1]
    turns = [(msgs[j], msgs[j + 1] if j + 1 < len(msgs) else None) for j in range(1, len(msgs), 2)]
    *work, last = turns
    final = _action(last[0][1]) if last[0][0] == "assistant" and last[1] is None else None
    if final is None or not final.task_complete or final.commands:
        return None
    groups: list[tuple[Message, ...]] = []
    firsts: list[Action] = []
    pending: list[Message] = []
    for reply, obs in work:
        action = _action(reply[1]) if reply[0] == "assistant" and obs is not None and obs[0] == "user" else None
        if action is None:
            return None
        if not pending:
            firsts.append(action)
        pending += [reply, obs]
        if not action.plan.startswith(LOOK_PLAN):
            groups.append(tuple(pending))
            pending = []
    if pending or len(groups) != n or not all(texts):
        return None
    return Steps(header=header, texts=texts, groups=tuple(groups), skills=chat.skills, firsts=tuple(firsts))


def splice_episodes(chats: Sequence[Chat], rate: float, seed: int) -> list[tuple[int, Chat]]:
    """``(i, splice)`` pairs: after each composed training chat ``i``, ``int(rate)`` splices cut
    from it, and one more with probability ``rate - int(rate)`` (``Random(f"splice:{seed}:{i}")``:
    the same chats, rate and seed give the same splices)."""
    if rate <= 0.0:
        return []
    splicer = Splicer(chats)
    whole, frac = int(rate), rate - int(rate)
    out: list[tuple[int, Chat]] = []
    for i, st in enumerate(splicer.parsed):
        if st is None:
            continue
        rng = random.Random(f"splice:{seed}:{i}")
        for _ in range(whole + (rng.random() < frac)):
            if (splice := splicer.splice(i, rng)) is not None:
                out.append((i, splice))
    return out


class Splicer:
    """The composed chats of a split by step, with what a splice draws from: which skills follow
    which in some chain, every step's words by skill, and the plain one-turn steps by skill."""

    def __init__(self, chats: Sequence[Chat]) -> None:
        self.chats = chats
        self.parsed = [parse_steps(c) for c in chats]
        self.follows: dict[str, set[str]] = {}
        self.words: dict[str, list[tuple[int, int]]] = {}
        self.donors: dict[str, list[tuple[int, int]]] = {}
        for i, st in enumerate(self.parsed):
            if st is None:
                continue
            for k, skill in enumerate(st.skills):
                self.words.setdefault(skill, []).append((i, k))
                if st.plain(k) is not None:
                    self.donors.setdefault(skill, []).append((i, k))
                if k:
                    self.follows.setdefault(st.skills[k - 1], set()).add(skill)

    def _steps(self, i: int) -> Steps:
        st = self.parsed[i]
        assert st is not None
        return st

    def splice(self, i: int, rng: random.Random) -> Chat | None:
        """One splice cut from composed chat ``i`` (None: no step of it has a donor)."""
        st = self._steps(i)
        # the cut: a random step for which there is a donor skill, another skill that follows
        # A's step before the cut in some training chain (any skill at the first step)
        for cut in rng.sample(range(len(st.skills)), len(st.skills)):
            allowed = sorted(self.follows.get(st.skills[cut - 1], set()) if cut else self.donors)
            options = [s for s in allowed if s != st.skills[cut] and any(j != i for j, _ in self.donors.get(s, ()))]
            if options:
                break
        else:
            return None
        skill = rng.choice(options)
        j, k = rng.choice([d for d in self.donors[skill] if d[0] != i])
        donor = self._steps(j)
        donated = donor.plain(k)
        assert donated is not None
        reply = render_action(donated.model_copy(update={"analysis": st.firsts[cut].analysis}))
        texts, skills, sources = [*st.texts[:cut], donor.texts[k]], [*st.skills[:cut], skill], {i, j}
        # the steps after the cut: a walk over skills adjacent in training, other chains' words
        while len(texts) < len(st.texts) and self.follows.get(skills[-1]):
            nxt = rng.choice(sorted(self.follows[skills[-1]]))
            a, b = rng.choice(self.words[nxt])
            texts.append(self._steps(a).texts[b])
            skills.append(nxt)
            sources.add(a)
        slot_values = tuple(dict.fromkeys(v for s in sorted(sources) for v in self.chats[s].slot_values))
        messages = (("user", st.instruction(texts)), *(m for g in st.groups[:cut] for m in g), ("assistant", reply))
        return Chat(messages=messages, slot_values=slot_values, skills=tuple(skills), origin="splice")
