"""Entry-point helpers: our DVC md5 equals what `dvc add` records."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from termcorpus.runtime import dvc_md5


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
