"""The project's own real-task fixtures (tests/fixtures/tasks/{tb1,harbor}): every one imports,
and in the sandbox its oracle passes and the null agent fails.

The fixtures cover: pip install, a compile and mkdir in RUN; COPY to `/`, to absolute paths, into
the WORKDIR, COPY heredocs, --chown/--chmod; a build context from docker-compose.yaml;
solution.yaml keystroke batches; tests that import a module RUN installed; solutions calling
`python`; Harbor's /solution helpers, reward.json and docker_image. Tasks with the same
Dockerfile and context share one cached layer (the cache directory lives for the session).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from termcorpus.records import Lineage

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tasks"
DIRS = sorted(p for layout in ("tb1", "harbor") for p in (FIXTURES / layout).iterdir() if p.is_dir())


def test_there_are_24_fixtures_in_both_layouts():
    assert len([d for d in DIRS if d.parent.name == "tb1"]) >= 12
    assert len([d for d in DIRS if d.parent.name == "harbor"]) >= 12


@pytest.mark.parametrize("d", DIRS, ids=lambda d: d.name)
def test_fixture_imports_with_its_dockerfile(d):
    from termcorpus.tasks.interop import import_task_dir

    t = import_task_dir(d)
    assert t.source == "import" and t.environment.dockerfile.startswith(("FROM", "#"))
    assert t.solution and "test.sh" in t.tests


@pytest.fixture(scope="session")
def layer_cache(tmp_path_factory):
    """One layer cache for the whole run, so identical Dockerfiles build once."""
    if shutil.which("bwrap") is None or os.geteuid() != 0:
        pytest.skip("building task environments needs bwrap and root (overlay mounts)")
    old = os.environ.get("TERMCORPUS_CACHE")
    os.environ["TERMCORPUS_CACHE"] = os.environ.get("TERMCORPUS_TEST_CACHE") or str(tmp_path_factory.mktemp("layers"))
    yield Path(os.environ["TERMCORPUS_CACHE"])
    if old is None:
        os.environ.pop("TERMCORPUS_CACHE", None)
    else:
        os.environ["TERMCORPUS_CACHE"] = old


def _run(task, agent, backend: str):  # type: ignore[no-untyped-def]
    from termcorpus.execute.episode import run_episode
    from termcorpus.sandbox import SandboxConfig

    cfg = SandboxConfig(backend=backend, timeout_sec=30.0, memory_mb=1024, max_procs=128)
    return run_episode(task, agent, cfg, max_turns=len(task.solution) + 1, prompt_style="compact",
                       lineage=Lineage(task_digest=task.digest()))


@pytest.mark.integration
@pytest.mark.parametrize("d", DIRS, ids=lambda d: d.name)
def test_oracle_passes_and_null_fails_in_bwrap(d, layer_cache):
    from termcorpus.agents import NullAgent, OracleAgent
    from termcorpus.tasks.interop import import_task_dir

    t = import_task_dir(d)
    good = _run(t, OracleAgent(), "bwrap")
    assert good.passed, good.verifier_output[-2000:]
    bad = _run(t, NullAgent(), "bwrap")
    assert not bad.passed, bad.verifier_output[-2000:]


@pytest.fixture(scope="session")
def docker_up():
    """A reachable Docker daemon, else skip (the bwrap runs above are the required proof)."""
    from termcorpus.errors import EnvironmentProblem
    from termcorpus.sandbox import docker as D

    import docker.errors

    D.forget_client()
    try:
        c = D.client()
    except EnvironmentProblem as e:
        pytest.skip(f"no Docker daemon: {e} (start one with scripts/start_dockerd.sh)")
    # Without a registry, the offline base image (scripts/docker_base_image.sh) stands in for the
    # fixtures' FROM images; a fixture needing a tool it lacks (pip, gcc, jq) is skipped below.
    stand_ins: set[str] = set()
    from termcorpus.tasks.interop import import_task_dir

    try:
        base_id = c.images.get(D.BASE_IMAGE).id
    except docker.errors.ImageNotFound:
        base_id = None
    for image in sorted({import_task_dir(d).environment.image for d in DIRS}):
        try:
            if c.images.get(image).id == base_id:
                stand_ins.add(image)  # tagged as a stand-in by an earlier run
            continue
        except docker.errors.ImageNotFound:
            pass
        try:
            c.images.pull(image)
        except docker.errors.APIError:
            try:
                c.images.get(D.BASE_IMAGE).tag(*image.split(":", 1))
                stand_ins.add(image)
            except docker.errors.ImageNotFound:
                pass
    yield stand_ins
    D.remove_orphans()


@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.parametrize("d", DIRS, ids=lambda d: d.name)
def test_oracle_passes_and_null_fails_in_docker(d, docker_up, layer_cache):
    from termcorpus.agents import NullAgent, OracleAgent
    from termcorpus.tasks.dockerfile import parse_dockerfile
    from termcorpus.tasks.interop import import_task_dir

    t = import_task_dir(d)
    workdirs = [s.value.strip() for s in parse_dockerfile(t.environment.dockerfile) if s.kw == "WORKDIR"]
    if workdirs and workdirs[-1] != "/app":
        pytest.skip("the docker backend runs the agent in /app; this task's WORKDIR is "
                    f"{workdirs[-1]} (bwrap runs it)")
    from termcorpus.errors import DataError

    try:
        good = _run(t, OracleAgent(), "docker")
    except DataError as e:
        if "BuildKit" in str(e) or "parse error" in str(e):
            pytest.skip("the daemon builds without BuildKit (docker SDK's legacy builder): no COPY "
                        "heredocs, no --chmod (bwrap builds them)")
        if t.environment.image in docker_up and "does not build" in str(e):
            pytest.skip(f"no registry: the offline stand-in for {t.environment.image} lacks what the "
                        f"Dockerfile needs ({str(e)[-160:]})")
        raise
    assert good.passed, good.verifier_output[-2000:]
    assert not _run(t, NullAgent(), "docker").passed


@pytest.mark.parametrize("d", DIRS, ids=lambda d: d.name)
def test_export_then_import_is_lossless_for_imported_tasks(d, tmp_path):
    from termcorpus.tasks.interop import export_harbor, import_task_dir

    t = import_task_dir(d)
    out = export_harbor(t, tmp_path / t.id)
    assert (out / "environment" / "Dockerfile").read_text() == t.environment.dockerfile
    assert import_task_dir(out) == t
