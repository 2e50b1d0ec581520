"""A retrieval baseline: replay the trajectory of the most similar training instruction.

The agent sees only what a model sees, the chat: it reads the instruction out of the first user
message (never the task's generator metadata, slots or family), finds the training instruction
with the highest TF-IDF cosine similarity (scikit-learn), and replays that episode's assistant
turns one per step. Where the two instructions differ word for word (``difflib`` aligns their
tokens; each replaced block of equal length maps its words one to one), the new instruction's
words are put into the replayed commands in place of the old ones, whole words only. After the
replayed turns it declares the task complete.

What it measures: how far nearest-neighbour copying with name substitution goes on each
evaluation set. A fine-tuned model that does not beat it on unseen templates or skill
combinations has learned lookup, not composition.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Sequence

from termcorpus.agents.protocol import parse_action, render_action
from termcorpus.records import Action, Command

# Words (names, numbers, extensions) are runs of letters, digits and '_'; every other
# non-space character is a token of its own, so "data.csv" and "logs.csv" align as data/logs.
_TOKEN = re.compile(r"[A-Za-z0-9_]+|[^\sA-Za-z0-9_]")
_WORDLIKE = re.compile(r"^[A-Za-z0-9_]+$")
_DONE = render_action(Action(analysis="The task is done.", plan="Finish.", commands=[], task_complete=True))


def instruction_of(first_user: str) -> str:
    """The task instruction inside a first user message of either prompt style (agents.protocol)."""
    if "Task description:\n" in first_user:  # terminus2 style
        body = first_user.split("Task description:\n", 1)[1]
        return body.split("\n\nCurrent terminal state:", 1)[0].strip()
    if "\nTask: " in first_user:  # compact style
        return first_user.split("\nTask: ", 1)[1].strip()
    return first_user.strip()


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def word_mapping(old: str, new: str) -> dict[str, str]:
    """Old word -> new word where the instructions differ word for word.

    Aligned by ``difflib.SequenceMatcher`` over tokens; a replaced block contributes only when
    both sides have the same number of tokens (then they pair up in order), and only word
    tokens are mapped. An old word that would map to two different new words is left alone.
    """
    a, b = tokens(old), tokens(new)
    mapping: dict[str, str] = {}
    conflicted: set[str] = set()
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op != "replace" or i2 - i1 != j2 - j1:
            continue
        for x, y in zip(a[i1:i2], b[j1:j2]):
            if x == y or not (_WORDLIKE.match(x) and _WORDLIKE.match(y)):
                continue
            if mapping.get(x, y) != y:
                conflicted.add(x)
            mapping[x] = y
    for x in conflicted:
        mapping.pop(x, None)
    return mapping


def substitute(text: str, mapping: dict[str, str]) -> str:
    """Replace each mapped word in ``text`` (whole words, one pass: no chained replacements)."""
    if not mapping:
        return text
    words = sorted(mapping, key=lambda w: (-len(w), w))
    pattern = re.compile(r"(?<![A-Za-z0-9_])(?:" + "|".join(re.escape(w) for w in words) + r")(?![A-Za-z0-9_])")
    return pattern.sub(lambda m: mapping[m.group(0)], text)


@dataclass(frozen=True)
class Episode:
    """One training episode as the baseline uses it (built by evaluate from the corpus's train split)."""

    instruction: str
    turns: tuple[str, ...]  # the assistant messages, as trained on


class RetrievalAgent:
    """TF-IDF nearest training instruction, its turns replayed with the new instruction's words."""

    name = "retrieval"
    model = "tfidf-nearest"

    def __init__(self, episodes: Sequence[Episode]):
        from sklearn.feature_extraction.text import TfidfVectorizer

        if not episodes:
            raise ValueError("the retrieval agent needs at least one training episode")
        self.episodes = list(episodes)
        # Word unigrams and bigrams over the same tokens as the alignment (punctuation dropped).
        self.vectorizer = TfidfVectorizer(token_pattern=r"[A-Za-z0-9_]+", ngram_range=(1, 2), sublinear_tf=True)
        self.matrix = self.vectorizer.fit_transform([e.instruction for e in self.episodes])
        self._cache: dict[str, tuple[int, dict[str, str]]] = {}

    def nearest(self, instruction: str) -> int:
        """Index of the most similar training instruction (first one on ties)."""
        sims = (self.matrix @ self.vectorizer.transform([instruction]).T).toarray().ravel()
        return int(sims.argmax())

    def _plan(self, instruction: str) -> tuple[int, dict[str, str]]:
        if instruction not in self._cache:
            i = self.nearest(instruction)
            self._cache[instruction] = (i, word_mapping(self.episodes[i].instruction, instruction))
        return self._cache[instruction]

    def reply(self, messages: Sequence[object]) -> str:
        roles = [(m["role"], m["content"]) if isinstance(m, dict) else (m.role, m.content) for m in messages]
        first_user = next((c for r, c in roles if r == "user"), "")
        step = sum(1 for r, _ in roles if r == "assistant")
        i, mapping = self._plan(instruction_of(first_user))
        turns = self.episodes[i].turns
        if step >= len(turns):
            return _DONE
        action, _err = parse_action(turns[step])
        if action is None:  # not a protocol turn: replay it as it was trained on
            return turns[step]
        commands = [Command(keystrokes=substitute(c.keystrokes, mapping), duration=c.duration) for c in action.commands]
        return render_action(Action(analysis=action.analysis, plan=action.plan, commands=commands,
                                    task_complete=action.task_complete))

    def act_batch(self, chats: Sequence[Sequence[object]]) -> list[str]:
        return [self.reply(c) for c in chats]

    def act(self, task: object, messages: Sequence[object]) -> str:
        # ``task`` is ignored on purpose: the baseline sees only the chat.
        return self.reply(messages)


__all__ = ["Episode", "RetrievalAgent", "instruction_of", "substitute", "word_mapping"]
