"""What the first command of each evaluation episode runs, against the task's reference.

    python -m bench.first_turn [REV ...] [--agent finetuned] [--sets heldout_compositions ...]

For each git revision (a commit or an experiment's ref, e.g. ``refs/exps/.../splice-1``;
``workspace`` for the checkout's files) it reads ``reports/eval_episodes.jsonl`` and counts, per
agent and set, episodes whose first command

* is the reference's first command (the same as ``first_miss`` not being 1),
* starts the same program as the reference's first command (``awk``, ``jq``, ``tar``...),
* starts the program of a later step of the same task instead, or
* something else.

Why: ``first_miss`` says where a composed episode leaves the reference; this says whether the
model picked the step's tool and got its arguments wrong, or picked another step's tool. The
program is the first word of the command that is not a ``VAR=value`` prefix, as the oracle's plan
names it (``agents.oracle.program``). Held-out tasks come from ``data/tasks/heldout.jsonl`` of the
checkout (every revision compared must share the held-out sets, as ``dvc exp`` runs of one
commit do).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from termcorpus.agents.oracle import program

REPO = Path(__file__).resolve().parents[1]
EPISODES = "reports/eval_episodes.jsonl"
HELDOUT = "data/tasks/heldout.jsonl"
KINDS = ("same command", "same program", "a later step's program", "other")


def _jsonl(path: str, rev: str, repo: Path = REPO) -> list[dict]:
    """The rows of a JSONL file at ``rev`` (``workspace``: the checkout's file). ``dvc.api`` reads
    git-tracked files (the episodes) and DVC outs (the held-out tasks) alike."""
    if rev == "workspace":
        text = (repo / path).read_text(encoding="utf-8")
    else:
        import dvc.api

        text = dvc.api.read(path, repo=str(repo), rev=rev, encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def heldout(rev: str, repo: Path = REPO) -> dict[str, dict]:
    """The held-out tasks by id at ``rev``."""
    return {t["id"]: t for t in _jsonl(HELDOUT, rev, repo)}


def kind(first: str, solution: list[str]) -> str:
    """Which of ``KINDS`` a first command is, against a task's solution commands."""
    if first.strip() == solution[0].strip():
        return KINDS[0]
    got = program(first)
    if got == program(solution[0]):
        return KINDS[1]
    if got in {program(c) for c in solution[1:]}:
        return KINDS[2]
    return KINDS[3]


def count(episodes: list[dict], tasks: dict[str, dict], agent: str, set_name: str) -> Counter:
    out: Counter = Counter()
    for ep in episodes:
        if ep["agent"] != agent or set_name not in ep["sets"]:
            continue
        turns = ep["commands"]
        first = turns[0][0] if turns and turns[0] else ""
        out[kind(first, tasks[ep["task_id"]]["solution"])] += 1
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("revs", nargs="*", default=["workspace"])
    ap.add_argument("--agent", action="append", default=None, help="finetuned (default) and/or retrieval, base")
    ap.add_argument("--sets", nargs="+", default=["heldout_compositions", "heldout_compositions_novel_pairs"])
    args = ap.parse_args(argv)
    print("| revision | agent | set | " + " | ".join(KINDS) + " |")
    print("|---|---|---|" + "---:|" * len(KINDS))
    for rev in args.revs:
        episodes, tasks = _jsonl(EPISODES, rev), heldout(rev)
        for agent in args.agent or ["finetuned"]:
            for s in args.sets:
                c = count(episodes, tasks, agent, s)
                print(f"| {rev} | {agent} | {s} | " + " | ".join(str(c[k]) for k in KINDS) + " |")


if __name__ == "__main__":
    main()
