"""evaluate.extra: one checked evaluation set per real-task folder; broken tasks are flagged, not scored."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tasks"


def test_set_names_come_from_the_folder():
    from termcorpus.evaluate.extra import set_name

    assert set_name("benchmarks/tb-sample/") == "extra_tb-sample"
    assert set_name("my tasks.v2") == "extra_my_tasks_v2"


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """Two good fixtures, one whose reference solution is wrong, one that cannot be imported."""
    if shutil.which("bwrap") is None or os.geteuid() != 0:
        pytest.skip("needs bwrap and root")
    monkeypatch.setenv("TERMCORPUS_CACHE", os.environ.get("TERMCORPUS_TEST_CACHE") or str(tmp_path / "cache"))
    d = tmp_path / "bench"
    for name in ("tb1/tb-copy-to-root", "harbor/hb-reward-json", "tb1/tb-mkdir-inbox"):
        shutil.copytree(FIXTURES / name, d / Path(name).name)
    (d / "tb-mkdir-inbox" / "solution.sh").write_text("#!/bin/bash\necho 2 > /app/moved.txt\n")
    (d / "broken-toml").mkdir()
    (d / "broken-toml" / "task.toml").write_text("schema_version = \n")
    return d


@pytest.mark.integration
def test_broken_tasks_are_flagged_and_left_out_of_the_set(folder):
    from termcorpus.evaluate.extra import extra_sets
    from termcorpus.sandbox import SandboxConfig

    sets, info = extra_sets([str(folder)], SandboxConfig(backend="bwrap"), sample=lambda pool, name: pool)
    assert sorted(t.id for t in sets["extra_bench"]) == ["hb-reward-json", "tb-copy-to-root"]
    assert sets["extra"] == sets["extra_bench"]
    assert info["extra_bench"]["broken"] == 1 and info["extra_bench"]["refused"] == 1
    assert info["extra_bench"]["n_tasks"] == 2 and info["extra"]["broken"] == 1


@pytest.mark.integration
def test_tasks_check_prints_verdicts_and_a_summary(folder):
    from click.testing import CliRunner

    from termcorpus.cli_tasks import tasks_group

    r = CliRunner().invoke(tasks_group, ["check", str(folder), "--sandbox", "bwrap", "--fast", "--workers", "1"])
    assert r.exit_code == 1, r.output
    rows = {line.split()[0]: line.split() for line in r.output.splitlines() if line.strip()}
    assert rows["tb-copy-to-root"][1:3] == ["pass", "fail"]
    assert rows["tb-mkdir-inbox"][1] == "fail" and "oracle_failed" in " ".join(rows["tb-mkdir-inbox"])
    assert any(line.startswith("refused") and "invalid TOML" in line for line in r.output.splitlines())
    last = r.output.splitlines()[-1]
    assert last.startswith("2/4 task(s) pass the gate") and "1 refused at import" in last and "sandbox bwrap" in last
