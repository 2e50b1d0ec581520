"""The privileged / dangerous command rules shared by curation and validation.

Each rule is a regular expression searched (``re.search``) in the keystrokes a trajectory typed,
plus the reason recorded when it matches. The same list feeds the safety filter (drops and counts
by reason) and the Great Expectations suite (``expect_column_values_to_not_match_regex_list``), so
the gate and the filter can never disagree; a test checks the committed suite carries exactly
these patterns.

Why these: training data teaches a model what to type. A trajectory that escalates privileges,
formats or overwrites a disk, changes the firewall or mounts, powers the machine off, pipes a
download into a shell, or recursively deletes the root would teach exactly what a terminal agent
must never do, even if it happened to pass inside the sandbox.

Rules match commands in *command position* (start of a line or after ``;``, ``&``, ``|``, a
backtick or ``(``) where a bare word would be too broad: ``grep reboot log.txt`` is fine,
``reboot`` is not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Start of a command: line start or a shell separator, then blanks, then an optional wrapper.
# Patterns use (?m) so ^/$ work per line, and avoid look-arounds so that pandas' pyarrow string
# engine (RE2) and Python's re agree on them.
_CMD = r"(?:^|[;&|`(])\s*(?:sudo\s+|exec\s+|nohup\s+)?"


@dataclass(frozen=True)
class Rule:
    reason: str
    pattern: str
    help: str

    def compiled(self) -> re.Pattern[str]:
        return re.compile(self.pattern)


PRIVILEGED_RULES: tuple[Rule, ...] = (
    Rule("sudo", r"(?m)(?:^|[;&|`(])\s*sudo\b", "privilege escalation with sudo"),
    Rule("su", r"(?m)(?:^|[;&|`(])\s*su(?:\s+-\S*|\s+root\b|\s*$)", "switching to another user (su -, su root)"),
    Rule("chmod_root", r"(?m)\bchmod\s+(?:-\S+\s+)*0?777\s+/(?:\s|\*|;|$)", "world-writable root (chmod 777 /)"),
    Rule("setuid", r"\bchmod\s+(?:-\S+\s+)*(?:[ugoa]*\+[rwxXt]*s|0?[2-7][0-7]{3})\b", "setting setuid/setgid bits"),
    Rule("mkfs", r"\bmkfs(?:\.\w+)?\b", "formatting a file system (mkfs)"),
    Rule("dd_device", r"\bdd\b[^\n]*\bof=/dev/(?:sd|hd|vd|xvd|nvme|mmcblk|disk|mapper|loop|mem|kmem|port)", "dd writing to a device"),
    Rule("write_device", r">\s*/dev/(?:sd|hd|vd|xvd|nvme|mmcblk)\w*", "redirecting output onto a block device"),
    Rule("rm_root", r"(?m)\brm\s+(?:-{1,2}[\w-]+\s+)*(?:/\*?|~/?\*?|\$HOME/?\*?)(?:\s|;|&|\||$)",
         "recursive delete of / or the home directory (rm -rf /)"),
    Rule("no_preserve_root", r"--no-preserve-root\b", "disabling rm's root protection"),
    Rule("power", rf"(?m){_CMD}(?:shutdown|reboot|halt|poweroff|init\s+[06])\b",
         "shutting down or rebooting the machine"),
    Rule("mount", rf"(?m){_CMD}u?mount\b", "mounting or unmounting file systems"),
    Rule("firewall", rf"(?m){_CMD}(?:iptables|ip6tables|nft|ufw)\b", "changing the firewall"),
    Rule("kernel_modules", rf"(?m){_CMD}(?:insmod|rmmod|modprobe)\b", "loading kernel modules"),
    Rule("services", rf"(?m){_CMD}(?:systemctl|service)\s", "controlling system services"),
    Rule("pipe_to_shell", r"\b(?:curl|wget)\b[^\n|]*\|\s*(?:sudo\s+)?(?:ba|z|da|k)?sh\b",
         "piping a download into a shell (curl | sh)"),
    Rule("fork_bomb", r":\s*\(\s*\)\s*\{\s*:\s*\|\s*:\s*&\s*\}\s*;\s*:", "fork bomb"),
    Rule("kill_all", r"(?m)\bkill\s+(?:-\S+\s+)*-1\s*(?:$|[;&|])", "killing every process (kill -9 -1)"),
    Rule("credentials", r"/etc/(?:shadow|gshadow|sudoers)\b", "touching system credential files"),
)


def privileged_patterns() -> list[str]:
    """The regex list as the GX suite stores it (same order as the rules)."""
    return [r.pattern for r in PRIVILEGED_RULES]


_COMPILED = tuple((r.reason, r.compiled()) for r in PRIVILEGED_RULES)


def match_privileged(keystrokes: str) -> str | None:
    """The reason of the first rule matching ``keystrokes``, or None when it is clean."""
    for reason, rx in _COMPILED:
        if rx.search(keystrokes):
            return reason
    return None
