"""execute.executor: ray — the same per-task function on a local Ray cluster, the same bytes."""

from __future__ import annotations

import shutil
import sys

import pytest

from termcorpus.errors import DataError, EnvironmentProblem
from termcorpus.execute.pool import _fingerprint, _Job, _run_job, execute_tasks
from termcorpus.execute.ray_executor import ray_imap_unordered
from termcorpus.params import ExecuteParams
from termcorpus.records import Lineage

needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bwrap not installed")


def _params(**kw) -> ExecuteParams:
    return ExecuteParams(**{"workers": 2, "timeout_sec": 5.0, "memory_mb": 512, **kw})


@pytest.mark.slow
@pytest.mark.integration
@needs_bwrap
def test_ray_output_is_byte_identical_to_the_local_pool(tmp_path, tasks):
    pytest.importorskip("ray")
    local, on_ray = tmp_path / "local" / "t.jsonl", tmp_path / "ray" / "t.jsonl"
    m_local = execute_tasks(tasks, params=_params(workers=1), seeds_digest="s", git_rev="g", out_path=local)
    m_ray = execute_tasks(tasks, params=_params(executor="ray"), seeds_digest="s", git_rev="g", out_path=on_ray)
    assert on_ray.read_bytes() == local.read_bytes()
    assert (m_ray["n_tasks"], m_ray["n_passed"]) == (m_local["n_tasks"], m_local["n_passed"]) == (6, 6)
    assert not (tmp_path / "ray" / "t.jsonl.journal").exists()
    import ray

    assert not ray.is_initialized()  # the local cluster it started is gone again


@pytest.mark.slow
@pytest.mark.integration
@needs_bwrap
def test_a_data_error_in_a_ray_worker_arrives_as_itself(task, config):
    pytest.importorskip("ray")
    bad = task.model_copy(update={"binary_files": {"blob.bin": "not base64!"}})
    good = _Job(0, task, "oracle", config, 4, "compact", Lineage(task_digest=task.digest()))
    jobs = [good, _Job(1, bad, "oracle", config, 4, "compact", Lineage(task_digest=bad.digest()))]
    with pytest.raises(DataError, match="not valid base64"):
        for _ in ray_imap_unordered(_run_job, jobs, num_cpus=1):
            pass


def test_executor_choice_does_not_change_the_resume_fingerprint():
    # A run interrupted under one executor resumes under the other from the same journal.
    assert _fingerprint(_params(), "s", "g") == _fingerprint(_params(executor="ray", ray_address="auto"), "s", "g")
    assert _fingerprint(_params(), "s", "g") != _fingerprint(_params(max_turns=3), "s", "g")


def test_missing_ray_is_one_line_environment_problem(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` raise ImportError
    with pytest.raises(EnvironmentProblem, match=r"pip install 'ray==2\.60\.0'"):
        next(ray_imap_unordered(_run_job, []))
