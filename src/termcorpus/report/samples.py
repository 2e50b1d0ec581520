"""Sample trajectories for the report: a few per domain, as collapsible Markdown blocks.

The choice is deterministic (by trajectory id, passing ones first) so a rerun gives the same
report; long outputs are cut so one sample cannot flood a pull-request comment.
"""

from __future__ import annotations

import html
from collections import defaultdict
from pathlib import Path

from termcorpus.records import Trajectory, iter_jsonl

MAX_OUTPUT_CHARS = 600
MAX_INSTRUCTION_CHARS = 1200


def pick_samples(trajectories: list[Trajectory], per_domain: int) -> list[Trajectory]:
    """Up to ``per_domain`` trajectories of each domain: passing first, then by id."""
    by_domain: dict[str, list[Trajectory]] = defaultdict(list)
    for t in trajectories:
        by_domain[t.domain].append(t)
    picked: list[Trajectory] = []
    for domain in sorted(by_domain):
        ranked = sorted(by_domain[domain], key=lambda t: (not t.passed, t.id))
        picked.extend(ranked[:per_domain])
    return picked


def load_samples(path: Path, per_domain: int) -> list[Trajectory]:
    """Read a trajectories JSONL and pick the samples; no file, no samples."""
    if per_domain <= 0 or not Path(path).exists():
        return []
    return pick_samples(list(iter_jsonl(path, Trajectory)), per_domain)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n... ({len(text) - limit} more characters)"


def _h(text: str) -> str:
    """Text outside code blocks: escape HTML so a task's '<file>' is shown, not parsed."""
    return html.escape(text, quote=False)


def _fence(text: str) -> str:
    """A code fence longer than any backtick run inside ``text``."""
    longest = run = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    return "`" * max(3, longest + 1)


def trajectory_markdown(t: Trajectory) -> str:
    """One trajectory as a ``<details>`` block: instruction, each turn's commands and outputs, verdict."""
    verdict = "PASS" if t.passed else "FAIL"
    lines = [
        "<details>",
        f"<summary><b>{_h(t.domain)}</b> · <code>{_h(t.id)}</code> · {verdict} (reward {t.reward:g}, "
        f"{t.n_turns} turns, agent {_h(t.agent)})</summary>",
        "",
        f"Task `{t.task_id}` · family `{t.family}` · skills: {', '.join(t.skills) or '-'} · {t.difficulty}",
        "",
    ]
    instruction = _h(_cut(t.instruction.strip(), MAX_INSTRUCTION_CHARS))
    lines += ["> " + ln if ln else ">" for ln in instruction.splitlines()]
    lines.append("")
    for i, turn in enumerate(t.turns, 1):
        body: list[str] = []
        if turn.action is None:
            body.append(f"# turn {i}: output did not parse ({turn.parse_error or 'unknown error'})")
        else:
            if turn.action.plan.strip():
                body.append(f"# turn {i}: {turn.action.plan.strip().splitlines()[0]}")
            else:
                body.append(f"# turn {i}")
        for r in turn.results:
            status = "timed out" if r.timed_out else f"exit {r.exit_code}"
            body.append(f"$ {r.keystrokes.rstrip()}    # {status}")
            if r.output.strip():
                body.append(_cut(r.output.rstrip(), MAX_OUTPUT_CHARS))
        if turn.action is not None and turn.action.task_complete:
            body.append("# task_complete: true")
        text = "\n".join(body)
        fence = _fence(text)
        lines += [f"{fence}console", text, fence, ""]
    lines.append(f"**Verdict:** {verdict}, reward {t.reward:g}.")
    if t.verifier_output.strip():
        text = _cut(t.verifier_output.strip(), MAX_OUTPUT_CHARS)
        fence = _fence(text)
        lines += ["", "Verifier output:", "", f"{fence}text", text, fence]
    lines += ["", "</details>", ""]
    return "\n".join(lines)
