"""Small, well-formed trajectories and taxonomies built in code, for tests and examples.

``make_trajectory`` builds a record the way the execute stage does: the first user message is the
task, each assistant message is the Terminus-2 JSON action of one turn, each later user message
the terminal output it produced.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

from termcorpus.records import Action, Command, CommandResult, Lineage, Message, Task, Trajectory, Turn


def make_trajectory(
    id: str,
    *,
    family: str = "fam-a",
    domain: str = "file_operations",
    skills: Sequence[str] = ("find",),
    commands: Sequence[Sequence[str]] = (("ls -la",),),
    instruction: str = "List the files in /app.",
    passed: bool = True,
    source: str = "seed",
    slots: dict[str, str] | None = None,
    **overrides: Any,
) -> Trajectory:
    """A trajectory with one turn per entry of ``commands`` (each a list of keystroke lines)."""
    turns: list[Turn] = []
    messages = [Message(role="user", content=f"Task: {instruction}\nAnswer with one JSON object.")]
    for i, cmds in enumerate(commands):
        last = i == len(commands) - 1
        action = Action(
            analysis=f"step {i + 1}",
            plan="run the next command",
            commands=[Command(keystrokes=k + "\n", duration=0.1) for k in cmds],
            task_complete=last,
        )
        raw = action.model_dump_json()
        results = [CommandResult(keystrokes=k + "\n", output=f"out of {k}", exit_code=0) for k in cmds]
        observation = "\n".join(r.output for r in results)
        turns.append(Turn(action=action, raw=raw, results=results, observation=observation))
        messages.append(Message(role="assistant", content=raw))
        if not last:
            messages.append(Message(role="user", content=f"New terminal output:\n{observation}"))
    data: dict[str, Any] = {
        "id": id,
        "task_id": f"task-{id}",
        "family": family,
        "source": source,
        "domain": domain,
        "skills": list(skills),
        "difficulty": "easy",
        "agent": "oracle",
        "model": "oracle",
        "instruction": instruction,
        "turns": turns,
        "messages": messages,
        "reward": 1.0 if passed else 0.0,
        "passed": passed,
        "n_turns": len(turns),
        "n_commands": sum(len(c) for c in commands),
        "sandbox": "bwrap",
        "slots": dict(slots or {"dir": "/app"}),
        "lineage": Lineage(task_digest=f"digest-{id}", seeds_digest="seeds-1"),
    }
    data.update(overrides)
    return Trajectory.model_validate(data)


def trajectory_of_task(task: Task, id: str | None = None) -> Trajectory:
    """What the oracle teacher records for ``task``: one turn per solution command (no sandbox run)."""
    return make_trajectory(
        id or task.id, family=task.family, domain=task.domain, skills=task.skills,
        commands=[[c] for c in task.solution] or [["true"]], instruction=task.instruction,
        source=task.source, slots=task.slots, task_id=task.id,
    )


def make_taxonomy(domains: Sequence[str] = ("file_operations", "data_processing", "security"),
                  skills: dict[str, str] | None = None) -> dict[str, Any]:
    """A taxonomy.json object: ``{"domains": [...], "skills": [{"id", "domain"}]}``."""
    skills = skills or {"find": "file_operations", "grep": "file_operations", "awk": "data_processing",
                        "sort": "data_processing", "chmod": "security"}
    return {"domains": list(domains), "skills": [{"id": k, "domain": v} for k, v in sorted(skills.items())]}


def trajectory_lines(trajectories: Sequence[Trajectory]) -> str:
    return "".join(t.model_dump_json() + "\n" for t in trajectories)


def taxonomy_json(tax: dict[str, Any]) -> str:
    return json.dumps(tax, indent=2, sort_keys=True) + "\n"
