"""The pool: task order, byte-identical reruns, resume from the journal, teacher errors."""

import json
import shutil

import pytest

from termcorpus.errors import ConfigError, DataError
from termcorpus.execute.pool import _fingerprint, execute_tasks
from termcorpus.params import ExecuteParams

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(shutil.which("bwrap") is None, reason="bwrap not installed")]

def _params(**kw):
    return ExecuteParams(**{"workers": 2, "timeout_sec": 5.0, "memory_mb": 512, **kw})


def test_two_runs_give_identical_bytes_in_task_order(tmp_path, tasks):
    a, b = tmp_path / "a" / "t.jsonl", tmp_path / "b" / "t.jsonl"
    m = execute_tasks(tasks, params=_params(), seeds_digest="s", git_rev="g", out_path=a)
    execute_tasks(tasks, params=_params(workers=1), seeds_digest="s", git_rev="g", out_path=b)
    assert a.read_bytes() == b.read_bytes()
    ids = [json.loads(line)["task_id"] for line in a.read_text().splitlines()]
    assert ids == [t.id for t in tasks]
    assert (m["n_tasks"], m["n_passed"], m["pass_rate"], m["workers"]) == (6, 6, 1.0, 2)
    assert m["tasks_per_sec"] > 0
    assert not (tmp_path / "a" / "t.jsonl.journal").exists()


def test_resume_skips_journaled_tasks(tmp_path, tasks):
    full = tmp_path / "full.jsonl"
    execute_tasks(tasks[:3], params=_params(workers=1), seeds_digest="s", git_rev="g", out_path=full)
    out = tmp_path / "out" / "t.jsonl"
    out.parent.mkdir()
    lines = full.read_text().splitlines()
    header = json.dumps({"fingerprint": _fingerprint(_params(workers=1), "s", "g")})
    # The second line is cut short, as a crash would leave it.
    (out.parent / "t.jsonl.journal").write_text(header + "\n" + lines[0] + "\n" + lines[1][:50])
    m = execute_tasks(tasks[:3], params=_params(), seeds_digest="s", git_rev="g", out_path=out)
    assert m["n_resumed"] == 1
    assert out.read_bytes() == full.read_bytes()


def test_journal_from_other_params_is_ignored(tmp_path, tasks):
    out = tmp_path / "t.jsonl"
    execute_tasks(tasks[:1], params=_params(workers=1), seeds_digest="s", git_rev="g", out_path=out)
    header = json.dumps({"fingerprint": _fingerprint(_params(workers=1), "s", "g")})
    (tmp_path / "t.jsonl.journal").write_text(header + "\n" + out.read_text())
    m = execute_tasks(tasks[:1], params=_params(workers=1, max_turns=4), seeds_digest="s",
                      git_rev="g", out_path=out)
    assert m["n_resumed"] == 0


def test_openai_teacher_without_endpoint_is_a_config_error(tmp_path, tasks):
    with pytest.raises(ConfigError, match="needs 'execute.teacher_base_url'"):
        execute_tasks(tasks[:1], params=_params(teacher="openai"), seeds_digest="", git_rev="",
                      out_path=tmp_path / "t.jsonl")


def test_duplicate_task_ids_are_a_data_error(tmp_path, tasks):
    with pytest.raises(DataError, match="duplicate task id"):
        execute_tasks([tasks[0], tasks[0]], params=_params(), seeds_digest="", git_rev="",
                      out_path=tmp_path / "t.jsonl")
