"""Terminal-Bench 1 import: a small hand-written TB1 task directory, its environment and its tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from termcorpus.errors import DataError
from termcorpus.records import Lineage, Task
from termcorpus.tasks.interop import import_task_dir

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


def test_task_yaml_and_dockerfile_are_kept_for_the_build(tmp_path):
    import base64

    notes: list[str] = []
    d = make_tb1(tmp_path)
    t = import_task_dir(d, notes=notes)
    assert (t.id, t.family, t.source, t.domain) == ("count-words", "count-words", "import", "file_operations")
    assert t.skills == ["counting", "wc"] and t.difficulty == "easy"
    assert t.instruction.startswith("Count the words") and t.environment.timeout_sec == 30.0
    assert t.environment.image == "ghcr.io/example/python-3-11:latest" and t.environment.workdir == "/app"
    # The environment is the Dockerfile itself plus exactly the context files its COPY steps name
    # (not the tests or the solution, which sit in the same folder).
    assert t.environment.dockerfile == (d / "Dockerfile").read_text()
    assert {k: base64.b64decode(v).decode() for k, v in t.environment.build_context.items()} == {
        "words.txt": "one two three\nfour five\n", "data/extra.txt": "x\n"}
    assert t.files == {} and t.binary_files == {}
    assert len(t.solution) == 1 and t.solution[0].startswith("bash <<'") and "set -e" in t.solution[0]
    assert set(t.tests) == {"test.sh", "test_outputs.py", "run-tests.sh"}
    assert 'pytest -rA -p no:cacheprovider "$TEST_DIR"/test_outputs.py' in t.tests["test.sh"]
    assert "termcorpus_pytest_lite" not in t.tests["test.sh"]
    assert notes == []


def test_solution_yaml_gives_one_command_per_batch(tmp_path):
    t = import_task_dir(make_tb1(tmp_path, solution_yaml=True))
    assert t.solution == ["wc -w < words.txt > /tmp/n", "tr -d ' ' < /tmp/n > count.txt"]


def test_solution_yaml_keys_without_enter_join_the_next_batch_and_non_blocking_runs_in_background(tmp_path):
    d = make_tb1(tmp_path, solution_yaml=True)
    (d / "solution.yaml").write_text(
        "- command: 'echo hel'\n  append_enter: false\n- command: 'lo > a.txt'\n"
        "- command: python3 -m http.server 8000\n  block: false\n  min_timeout_sec: 2\n")
    t = import_task_dir(d)
    assert t.solution[0] == "echo hello > a.txt"
    assert t.solution[1] == "{ python3 -m http.server 8000 ; } >/tmp/termcorpus-bg-2.log 2>&1 &\nsleep 2"


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
        # real pytest ran the four tests (fixtures, parametrize, tmp_path, a class)
        assert "4 passed" in good.verifier_output and "pytest-" in good.verifier_output, good.verifier_output
        assert not _episode(t, NullAgent()).passed
