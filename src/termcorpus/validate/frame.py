"""Flatten trajectories into one pandas row each, for the Great Expectations suite.

The reader is deliberately lenient: it parses each line as plain JSON and never stops on a bad
record, so the suite can report *every* problem (a missing field, a wrong type, bytes that are not
UTF-8) with the trajectory it came from, instead of the first one only. A column backed by a
record field exists only when some record has that field, so a field missing everywhere shows up
as a missing column. Rules that need more than one value per row become derived boolean columns
(``skills_known``, ``messages_alternate``, ``canary_free``, ...).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from tqdm import tqdm

from termcorpus.errors import DataError
from termcorpus.records import CANARY, Trajectory, read_json

# Record field -> frame column, for the fields copied as they are.
FIELD_COLUMNS: dict[str, str] = {
    "id": "trajectory_id",
    "task_id": "task_id",
    "family": "family",
    "source": "source",
    "domain": "domain",
    "difficulty": "difficulty",
    "agent": "agent",
    "model": "model",
    "instruction": "instruction",
    "reward": "reward",
    "passed": "passed",
    "n_turns": "n_turns",
    "n_commands": "n_commands",
}

# Fields a trajectory must carry (non-null) for `required_present`.
REQUIRED_FIELDS: tuple[str, ...] = (
    "id", "task_id", "family", "source", "domain", "skills", "difficulty", "agent", "model",
    "instruction", "turns", "messages", "reward", "passed", "n_turns", "n_commands", "sandbox", "lineage",
)

DERIVED_COLUMNS: tuple[str, ...] = (
    "line", "utf8_ok", "json_ok", "schema_ok", "required_present", "skills", "skills_known",
    "n_turns_recorded", "turns_consistent", "n_messages", "total_chars", "keystrokes",
    "messages_alternate", "canary_free", "passed_rate",
)


@dataclass(frozen=True)
class Taxonomy:
    domains: tuple[str, ...]
    skills: tuple[str, ...]


def _ids(items: Any, where: str, what: str) -> list[tuple[str, str | None]]:
    """(id, domain) pairs from a list of strings / objects with id|name (|domain), or a mapping."""
    if items is None:
        return []
    if isinstance(items, dict):
        items = [{"id": k, **(v if isinstance(v, dict) else {})} for k, v in items.items()]
    if not isinstance(items, list):
        raise DataError(f"'{what}' must be a list, got {type(items).__name__}", where=where)
    out = []
    for i, it in enumerate(items):
        if isinstance(it, str):
            out.append((it, None))
        elif isinstance(it, dict) and isinstance(it.get("id", it.get("name")), str):
            dom = it.get("domain")
            out.append((it.get("id", it.get("name")), dom if isinstance(dom, str) else None))
        else:
            raise DataError(f"'{what}[{i}]' must be a string or an object with an 'id'", where=where)
    return out


def read_taxonomy(path: Path) -> Taxonomy:
    """Read data/taxonomy.json: ``{"domains": [...], "skills": [{"id", "domain"}, ...]}``.

    Domains may be strings or objects with ``id``/``name``; a skill's domain counts as known too.
    """
    path = Path(path)
    data = read_json(path)
    if not isinstance(data, dict):
        raise DataError("must be a JSON object with 'domains' and 'skills'", where=str(path))
    skills = _ids(data.get("skills"), str(path), "skills")
    domains = {d for d, _ in _ids(data.get("domains"), str(path), "domains")}
    domains |= {dom for _, dom in skills if dom}
    if not domains:
        raise DataError("lists no domains (expected a 'domains' list or skills with a 'domain')", where=str(path))
    return Taxonomy(domains=tuple(sorted(domains)), skills=tuple(sorted({s for s, _ in skills})))


def _messages_alternate(messages: Any) -> bool:
    """Optional system message first, then user/assistant strictly alternating, >= 1 assistant."""
    if not isinstance(messages, list) or not messages:
        return False
    roles = [m.get("role") if isinstance(m, dict) else None for m in messages]
    if not all(isinstance(m, dict) and isinstance(m.get("content"), str) for m in messages):
        return False
    if roles[0] == "system":
        roles = roles[1:]
    if not roles or "assistant" not in roles:
        return False
    return all(r == ("user" if i % 2 == 0 else "assistant") for i, r in enumerate(roles))


def _keystrokes(turns: Any) -> str:
    out: list[str] = []
    for turn in turns if isinstance(turns, list) else []:
        action = turn.get("action") if isinstance(turn, dict) else None
        cmds = action.get("commands") if isinstance(action, dict) else None
        for c in cmds if isinstance(cmds, list) else []:
            if isinstance(c, dict) and isinstance(c.get("keystrokes"), str):
                out.append(c["keystrokes"])
    return "\n".join(out)


def _contents(rec: dict[str, Any]) -> list[str]:
    msgs = rec.get("messages")
    return [m["content"] for m in msgs if isinstance(m, dict) and isinstance(m.get("content"), str)] if isinstance(msgs, list) else []


def flatten_record(rec: dict[str, Any] | None, *, line: int, utf8_ok: bool, known_skills: frozenset[str]) -> dict[str, Any]:
    """One frame row for a parsed record (``None``: the line was not a JSON object)."""
    row: dict[str, Any] = {"line": line, "utf8_ok": utf8_ok, "json_ok": rec is not None}
    rec = rec or {}
    for field, col in FIELD_COLUMNS.items():
        if field in rec:
            v = rec[field]
            # Nested values would break column-wise checks; keep them as their JSON text.
            row[col] = json.dumps(v, sort_keys=True) if isinstance(v, (list, dict)) else v
    try:
        Trajectory.model_validate(rec)
        row["schema_ok"] = True
    except ValidationError:
        row["schema_ok"] = False
    row["required_present"] = all(rec.get(f) is not None for f in REQUIRED_FIELDS)
    skills = rec.get("skills")
    skills_ok = isinstance(skills, list) and all(isinstance(s, str) for s in skills)
    row["skills"] = ",".join(skills) if skills_ok else None
    row["skills_known"] = skills_ok and all(s in known_skills for s in skills)
    turns = rec.get("turns")
    row["n_turns_recorded"] = len(turns) if isinstance(turns, list) else 0
    row["turns_consistent"] = isinstance(turns, list) and rec.get("n_turns") == len(turns)
    contents = _contents(rec)
    row["n_messages"] = len(rec["messages"]) if isinstance(rec.get("messages"), list) else 0
    row["total_chars"] = sum(len(c) for c in contents)
    row["keystrokes"] = _keystrokes(turns)
    row["messages_alternate"] = _messages_alternate(rec.get("messages"))
    instruction = rec.get("instruction") if isinstance(rec.get("instruction"), str) else ""
    row["canary_free"] = not any(CANARY in t for t in [instruction, *contents])
    passed = rec.get("passed")
    row["passed_rate"] = float(passed) if isinstance(passed, bool) else None
    return row


def trajectory_rows(path: Path, taxonomy: Taxonomy) -> list[dict[str, Any]]:
    """Read the JSONL leniently: every non-blank line becomes one row."""
    path = Path(path)
    if not path.exists():
        raise DataError("file not found", where=str(path))
    known = frozenset(taxonomy.skills)
    rows = []
    with path.open("rb") as fh:
        for lineno, raw in enumerate(tqdm(fh, desc="flatten trajectories", unit="traj", disable=None), 1):
            if not raw.strip():
                continue
            try:
                text, utf8_ok = raw.decode("utf-8"), True
            except UnicodeDecodeError:
                text, utf8_ok = raw.decode("utf-8", errors="replace"), False
            try:
                rec = json.loads(text)
            except json.JSONDecodeError:
                rec = None
            rows.append(flatten_record(rec if isinstance(rec, dict) else None, line=lineno, utf8_ok=utf8_ok, known_skills=known))
    return rows


def trajectory_frame(path: Path, taxonomy: Taxonomy) -> Any:
    """The trajectories as a pandas DataFrame, one row per record (see the module docstring)."""
    import pandas as pd

    rows = trajectory_rows(path, taxonomy)
    columns = list(FIELD_COLUMNS.values()) + [c for c in DERIVED_COLUMNS if c not in FIELD_COLUMNS.values()]
    present = [c for c in columns if any(c in r for r in rows)] if rows else columns
    return pd.DataFrame([{c: r.get(c) for c in present} for r in rows], columns=present)
