"""Curation filters over trajectories, in the style of datatrove.

A filter is a small class with one method, ``filter(record) -> bool | (bool, reason[, detail])``.
The shared base runs it over a list, keeps the survivors in order and counts ``kept``, ``dropped``
and ``dropped_<reason>``: no trajectory disappears without a counted reason, and those counts are
what ``metrics/curation.json``, the dataset card and MLflow report. Each drop is also kept as a
``Reject`` (id, filter, reason, detail), which the corpus stores as ``rejects.jsonl``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from typing import Callable, Iterable

from pydantic import BaseModel, ConfigDict

from termcorpus.curate.safety import match_privileged
from termcorpus.jsonobj import first_json_object
from termcorpus.records import CANARY, Trajectory

FilterResult = bool | tuple[bool, str] | tuple[bool, str, str]


class Reject(BaseModel):
    """One trajectory a curation step removed, and why (a line of the corpus's rejects.jsonl)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    filter: str
    reason: str
    detail: str = ""


class Filter:
    """Base: subclasses set ``name`` and implement ``filter``; ``run`` applies and counts."""

    name = "filter"
    # reasons reported even when nothing was dropped for them (so a zero shows in the metrics)
    reasons: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.stats: Counter[str] = Counter()
        self.rejects: list[Reject] = []

    def filter(self, record: Trajectory) -> FilterResult:  # pragma: no cover - abstract
        raise NotImplementedError

    def run(self, records: Iterable[Trajectory]) -> list[Trajectory]:
        kept: list[Trajectory] = []
        for rec in records:
            res = self.filter(rec)
            if isinstance(res, bool):
                ok, reason, detail = res, self.name, ""
            else:
                ok, reason, detail = (*res, "") if len(res) == 2 else res
            if ok:
                self.stats["kept"] += 1
                kept.append(rec)
            else:
                self.stats["dropped"] += 1
                self.stats[f"dropped_{reason}"] += 1
                self.rejects.append(Reject(id=rec.id, filter=self.name, reason=reason, detail=detail))
        return kept

    def counts(self) -> dict[str, int]:
        out = {"kept": 0, "dropped": 0, **{f"dropped_{r}": 0 for r in self.reasons}}
        out.update(self.stats)
        return dict(sorted(out.items()))


def keystrokes_of(t: Trajectory) -> str:
    """Everything the agent typed, one command per line (what the safety rules read)."""
    return "\n".join(c.keystrokes for turn in t.turns if turn.action for c in turn.action.commands)


class FailedFilter(Filter):
    """Drop trajectories whose verifier did not pass: only verified solutions teach."""

    name = "failed"

    def filter(self, record: Trajectory) -> FilterResult:
        return record.passed


class SafetyFilter(Filter):
    """Drop trajectories that type a privileged or destructive command (see curate.safety)."""

    name = "privileged"

    def filter(self, record: Trajectory) -> FilterResult:
        reason = match_privileged(keystrokes_of(record))
        return True if reason is None else (False, f"privileged_{reason}")


# Control characters that never belong in terminal text the model should learn (NUL, bell, ...);
# \t \n \r and ESC (colour codes are shown as observed) are allowed.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f]")


class NonsenseFilter(Filter):
    """Drop empty chats, assistant turns that do not parse as a Terminus-2 action, and garbage.

    Garbage: more than ``max_garbage_share`` of a chat's characters are control characters or
    U+FFFD (what undecodable bytes turn into), i.e. binary output dumped into the terminal.
    """

    name = "nonsense"

    def __init__(self, max_garbage_share: float = 0.01) -> None:
        super().__init__()
        self.max_garbage_share = max_garbage_share

    def filter(self, record: Trajectory) -> FilterResult:
        assistants = [m for m in record.messages if m.role == "assistant"]
        if not assistants or not any(m.role == "user" for m in record.messages):
            return False, "empty_chat"
        # An observation may legitimately be empty (a command printed nothing); the task prompt
        # and the assistant's replies may not.
        first_user = next(m for m in record.messages if m.role == "user")
        if not first_user.content.strip() or any(not m.content.strip() for m in assistants):
            return False, "empty_message"
        if any(t.action is None or t.parse_error for t in record.turns):
            return False, "unparsed_turn"
        for m in assistants:
            obj, _ = first_json_object(m.content)
            if obj is None or not isinstance(obj.get("commands", []), list):
                return False, "unparsed_turn"
        text = "".join(m.content for m in record.messages)
        bad = len(_CONTROL.findall(text)) + text.count("\ufffd")
        if bad > self.max_garbage_share * len(text):
            return False, "binary_garbage"
        return True


class CanaryFilter(Filter):
    """Drop any trajectory whose training text carries the evaluation canary (decontamination)."""

    name = "canary"

    def __init__(self, canary: str = CANARY) -> None:
        super().__init__()
        self.canary = canary

    def filter(self, record: Trajectory) -> FilterResult:
        if self.canary in record.instruction or any(self.canary in m.content for m in record.messages):
            return False
        return True


def messages_digest(t: Trajectory) -> str:
    blob = json.dumps([[m.role, m.content] for m in t.messages], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class ExactDedupFilter(Filter):
    """Keep the first trajectory of each exact chat (hash of the messages); drop the repeats."""

    name = "duplicate"

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()

    def filter(self, record: Trajectory) -> FilterResult:
        h = messages_digest(record)
        if h in self.seen:
            return False
        self.seen.add(h)
        return True


def stable_rank(seed: int, key: str) -> str:
    """A seeded, platform-independent sort key (Python's hash() is salted per process)."""
    return hashlib.sha256(f"{seed}:{key}".encode("utf-8")).hexdigest()


class GroupSampleFilter(Filter):
    """Keep ``quota(n)`` of each group's n trajectories, chosen by a seeded hash of their ids.

    It needs the whole population: call ``fit(records)`` first, then ``run`` the same records.
    A group is the trajectories with one value of the field ``group_by`` (domain, family).
    """

    def __init__(self, seed: int, *, group_by: str, quota: Callable[[int], int]) -> None:
        super().__init__()
        self.seed, self.group_by, self.quota = seed, group_by, quota
        self.keep_ids: set[str] | None = None

    def fit(self, records: Iterable[Trajectory]) -> "GroupSampleFilter":
        groups: dict[str, list[str]] = defaultdict(list)
        for r in records:
            groups[getattr(r, self.group_by)].append(r.id)
        keep: set[str] = set()
        for ids in groups.values():
            ranked = sorted(ids, key=lambda i: (stable_rank(self.seed, i), i))
            keep.update(ranked[: self.quota(len(ids))])
        self.keep_ids = keep
        return self

    def filter(self, record: Trajectory) -> FilterResult:
        if self.keep_ids is None:
            raise RuntimeError(f"{type(self).__name__}.fit must run before filter")
        return record.id in self.keep_ids


class DomainCapFilter(GroupSampleFilter):
    """Keep at most ``cap`` trajectories per domain (0: all), chosen by a seeded hash of their ids."""

    name = "domain_cap"

    def __init__(self, cap: int, seed: int) -> None:
        super().__init__(seed, group_by="domain", quota=lambda n: min(n, cap) if cap > 0 else n)
        self.cap = cap
