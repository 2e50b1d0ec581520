"""Terminal-Bench 1 import: a small hand-written TB1 task directory, its replay and its tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from termcorpus.errors import DataError
from termcorpus.records import Lineage, Task
from termcorpus.tasks.interop import LITE_RUNNER, import_task_dir

TEST_OUTPUTS = '''\
import os
from pathlib import Path

import pytest


@pytest.fixture
def count_file():
    yield Path("/app/count.txt")


def test_count_exists(count_file):
    assert count_file.exists()


@pytest.mark.parametrize("expected", [5])
def test_count_value(count_file, expected):
    assert int(count_file.read_text().strip()) == expected


def test_env_and_tmp_path(tmp_path):
    (tmp_path / "x").write_text("y")
    assert os.environ.get("GREETING") == "hello world"


class TestData:
    def test_extra_copied(self):
        with pytest.raises(FileNotFoundError):
            open("/app/nope")
        assert Path("/app/data/extra.txt").read_text() == "x\\n"
'''


def make_tb1(root: Path, *, solution_yaml: bool = False) -> Path:
    d = root / "count-words"
    (d / "tests").mkdir(parents=True)
    (d / "data").mkdir()
    (d / "task.yaml").write_text(
        "instruction: |-\n  Count the words in /app/words.txt and write the number to /app/count.txt.\n"
        "author_email: someone@example.com\ndifficulty: easy\ncategory: file-operations\n"
        "tags:\n  - counting\n  - wc\nparser_name: pytest\nmax_agent_timeout_sec: 180\nmax_test_timeout_sec: 30\n")
    (d / "Dockerfile").write_text(
        "FROM ghcr.io/example/python-3-11:latest\n# working directory\nWORKDIR /app\n"
        'ENV GREETING="hello world" \\\n    MODE=test\nCOPY words.txt /app/words.txt\nCOPY data/ ./data/\n'
        "RUN pip install --no-cache-dir \\\n      requests\nRUN cat > /app/gen.txt <<EOT\nline\nEOT\n")
    (d / "docker-compose.yaml").write_text(
        "services:\n  client:\n    build:\n      dockerfile: Dockerfile\n"
        "    image: ${T_BENCH_TASK_DOCKER_CLIENT_IMAGE_NAME}\n")
    (d / "words.txt").write_text("one two three\nfour five\n")
    (d / "data/extra.txt").write_text("x\n")
    if solution_yaml:
        (d / "solution.yaml").write_text(
            "- command: wc -w < words.txt > /tmp/n\n  min_timeout_sec: 1\n  block: true\n  append_enter: true\n"
            "- command: tr -d ' ' < /tmp/n > count.txt\n")
    else:
        (d / "solution.sh").write_text("#!/bin/bash\nset -e\nwc -w < words.txt | tr -d ' ' > count.txt\nexit 0\n")
    (d / "run-tests.sh").write_text("#!/bin/bash\nuv run pytest $TEST_DIR/test_outputs.py -rA\n")
    (d / "tests/test_outputs.py").write_text(TEST_OUTPUTS)
    return d


def test_task_yaml_and_dockerfile_are_replayed(tmp_path):
    notes: list[str] = []
    t = import_task_dir(make_tb1(tmp_path), notes=notes)
    assert (t.id, t.family, t.source, t.domain) == ("count-words", "count-words", "import", "file_operations")
    assert t.skills == ["counting", "wc"] and t.difficulty == "easy"
    assert t.instruction.startswith("Count the words") and t.environment.timeout_sec == 30.0
    assert t.environment.image == "ghcr.io/example/python-3-11:latest" and t.environment.workdir == "/app"
    assert t.files == {"words.txt": "one two three\nfour five\n", "data/extra.txt": "x\n"}
    assert t.solution[0] == "export GREETING='hello world' MODE=test"
    assert t.solution[1].startswith("bash <<'") and "set -e" in t.solution[1]
    assert set(t.tests) == {"test.sh", "test_outputs.py", "run-tests.sh", LITE_RUNNER}
    assert "python3 -m pytest" in t.tests["test.sh"] and "pytest is not installed" in t.tests["test.sh"]
    assert len([n for n in notes if "RUN not replayed" in n]) == 2  # the heredoc body is not a line


def test_solution_yaml_gives_one_command_per_step(tmp_path):
    t = import_task_dir(make_tb1(tmp_path, solution_yaml=True))
    assert t.solution[1:] == ["wc -w < words.txt > /tmp/n", "tr -d ' ' < /tmp/n > count.txt"]


def test_bad_solution_yaml_names_the_step(tmp_path):
    d = make_tb1(tmp_path, solution_yaml=True)
    (d / "solution.yaml").write_text("- command: ls\n- keys: 42\n")
    with pytest.raises(DataError, match=r"solution\.yaml: step 1: expected a mapping with a 'command'"):
        import_task_dir(d)


def test_compose_context_outside_the_task_is_refused(tmp_path):
    d = make_tb1(tmp_path)
    (d / "docker-compose.yaml").write_text("services:\n  client:\n    build:\n      context: ..\n")
    with pytest.raises(DataError, match="outside the task"):
        import_task_dir(d)


def test_missing_instruction_is_reported(tmp_path):
    d = make_tb1(tmp_path)
    (d / "task.yaml").write_text("difficulty: easy\n")
    with pytest.raises(DataError, match="no 'instruction'"):
        import_task_dir(d)


def _episode(task: Task, agent):  # type: ignore[no-untyped-def]
    from termcorpus.execute.episode import run_episode
    from termcorpus.sandbox import SandboxConfig

    cfg = SandboxConfig(backend="bwrap", timeout_sec=10.0, memory_mb=512, max_procs=64)
    return run_episode(task, agent, cfg, max_turns=len(task.solution) + 1, prompt_style="compact",
                       lineage=Lineage(task_digest=task.digest()))


@pytest.mark.integration
def test_imported_tb1_task_passes_with_oracle_and_fails_with_null(tmp_path):
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed")
    from termcorpus.agents import NullAgent, OracleAgent

    for solution_yaml in (False, True):
        t = import_task_dir(make_tb1(tmp_path / str(solution_yaml), solution_yaml=solution_yaml))
        good = _episode(t, OracleAgent())
        assert good.passed, good.verifier_output
        out = good.verifier_output
        # whichever runner the sandbox has, all four tests ran and passed
        assert ("4 passed" in out) or ("termcorpus-lite: 4 passed, 0 failed" in out), out
        assert not _episode(t, NullAgent()).passed


def test_lite_runner_reports_unknown_fixtures_and_failures(tmp_path):
    import subprocess
    import sys

    from termcorpus.tasks.interop import PYTEST_LITE

    (tmp_path / LITE_RUNNER).write_text(PYTEST_LITE)
    (tmp_path / "test_x.py").write_text(
        "import pytest\n\ndef test_ok():\n    assert 1 == pytest.approx(1.0000000001)\n\n"
        "def test_needs_db(database):\n    pass\n\ndef test_wrong():\n    assert 2 + 2 == 5\n\n"
        "@pytest.mark.skipif(True, reason='no')\ndef test_skipped():\n    assert False\n")
    r = subprocess.run([sys.executable, str(tmp_path / LITE_RUNNER), str(tmp_path / "test_x.py")],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 1
    assert "PASSED test_x.py::test_ok" in r.stdout
    assert "fixture 'database' is not available without pytest" in r.stdout
    assert "FAILED test_x.py::test_wrong: AssertionError" in r.stdout
    assert "termcorpus-lite: 1 passed, 2 failed, 1 skipped" in r.stdout
