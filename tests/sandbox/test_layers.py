"""Task environments as built, cached layers (sandbox.layers) and the Dockerfile reader behind them."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import time

import pytest

from termcorpus.errors import DataError
from termcorpus.records import Environment, Task
from termcorpus.tasks.dockerfile import copy_args, parse_dockerfile

needs_root_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None or os.geteuid() != 0,
                                      reason="building task environments needs bwrap and root (overlay mounts)")


# ---- the Dockerfile reader (fast) -------------------------------------------------------------

def test_heredocs_are_attached_to_their_instruction_not_read_as_instructions():
    steps = parse_dockerfile("FROM x\nCOPY <<EOF /etc/a.conf\nRUN not an instruction\nEOF\n"
                             "RUN <<-EOS\n\techo hi\n\tEOS\nWORKDIR /w\n")
    assert [s.kw for s in steps] == ["FROM", "COPY", "RUN", "WORKDIR"]
    assert steps[1].heredocs[0].body == "RUN not an instruction\n"
    assert steps[2].heredocs[0].body == "echo hi\n"  # <<- strips leading tabs
    args = copy_args(steps[1], "Dockerfile:2")
    assert args.heredoc and args.dest == "/etc/a.conf"


def test_copy_flags_and_json_form():
    st = parse_dockerfile('FROM x\nCOPY --chown=1000:1000 --chmod=755 ["a b.sh", "/opt/"]\n')[1]
    args = copy_args(st, "Dockerfile:2")
    assert args.flags == {"chown": "1000:1000", "chmod": "755"} and args.sources == ["a b.sh"] and args.dest == "/opt/"


@pytest.mark.parametrize("text, message", [
    ("FROM a AS b\nFROM c\n", "multi-stage"),
    ("FROM a\nCOPY --from=b /x /y\n", "--from"),
    ("FROM a\nADD https://example.com/x /y\n", "needs the network"),
    ("FROM a\nADD data.tar.gz /y/\n", "archive"),
    ("FROM a\nWORKDIR /app/../../root\n", "contains '..'"),
    ("FROM a\nCOPY <<EOF /x\nnever closed\n", "never closed"),
    ("RUN true\n", "no FROM"),
])
def test_unsupported_dockerfile_steps_are_one_line_errors(text, message):
    with pytest.raises(DataError, match=message) as e:
        steps = parse_dockerfile(text)
        for s in steps:
            if s.kw in ("COPY", "ADD"):
                copy_args(s, "Dockerfile")
    assert "\n" not in str(e.value)


# ---- builds (integration: real bwrap, overlay mounts, the network for pip/apt) -----------------

def _env(dockerfile: str, **context: bytes) -> Environment:
    return Environment(dockerfile=dockerfile,
                       build_context={k: base64.b64encode(v).decode() for k, v in context.items()})


def _task(env: Environment) -> Task:
    return Task(id="layer-t", family="f", source="import", domain="debugging", instruction="x",
                tests={"test.sh": "true\n"}, environment=env)


@pytest.mark.integration
@needs_root_bwrap
def test_same_dockerfile_and_context_build_once(tmp_path, capsys):
    from termcorpus.sandbox.layers import ensure_layer

    env = _env("FROM debian:bookworm-slim\nWORKDIR /app\nCOPY in.txt ./\n"
               "RUN mkdir -p /data && cp /app/in.txt /data/copy.txt\n", **{"in.txt": b"one\n"})
    t0 = time.perf_counter()
    first = ensure_layer(env, tmp_path)
    t1 = time.perf_counter()
    again = ensure_layer(env, tmp_path)
    t2 = time.perf_counter()
    assert not first.cached and again.cached and again.path == first.path
    assert (first.path / "fs/data/copy.txt").read_text() == "one\n"
    with capsys.disabled():
        print(f"\n[layer] first build {t1 - t0:.2f}s, cached {t2 - t1:.4f}s")
    assert t2 - t1 < (t1 - t0) / 10
    # another context is another layer
    other = ensure_layer(_env(env.dockerfile, **{"in.txt": b"two\n"}), tmp_path)
    assert not other.cached and other.path != first.path


@pytest.mark.integration
@needs_root_bwrap
def test_each_run_gets_a_throwaway_overlay(tmp_path, monkeypatch):
    from termcorpus.sandbox import SandboxConfig, open_session

    monkeypatch.setenv("TERMCORPUS_CACHE", str(tmp_path))
    task = _task(_env("FROM debian:bookworm-slim\nRUN mkdir -m 1777 /shared && echo base > /shared/f\n"
                      "WORKDIR /app\n"))
    with open_session(task, SandboxConfig()) as s:
        assert s.run("echo new > /shared/g && rm -f /app/x && ls /shared").output == "f\ng\n"
        assert s.cwd == "/app"
    with open_session(task, SandboxConfig()) as s:
        assert s.run("cat /shared/f; ls /shared").output == "base\nf\n"


@pytest.mark.integration
@needs_root_bwrap
def test_generated_tasks_keep_the_fast_path(tmp_path, monkeypatch):
    from termcorpus.sandbox import SandboxConfig, open_session

    monkeypatch.setenv("TERMCORPUS_CACHE", str(tmp_path))
    with open_session(_task(Environment()), SandboxConfig()) as s:
        assert s._layer is None and s.run("echo ok").output == "ok\n"
    assert not (tmp_path / "layers").exists()


@pytest.mark.integration
@needs_root_bwrap
def test_apt_package_nobody_has_is_named_in_one_error(tmp_path):
    from termcorpus.sandbox.layers import ensure_layer

    env = _env("FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y --no-install-recommends "
               "jq termcorpus-no-such-package\n")
    with pytest.raises(DataError, match="termcorpus-no-such-package") as e:
        ensure_layer(env, tmp_path)
    assert "\n" not in str(e.value)


def _debian_reachable() -> bool:
    from termcorpus.sandbox.layers import _debian_reachable as reachable

    return reachable()


@pytest.mark.integration
@needs_root_bwrap
def test_apt_installs_into_the_layer_when_debian_is_reachable(tmp_path, monkeypatch):
    from termcorpus.sandbox import SandboxConfig, open_session

    if subprocess.run(["dpkg-query", "-W", "tree"], capture_output=True).returncode == 0:
        pytest.skip("tree is installed on this host: nothing to download")
    if not _debian_reachable():
        pytest.skip("Debian's registry is not reachable from here")
    monkeypatch.setenv("TERMCORPUS_CACHE", str(tmp_path))
    task = _task(_env("FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y tree\nWORKDIR /app\n"))
    with open_session(task, SandboxConfig()) as s:
        r = s.run("tree --version")
        assert r.exit_code == 0 and "tree v" in r.output
    assert shutil.which("tree") is None  # the host stays as it was
