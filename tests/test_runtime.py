"""Entry-point helpers: our DVC md5 equals what `dvc add` records; the stage runner's contract."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from termcorpus.errors import DataError
from termcorpus.params import GenerateParams
from termcorpus.runtime import dvc_md5, run_stage


@pytest.mark.integration
def test_dvc_md5_matches_dvc_add(tmp_path):
    env = dict(os.environ, DVC_NO_ANALYTICS="1")
    d = tmp_path / "data"
    (d / "sub").mkdir(parents=True)
    (d / "a.txt").write_text("alpha\n")
    (d / "sub" / "b.bin").write_bytes(bytes(range(256)))
    (d / "z.txt").write_text("crlf\r\nline\r\n")
    dvc = str(Path(sys.executable).parent / "dvc")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run([dvc, "init", "-q"], cwd=tmp_path, check=True, env=env)
    subprocess.run([dvc, "add", "-q", "data"], cwd=tmp_path, check=True, env=env)
    recorded = yaml.safe_load((tmp_path / "data.dvc").read_text())["outs"][0]["md5"]
    assert dvc_md5(d) == recorded


def _stage_fn(*, seeds: Path, out: Path | None = None, params: GenerateParams) -> dict:
    if not seeds.exists():
        raise DataError("file not found", where=str(seeds))
    return {"seeds": seeds, "out": out, "n_variants": params.n_variants}


def test_run_stage_parses_paths_and_params_and_loads_the_section(tmp_path):
    (tmp_path / "p.yaml").write_text("generate:\n  n_variants: 3\n")
    (tmp_path / "s.jsonl").write_text("")
    got = run_stage(_stage_fn, "doc", ["--seeds", str(tmp_path / "s.jsonl"), "--params", str(tmp_path / "p.yaml")],
                    seeds="Seeds.", out="Out.")
    assert got == {"seeds": tmp_path / "s.jsonl", "out": None, "n_variants": 3}


def test_run_stage_turns_a_domain_error_into_one_line_and_exit_2(tmp_path, capsys):
    (tmp_path / "p.yaml").write_text("generate:\n  n_variants: 0\n")
    with pytest.raises(SystemExit) as e:
        run_stage(_stage_fn, "doc", ["--seeds", "x", "--params", str(tmp_path / "p.yaml")], seeds="Seeds.")
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "p.yaml: 'generate.n_variants' must be >= 1, got 0" in err
