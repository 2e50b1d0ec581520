"""The Terminus-2 JSON protocol: render and parse actions, write the user-side messages.

An assistant turn is one JSON object ``{"analysis", "plan", "commands": [{"keystrokes",
"duration"}], "task_complete"}``. :func:`render_action` writes the canonical form (that key
order, compact separators) that training targets use and :func:`observation_message` the user
message after it (both defined in termcorpus.records, which the train layer may import too); :func:`parse_action` reads what a model
actually wrote, tolerating code fences and chatter around the object, and explains what is
wrong instead of raising: a malformed reply becomes the next observation.

Two prompt styles: ``compact`` (one short line, for a tiny model with a 512-token context)
and ``terminus2`` (full instructions in the spirit of the Terminus-2 agent, our own wording).
The observation format is compact in both: ``$ command`` then its output.
"""

from __future__ import annotations

from termcorpus.jsonobj import first_json_object
# The protocol's writers live with the records they write (the train layer writes turns too);
# re-exported here, where agents look for them.
from termcorpus.records import Action, Command, observation_message, render_action  # noqa: F401

PROMPT_STYLES = ("compact", "terminus2")
MAX_DURATION_SEC = 600.0  # the Command record's upper bound


def _as_bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def parse_action(text: str) -> tuple[Action | None, str | None]:
    """Parse one assistant reply: ``(action, None)`` or ``(None, what is wrong)``.

    Tolerated: code fences, text before/after the object, ``task_complete`` as "true"/"false",
    a missing ``duration`` (1.0) or ``task_complete`` (false), extra keys. Durations are
    clamped to [0, 600] seconds.
    """
    obj, err = first_json_object(text)
    if obj is None:
        return None, err
    for key in ("analysis", "plan"):
        if key in obj and not isinstance(obj[key], str):
            return None, f"'{key}' must be a string"
    if "commands" not in obj:
        return None, "missing required field 'commands' (a list, may be empty)"
    raw_cmds = obj["commands"]
    if not isinstance(raw_cmds, list):
        return None, "'commands' must be a list of {\"keystrokes\", \"duration\"} objects"
    commands: list[Command] = []
    for i, c in enumerate(raw_cmds):
        if not isinstance(c, dict):
            return None, f"commands[{i}] must be an object with 'keystrokes'"
        keys = c.get("keystrokes")
        if not isinstance(keys, str):
            return None, f"commands[{i}].keystrokes must be a string"
        duration = c.get("duration", 1.0)
        if isinstance(duration, bool) or not isinstance(duration, (int, float)):
            return None, f"commands[{i}].duration must be a number of seconds"
        duration = min(max(float(duration), 0.0), MAX_DURATION_SEC)
        if duration != duration:  # NaN
            return None, f"commands[{i}].duration must be a number of seconds"
        commands.append(Command(keystrokes=keys, duration=duration))
    complete = _as_bool(obj.get("task_complete", False))
    if complete is None:
        return None, "'task_complete' must be true or false"
    action = Action(
        analysis=obj.get("analysis", ""), plan=obj.get("plan", ""), commands=commands,
        task_complete=complete,
    )
    return action, None


def first_user_message(instruction: str, style: str = "compact") -> str:
    """The opening user message: protocol instructions + the task."""
    if style == "compact":
        return (
            'Reply with JSON {"analysis","plan","commands":[{"keystrokes","duration"}],"task_complete"}.\n'
            f"Task: {instruction.strip()}"
        )
    if style == "terminus2":
        return _TERMINUS2_PROMPT.format(instruction=instruction.strip())
    raise ValueError(f"unknown prompt style {style!r}; expected one of {', '.join(PROMPT_STYLES)}")


_TERMINUS2_PROMPT = """\
You are an AI assistant working in a Linux terminal. You are given a task; you solve it by \
sending batches of shell commands to a bash session and reading what they print.

Answer every turn with exactly one JSON object and nothing else:

{{
  "analysis": "What the last output shows: what is already done, what is wrong or missing.",
  "plan": "What you will do next, and why these commands.",
  "commands": [
    {{"keystrokes": "ls -la\\n", "duration": 0.5}},
    {{"keystrokes": "cd project\\n", "duration": 0.1}}
  ],
  "task_complete": false
}}

Fields:
- "analysis": your reading of the current state of the terminal and the files.
- "plan": the next steps you are about to take.
- "commands": the commands to run now, in order. "keystrokes" is sent to the shell as \
written: end each command with "\\n" so that it runs. "duration" is how many seconds you \
expect it to need (0.1 for quick commands such as cd, ls or cat; more for builds, installs \
or tests). A command is stopped if it runs past the time limit.
- "task_complete": true only when the task is fully solved and checked; your work is then \
graded. An empty "commands" list with "task_complete": true ends the episode.

Rules:
- The shell keeps its state (working directory, variables) between commands.
- Commands cannot read from the keyboard: do not start interactive programs or editors \
(vim, nano, less, a bare python); write files with shell redirection or heredocs instead.
- There is no network access.
- Long outputs are cut in the middle; filter them with head, tail or grep.

Task description:
{instruction}

Current terminal state:
agent@sandbox:/app$
"""


def parse_error_message(error: str) -> str:
    """The observation shown after a reply that did not parse."""
    return (
        f"ERROR: your reply could not be parsed ({error}). Reply with one JSON object "
        '{"analysis","plan","commands":[{"keystrokes","duration"}],"task_complete"}.'
    )
