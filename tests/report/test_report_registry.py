"""The corpus data registry of docs/EXPERIMENTS.md, for real: a local DVC remote, `dvc push` / `dvc pull`,
and `dvc get` / `dvc import` of `data/corpus` at the git tag `corpus-v1` from another repository."""

from __future__ import annotations

import shutil

import pytest
import yaml

pytestmark = [pytest.mark.integration, pytest.mark.slow]

STAGE = """\
import pathlib, yaml
p = yaml.safe_load(open("params.yaml"))
out = pathlib.Path("data/corpus")
out.mkdir(parents=True, exist_ok=True)
(out / "train.jsonl").write_text(f'{{"version": {p["balance"]["seed"]}}}\\n')
(out / "README.md").write_text("# toy corpus\\n")
"""
DVC_YAML = """\
stages:
  balance:
    cmd: python stage.py
    deps: [stage.py]
    params: [balance.seed]
    outs: [data/corpus]
"""


def test_corpus_version_round_trips_through_a_local_remote_and_a_git_tag(dvc_repo, new_repo, tmp_path):
    src = dvc_repo
    remote = tmp_path / "remote"
    src.write("stage.py", STAGE)
    src.write("dvc.yaml", DVC_YAML)
    src.write("params.yaml", "balance:\n  seed: 1\n")
    src.dvc("remote", "add", "-d", "local", str(remote))  # the documented one-liner (S3/GCS: an s3:// or gs:// URL)
    src.dvc("repro", "-q")
    src.commit("corpus v1")
    src.sh("git", "tag", "corpus-v1")
    src.dvc("push", "-q")
    tag_rev = src.sh("git", "rev-parse", "corpus-v1").stdout.strip()

    # a newer corpus on main: consumers pinned to the tag must still get v1
    src.write("params.yaml", "balance:\n  seed: 2\n")
    src.dvc("repro", "-q")
    src.commit("corpus v2")
    src.dvc("push", "-q")

    # dvc pull restores the data from the remote alone
    shutil.rmtree(src.path / ".dvc" / "cache")
    shutil.rmtree(src.path / "data" / "corpus")
    src.dvc("pull", "-q")
    assert (src.path / "data/corpus/train.jsonl").read_text() == '{"version": 2}\n'
    shutil.rmtree(src.path / ".dvc" / "cache")  # from here on only the remote holds the data

    # another project imports the tagged version (and records where it came from)
    consumer = new_repo("consumer")
    (consumer.path / "data").mkdir()  # dvc import -o needs the parent directory
    consumer.dvc("import", str(src.path), "data/corpus", "--rev", "corpus-v1", "-o", "data/corpus")
    assert (consumer.path / "data/corpus/train.jsonl").read_text() == '{"version": 1}\n'
    lock = yaml.safe_load((consumer.path / "data/corpus.dvc").read_text())
    assert lock["deps"][0]["repo"]["rev"] == "corpus-v1"
    assert lock["deps"][0]["repo"]["rev_lock"] == tag_rev

    # dvc get: a plain download, no DVC project needed on the receiving side
    plain = tmp_path / "plain"
    plain.mkdir()
    src.dvc("get", str(src.path), "data/corpus", "--rev", "corpus-v1", "-o", str(plain / "corpus"))
    assert (plain / "corpus/train.jsonl").read_text() == '{"version": 1}\n'
