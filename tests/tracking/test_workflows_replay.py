"""Replay each workflow step's command line under a runner-like environment, in a temp clone.

What "runner-like" means here: ``env -i`` with the PATH of GitHub's ubuntu-24.04 image (plus the
set-up Python's directory first, as actions/setup-python does, and each ``$GITHUB_PATH`` line an
earlier step appended), the workflow's and step's ``env:``, GITHUB_* files, and a non-root uid
(``setpriv`` to an unused uid, as the runner user is not root) owning the clone and HOME. Where
the venv's interpreter is unreachable for such a uid (see ``_setpriv``), the current user.

What is really run and what is only checked (honestly, to keep the test cheap):

* root-only steps (every command under an explicit ``sudo``: apt-get, sysctl, the docker base
  image) are not run; the test checks that they are the only steps using sudo;
* ``make setup`` is run for real, against a ``.venv`` linked to the test's own venv (its
  pyproject stamp matches, so setup.sh skips the pip install; it still checks bwrap, the preset
  and git, as the non-root user);
* expensive steps (``make test``, ``dvc exp run`` of the tiny pipeline, ``termcorpus report``,
  ``gh pr comment``) are not run: each command line's executables must resolve and be
  executable under the step's PATH as that user; ``make test`` is expanded with ``make -n``
  first, and for the DVC steps the stages' ``python`` must resolve to the venv's interpreter
  (the runner failure of issue 20: sudo's secure_path made it the system python, exit 127).
  ``gh`` is preinstalled on GitHub's runners and not here: its check is skipped when absent.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / ".github" / "workflows"
VENV = Path(sys.executable).parent.parent
RUNNER_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/snap/bin"
RUNNER_UID = 4242  # no such user here: owns nothing else on the machine
# Shell words that are not programs.
BUILTINS = {"echo", "cd", "export", "set", "test", "[", "]", "if", "then", "fi", "else", "for", "do", "done",
            "true", "false", ":", "cat", "mkdir", "local", "exit", "return", "source", ".", "read", "while"}
RUN_FOR_REAL = {"make setup"}  # cheap with the linked venv; everything else is resolved only


_DROP = ["setpriv", f"--reuid={RUNNER_UID}", f"--regid={RUNNER_UID}", "--clear-groups"]


def _setpriv() -> list[str]:
    """The prefix that runs a command as the runner-like non-root uid ([] when that cannot work).

    Where the venv's base interpreter sits in a directory only root may enter (a pyenv under a
    0700 /root, as on the development machine), the uid could not use the venv at all; the
    replay then keeps the current user, still under ``env -i`` and the runner PATH.
    """
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        return []
    probe = subprocess.run([*_DROP, "test", "-x", str(VENV / "bin" / "python")], capture_output=True)
    return _DROP if probe.returncode == 0 else []


def _expr(text: str, python_bin: Path) -> str:
    """Substitute the ${{ ... }} expressions a step uses with runner-like values."""
    subs = {"steps.py.outputs.python-path": str(python_bin / "python"), "github.token": "dummy-token",
            "github.event.pull_request.number": "1"}
    return re.sub(r"\$\{\{\s*([^}]+?)\s*\}\}", lambda m: subs.get(m.group(1), ""), text)


def commands(script: str) -> list[list[str]]:
    """The simple commands of a step's script (heredoc bodies and comments left out)."""
    out, heredoc = [], None
    text = script.replace("\\\n", " ")
    for line in text.splitlines():
        if heredoc is not None:
            if line.strip() == heredoc:
                heredoc = None
            continue
        m = re.search(r"<<-?\s*'?\"?(\w+)", line)
        if m:
            heredoc = m.group(1)
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        line = line.replace("$(", ";")  # a command substitution is a command too
        for part in re.split(r"&&|\|\||\||;", line):
            try:
                words = shlex.split(part.strip())
            except ValueError:
                words = part.split()
            while words and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):
                words.pop(0)  # VAR=value prefixes
            if words:
                out.append(words)
    return out


class Runner:
    def __init__(self, tmp_path: Path):
        self.clone = tmp_path / "work" / "termcorpus"
        self.home = tmp_path / "home"
        self.files = tmp_path / "gh"
        for d in (self.clone.parent, self.home, self.files):
            d.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "clone", "-q", str(REPO), str(self.clone)], check=True, capture_output=True)
        # The working tree's own files (the workflows under test may be uncommitted).
        for rel in (".github/workflows", "Makefile", "scripts", "pyproject.toml"):
            src, dst = REPO / rel, self.clone / rel
            if src.is_dir():
                shutil.copytree(src, dst, dirs_exist_ok=True)
            else:
                shutil.copy2(src, dst)
        (self.clone / ".venv").symlink_to(VENV)
        self.python_bin = Path(os.path.realpath(sys.executable)).parent  # "the set-up Python"
        self.gh_path: list[str] = []
        for name in ("env", "path", "summary"):
            (self.files / name).write_text("")
        if _setpriv():
            for p in (self.clone.parent, self.home, self.files):
                subprocess.run(["chown", "-R", f"{RUNNER_UID}:{RUNNER_UID}", str(p)], check=True)
            os.chmod(tmp_path, 0o755)
            for parent in tmp_path.parents:  # the uid must reach the clone (pytest dirs are 0700)
                if parent == Path("/"):
                    break
                st = parent.stat()
                if not st.st_mode & 0o001:
                    os.chmod(parent, st.st_mode | 0o001)

    def env(self, workflow: dict, step: dict) -> dict[str, str]:
        path = ":".join([*reversed(self.gh_path), str(self.python_bin), RUNNER_PATH])
        env = {"PATH": path, "HOME": str(self.home), "CI": "true", "GITHUB_ACTIONS": "true",
               "GITHUB_WORKSPACE": str(self.clone), "GITHUB_ENV": str(self.files / "env"),
               "GITHUB_PATH": str(self.files / "path"), "GITHUB_STEP_SUMMARY": str(self.files / "summary"),
               "LANG": "C.UTF-8"}
        for scope in (workflow.get("env") or {}, (workflow["_job"].get("env") or {}), step.get("env") or {}):
            env.update({k: _expr(str(v), self.python_bin) for k, v in scope.items()})
        return env

    def sh(self, argv: list[str], env: dict[str, str], timeout: int = 300) -> subprocess.CompletedProcess:
        return subprocess.run([*_setpriv(), "env", "-i", *[f"{k}={v}" for k, v in env.items()], *argv],
                              cwd=self.clone, capture_output=True, text=True, timeout=timeout)

    def absorb_github_path(self) -> None:
        lines = [x for x in (self.files / "path").read_text().splitlines() if x.strip()]
        self.gh_path = lines

    def resolve(self, words: list[str], env: dict[str, str]) -> str | None:
        """None when ``words[0]`` is executable under env's PATH for the runner uid, else why not."""
        exe = words[0]
        if exe in BUILTINS or exe.startswith("$") or "$(" in exe:
            return None
        r = self.sh(["bash", "-c", 'p=$(command -v -- "$1") && test -x "$p" && echo "$p"', "_", exe], env)
        return None if r.returncode == 0 else f"{exe!r} does not resolve under PATH={env['PATH']}"


def _steps():
    for wf_path in sorted(WORKFLOWS.glob("*.yml")):
        wf = yaml.safe_load(wf_path.read_text())
        for job_name, job in (wf.get("jobs") or {}).items():
            wf["_job"], wf["_job_name"] = job, job_name
            for step in job.get("steps", []):
                if "run" in step:
                    yield wf_path.name, wf, step


def test_only_root_setup_steps_use_sudo():
    for name, _wf, step in _steps():
        cmds = commands(step["run"])
        uses_sudo = [c for c in cmds if c[0] == "sudo"]
        if uses_sudo:
            assert "root" in step.get("name", "").lower(), f"{name}: step {step.get('name')!r} uses sudo"
            assert len(uses_sudo) == len(cmds), f"{name}: root step {step.get('name')!r} mixes in non-sudo commands"
            assert not any("-E" in c[:2] for c in uses_sudo), f"{name}: sudo -E keeps the caller's env"


@pytest.mark.integration
def test_replay_workflow_steps_as_a_runner_user(tmp_path):
    runner = Runner(tmp_path)
    replayed: list[str] = []
    current = None
    for name, wf, step in _steps():
        if (name, wf["_job_name"]) != current:  # a new job: a fresh runner (no GITHUB_PATH carried over)
            current, runner.gh_path = (name, wf["_job_name"]), []
            (runner.files / "path").write_text("")
        cmds = commands(step["run"])
        if cmds and all(c[0] == "sudo" for c in cmds):
            replayed.append(f"{name}: {step['name']}: root-only, not run")
            continue
        env = runner.env(wf, step)
        script = _expr(step["run"], runner.python_bin)
        if script.strip().splitlines()[0].strip() in RUN_FOR_REAL:
            r = runner.sh(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], env, timeout=600)
            assert r.returncode == 0, f"{name}: {step['name']} failed ({r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
            runner.absorb_github_path()
            replayed.append(f"{name}: {step['name']}: ran")
            continue
        problems = []
        for words in cmds:
            if words[0] == "gh" and shutil.which("gh") is None:
                continue  # preinstalled on GitHub's runners, not here
            if words[0] == "make":  # expand the recipe and resolve what it would run
                r = runner.sh(["make", "-n", *words[1:]], env)
                assert r.returncode == 0, r.stderr
                for recipe in commands(r.stdout):
                    if recipe[0] != "make":
                        problems.append(runner.resolve(recipe, env))
            problems.append(runner.resolve(words, env))
            if words[0].endswith("/dvc") or words[0] == "dvc":
                # the stages' `python stages/*.py` must be the venv's interpreter under this PATH
                r = runner.sh(["bash", "-c", 'readlink -f "$(command -v python)"'], env)
                want = os.path.realpath(VENV / "bin" / "python")
                assert r.stdout.strip() == want, f"{name}: {step['name']}: stage `python` is {r.stdout.strip()!r}, not the venv's"
        problems = [p for p in problems if p]
        assert not problems, f"{name}: {step['name']}: {problems}"
        replayed.append(f"{name}: {step['name']}: executables resolve")
    print("\n".join(replayed))
    assert any(x.endswith(": ran") for x in replayed)
