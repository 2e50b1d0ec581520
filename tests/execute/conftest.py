"""Small hand-written tasks for episode, verifier and pool tests."""

import pytest

from termcorpus.records import Task
from termcorpus.sandbox import SandboxConfig

REWARD_TEST = (
    "#!/bin/bash\n"
    'if [ "$(cat /app/count.txt 2>/dev/null)" = "3" ]; then echo 1 > /logs/verifier/reward.txt; '
    "else echo 0 > /logs/verifier/reward.txt; fi\n"
)


def make_task(i: int = 0, n_lines: int = 3) -> Task:
    return Task(
        id=f"count-lines-{i}", family="count-lines", source="seed", domain="file_operations",
        skills=["wc"], instruction="Count the lines of /app/data.txt; write the number to /app/count.txt.",
        files={"data.txt": "x\n" * n_lines},
        solution=["wc -l < data.txt > count.txt", "cat count.txt"],
        tests={"test.sh": REWARD_TEST.replace('"3"', f'"{n_lines}"')},
        slots={"n": str(n_lines)},
    )


@pytest.fixture
def tasks() -> list[Task]:
    return [make_task(i, n_lines=2 + i % 3) for i in range(6)]


@pytest.fixture
def task() -> Task:
    return make_task()


@pytest.fixture
def config() -> SandboxConfig:
    return SandboxConfig(backend="bwrap", timeout_sec=5.0, memory_mb=512, max_procs=64, max_output_bytes=2048)
