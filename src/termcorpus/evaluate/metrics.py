"""Evaluation metrics: verifier success, protocol validity and the exact-trace match.

Exact trace (the way NeMo-Gym's terminal check scores a turn): the reference trace of a task is
what the teacher wrote for it in the corpus, the oracle's turns (``OracleAgent.action_for``): one
turn per solution command, then one turn with no command and ``task_complete`` true. Keystrokes
are compared after removing one trailing newline (the Enter that submits a command).

- ``trace_match`` (per episode): the keystrokes of the episode's parsed actions, in order, equal
  the solution's commands, and the last turn parsed and set ``task_complete``.
- ``turn_match_rate`` (per turn): turns aligned by index with the reference; a turn scores 1 if it
  parsed, agrees on ``task_complete`` and its keystrokes equal the reference turn's. The
  denominator is the longer of the two traces, so extra turns and missing turns both count
  against it.
- ``first_miss`` (per set): how many episodes first leave the reference trace at turn 1, 2, ...
  (``none``: never); it tells a model that cannot start a task from one that loses its way.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Sequence

from termcorpus.agents.oracle import OracleAgent
from termcorpus.records import Task, Trajectory, Turn

DIGITS = 4


@dataclass(frozen=True)
class EpisodeResult:
    """One evaluated episode: its trajectory, and whether it ended early because the context was
    full (``context_ended``) or after too many unparseable replies in a row (``parse_ended``)."""

    trajectory: Trajectory
    context_ended: bool = False
    parse_ended: bool = False


def episode_record(agent: str, trial: int, task: Task, sets: Sequence[str], result: EpisodeResult) -> dict[str, Any]:
    """One line of ``reports/eval_episodes.jsonl``: how one agent's episode on one task ended and
    the commands it typed, turn by turn (None for a reply that did not parse), so two runs can be
    compared task by task."""
    tr = result.trajectory
    return {
        "agent": agent, "task_id": task.id, "sets": list(sets), "trial": trial, "passed": tr.passed,
        "reward": tr.reward, "n_turns": tr.n_turns, "context_ended": result.context_ended,
        "parse_ended": result.parse_ended,
        "commands": [[c.keystrokes for c in t.action.commands] if t.action is not None else None for t in tr.turns],
    }


def _keys(keystrokes: str) -> str:
    return keystrokes[:-1] if keystrokes.endswith("\n") else keystrokes


def reference_trace(task: Task) -> list[tuple[list[str], bool]]:
    """``[(keystrokes, task_complete)]`` per reference turn: the oracle teacher's turns."""
    oracle = OracleAgent()
    trace = []
    for step in range(len(task.solution) + 1):
        a = oracle.action_for(task, step)
        trace.append(([_keys(c.keystrokes) for c in a.commands], a.task_complete))
        if a.task_complete:
            break
    return trace


def trace_match(turns: Sequence[Turn], solution: Sequence[str]) -> bool:
    """Did the episode type exactly the solution, in order, and declare completion at the end?"""
    if not turns or turns[-1].action is None or not turns[-1].action.task_complete:
        return False
    typed = [_keys(c.keystrokes) for t in turns if t.action is not None for c in t.action.commands]
    return typed == [_keys(c) for c in solution]


def _same_turn(turn: Turn, ref: tuple[list[str], bool]) -> bool:
    a = turn.action
    return a is not None and a.task_complete == ref[1] and [_keys(c.keystrokes) for c in a.commands] == ref[0]


def _compare(turns: Sequence[Turn], ref: Sequence[tuple[list[str], bool]]) -> tuple[int, int, int | None]:
    """``(matching turns, compared turns, first miss)`` of an episode against a reference trace."""
    same = [_same_turn(t, r) for t, r in zip(turns, ref)]
    compared = max(len(turns), len(ref))
    for i, ok in enumerate(same):
        if not ok:
            return sum(same), compared, i + 1
    # every aligned turn matched: a missing or an extra turn is the first miss, if there is one
    return sum(same), compared, len(same) + 1 if len(same) < compared else None


def turn_matches(turns: Sequence[Turn], task: Task) -> tuple[int, int]:
    """``(matching turns, compared turns)`` against the reference trace, aligned by index."""
    return _compare(turns, reference_trace(task))[:2]


def first_miss(turns: Sequence[Turn], task: Task) -> int | None:
    """The 1-based number of the first turn that differs from the reference turn of the same index
    (a missing or an extra turn differs too); None when the episode is the reference trace."""
    return _compare(turns, reference_trace(task))[2]


def _rate(num: float, den: float) -> float:
    return round(num / den, DIGITS) if den else 0.0


def _cells(counts: dict[str, list[int]], trials: int) -> dict[str, dict[str, float]]:
    return {k: {"n": c[0] // trials, "success_rate": _rate(c[1], c[0]), "trace_match": _rate(c[2], c[0])}
            for k, c in sorted(counts.items())}


def success_stats(rates: Sequence[float]) -> tuple[float, float]:
    """``(mean, standard error of the mean)`` of per-trial success rates (stderr 0 for one trial)."""
    k = len(rates)
    mean = sum(rates) / k
    if k < 2:
        return mean, 0.0
    var = sum((r - mean) ** 2 for r in rates) / (k - 1)
    return mean, math.sqrt(var / k)


def summarize(
    tasks: Sequence[Task], results: Sequence[EpisodeResult], *, trials: int = 1, sampled: bool = False
) -> dict[str, object]:
    """Metrics of one agent on one set.

    ``results`` holds ``trials`` runs of the tasks, trial after trial: ``results[k * len(tasks) +
    i]`` is run ``k`` of ``tasks[i]``. ``success_rate`` is the mean over trials of each trial's
    success rate and ``success_stderr`` its standard error (``success_by_trial`` lists the trial
    rates when there are several). With one trial the stderr is 0.0 for greedy decoding (a rerun
    gives the same replies) and ``None`` when ``sampled`` (unknown: run more trials). Every other
    rate pools all episodes; ``n`` counts tasks, ``context_ended`` and ``parse_ended`` episodes. ``by_domain``,
    ``by_skill`` and ``by_steps`` (:func:`n_steps`) give ``{n tasks, success_rate, trace_match}``;
    a task counts once under each of its skills.
    An empty set reports only ``n: 0`` (no rates: there is nothing to divide by).
    """
    if trials < 1:
        raise ValueError(f"trials must be >= 1, got {trials}")
    if len(tasks) * trials != len(results):
        raise ValueError(f"{len(tasks)} tasks x {trials} trials but {len(results)} results")
    n = len(tasks)
    if n == 0:
        return {"n": 0}
    reward = turns_total = parsed = exact = turn_hits = turn_den = ctx = bad = 0
    per_trial = [0] * trials
    by_domain: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    by_skill: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    by_steps: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    misses: dict[int | None, int] = defaultdict(int)
    for k, res in enumerate(results):
        task = tasks[k % n]
        tr = res.trajectory
        per_trial[k // n] += tr.passed
        reward += tr.reward
        turns_total += len(tr.turns)
        parsed += sum(t.action is not None for t in tr.turns)
        matched = trace_match(tr.turns, task.solution)
        exact += matched
        h, d, first = _compare(tr.turns, reference_trace(task))  # one reference trace per episode
        turn_hits += h
        turn_den += d
        misses[first] += 1
        ctx += res.context_ended
        bad += res.parse_ended
        for cell in (by_domain[task.domain], by_steps[str(n_steps(task))],
                     *(by_skill[skill] for skill in sorted(set(task.skills)))):
            cell[0] += 1
            cell[1] += tr.passed
            cell[2] += matched
    episodes = n * trials
    mean, stderr = success_stats([p / n for p in per_trial])
    out: dict[str, object] = {
        "n": n,
        "trials": trials,
        "success_rate": round(mean, DIGITS),
        "success_stderr": None if (sampled and trials == 1) else round(stderr, DIGITS),
    }
    if trials > 1:
        out["success_by_trial"] = [_rate(p, n) for p in per_trial]
    out.update({
        "mean_reward": _rate(reward, episodes),
        "valid_json_rate": _rate(parsed, turns_total),
        "trace_match": _rate(exact, episodes),
        "turn_match_rate": _rate(turn_hits, turn_den),
        "first_miss": {str(k or "none"): misses[k] for k in sorted(misses, key=lambda k: k or math.inf)},
        "mean_turns": _rate(turns_total, episodes),
        "context_ended": ctx,
        "parse_ended": bad,
        "by_domain": _cells(by_domain, trials),
        "by_skill": _cells(by_skill, trials),
        "by_steps": dict(sorted(_cells(by_steps, trials).items(), key=lambda kv: int(kv[0]))),
    })
    return out


def n_steps(task: Task) -> int:
    """A task's number of steps: the blocks a skill composition chains (one skill each), else its
    reference solution's commands."""
    if task.source == "skill" and len(task.skills) > 1:
        return len(task.skills)
    return len(task.solution)


# What `dvc metrics show` gets: one file per agent, ``metrics/eval/<agent>.json``, whose keys are
# the evaluation sets' short names (success rate on each) and ``valid_json`` (the lowest valid
# Terminus-2 JSON rate of the sets). Rows are agents and columns are sets, so three agents share
# the same few columns. Everything else (set sizes, trace match, per domain / number of steps /
# skill, user task folders one by one) is in reports/eval_detail.json.
HEADLINE_SETS: dict[str, str] = {
    "heldout_variants": "variants",
    "heldout_compositions": "compositions",
    "heldout_compositions_novel_pairs": "novel_pairs",
    "heldout_families": "families",
    "novel_names": "novel_names",
    "extra": "extra",  # the union of evaluate.extra_tasks folders, when there are any
}
DETAIL_TABLES = ("by_domain", "by_steps", "by_skill")


def agent_headline(per_set: dict[str, dict[str, Any]]) -> dict[str, float]:
    """An agent's line of ``dvc metrics show``: success per set (short names; sets with no task
    left out) and the lowest valid-JSON rate of those sets."""
    scored = {s: m for s, m in per_set.items() if s in HEADLINE_SETS and m.get("n", 0) and "success_rate" in m}
    out: dict[str, float] = {HEADLINE_SETS[s]: m["success_rate"] for s, m in scored.items()}
    rates = [m["valid_json_rate"] for m in scored.values() if "valid_json_rate" in m]
    if rates:
        out["valid_json"] = min(rates)
    return dict(sorted(out.items()))


def split_detail(metrics: dict[str, object], agents: Sequence[str]) -> tuple[dict[str, dict[str, float]], dict[str, object]]:
    """``(headlines, detail)`` of ``evaluate_model``'s metrics: ``headlines[agent]`` is the
    agent's metrics file (``agent_headline``; nothing that varies between identical runs, such
    as elapsed time); the detail has everything per set, per domain, per number of steps and
    per skill, plus the set sizes (``sets``) and the model names."""
    headlines: dict[str, dict[str, float]] = {}
    detail: dict[str, object] = {k: metrics[k] for k in ("sets", "models") if k in metrics}
    for agent in agents:
        per_set = metrics.get(agent)
        if not isinstance(per_set, dict):
            continue
        headlines[agent] = agent_headline(per_set)
        detail[agent] = per_set
    return headlines, detail


PLOT_COLUMNS = ("domain", "agent", "set", "success_rate")


def domain_rows(metrics: dict[str, object], agents: Sequence[str], sets: Sequence[str]) -> list[tuple[str, str, str, float]]:
    """Rows of ``plots/eval_by_domain.csv``: one per (agent, set, domain) with at least one task."""
    rows = []
    for agent in agents:
        per_set = metrics.get(agent, {})
        for s in sets:
            table = per_set.get(s, {}).get("by_domain", {}) if isinstance(per_set, dict) else {}
            for domain, cell in sorted(table.items()):
                rows.append((domain, agent, s, cell["success_rate"]))
    return rows
