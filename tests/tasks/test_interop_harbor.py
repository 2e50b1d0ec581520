"""Harbor export/import: layout, lossless round trip, foreign Harbor dirs, unsafe content."""

from __future__ import annotations

import base64
import os
import random
import shutil
import tomllib
from pathlib import Path

import pytest

from termcorpus.errors import DataError
from termcorpus.generate.mutate import render_variant, variant_seed
from termcorpus.records import CANARY, Environment, GeneratorInfo, Lineage, Task
from termcorpus.generate.catalog import build_catalog
from termcorpus.tasks.interop import (
    MAX_FILE_BYTES,
    export_harbor,
    export_many,
    find_task_dirs,
    import_task_dir,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def seed_tasks() -> list[Task]:
    """One variant of every seed, rendered the way the generate stage renders them."""
    catalog = build_catalog(seeds_dir=REPO / "data/seeds", skills_dir=REPO / "data/skills")
    out = []
    for s in catalog.seeds:
        vs = variant_seed(1234, s.id, 0)
        out.append(render_variant(s, random.Random(vs), variant_id=f"{s.id}-v0000", gen_seed=vs))
    return out


def edge_task() -> Task:
    return Task(
        id="edge-1", family="edge", source="skill", domain="security", skills=["a", "b"], difficulty="hard",
        instruction='Quote "this" \\ and\ttab\nsecond line with é and \x7f\n',
        files={"dir/a b.txt": "no newline at end", "run.sh": "#!/bin/sh\necho hi\n", "empty.txt": ""},
        binary_files={"blob.bin": base64.b64encode(bytes(range(256))).decode(),
                      "utf8ish.dat": base64.b64encode(b"plain text").decode()},
        solution=["cat <<'EOF' > out.txt\nline\nEOF\n", "echo one", "", "printf 'x\\n'\n\n"],
        tests={"test.sh": "#!/bin/bash\nexit 0\n", "helpers/check.py": "print('ok')\n"},
        environment=Environment(image="example/img:1", workdir="/srv/work", timeout_sec=12.5, memory_mb=300,
                                network=True),
        generator=GeneratorInfo(name="skill_composition", version="1.0", seed=(1 << 70) + 3),
        slots={"a key": "v\"q", "n": "7"},
    )


def test_every_seed_variant_round_trips(seed_tasks, tmp_path):
    for t in seed_tasks:
        notes: list[str] = []
        assert import_task_dir(export_harbor(t, tmp_path / t.id), notes=notes) == t
        assert notes == []


def test_edge_cases_round_trip(tmp_path):
    t = edge_task()
    assert import_task_dir(export_harbor(t, tmp_path / "edge")) == t


def test_empty_solution_and_no_generator_round_trip(tmp_path):
    t = Task(id="bare", family="bare", source="import", domain="debugging", instruction="x",
             tests={"test.sh": "exit 1\n"})
    assert import_task_dir(export_harbor(t, tmp_path / "bare")) == t


def test_layout_and_task_toml(seed_tasks, tmp_path):
    t = next(t for t in seed_tasks if t.files)
    d = export_harbor(t, tmp_path / "t")
    cfg = tomllib.loads((d / "task.toml").read_text())
    assert cfg["schema_version"] == "1.4" and cfg["source"] == "termcorpus"
    assert cfg["metadata"]["category"] == t.domain and cfg["metadata"]["tags"] == t.skills
    assert cfg["metadata"]["difficulty"] == t.difficulty
    assert cfg["metadata"]["termcorpus"]["family"] == t.family
    assert cfg["verifier"]["timeout_sec"] == t.environment.timeout_sec and cfg["agent"]["timeout_sec"] > 0
    env = cfg["environment"]
    assert env["workdir"] == "/app" and env["network_mode"] == "no-network" and env["memory_mb"] == 512
    # a prebuilt docker_image would make Harbor skip the Dockerfile and lose the input files
    assert "docker_image" not in env
    docker = (d / "environment/Dockerfile").read_text()
    assert f"FROM {t.environment.image}\n" in docker and "WORKDIR /app\nCOPY --chown=agent:agent files/ /app/\n" in docker
    # Harbor's linter: a non-root agent user (created by the Dockerfile) and a shared verifier
    assert cfg["agent"]["user"] == "agent" and "useradd -m -u 1000 agent" in docker
    assert cfg["verifier"]["environment_mode"] == "shared"
    for rel, text in t.files.items():
        assert (d / "environment/files" / rel).read_text() == text
    assert (d / "instruction.md").read_text() == t.instruction + "\n"
    assert os.access(d / "solution/solve.sh", os.X_OK) and os.access(d / "tests/test.sh", os.X_OK)
    assert CANARY in (d / "tests/test.sh").read_text()


def test_task_without_files_names_the_image(tmp_path):
    t = Task(id="nofiles", family="f", source="seed", domain="debugging", instruction="x",
             solution=["true"], tests={"test.sh": "exit 0\n"})
    d = export_harbor(t, tmp_path / "n")
    assert tomllib.loads((d / "task.toml").read_text())["environment"]["docker_image"] == t.environment.image
    assert "COPY" not in (d / "environment/Dockerfile").read_text()


def test_export_refuses_a_non_empty_dir_and_colliding_ids(seed_tasks, tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(DataError, match="not an empty directory"):
        export_harbor(seed_tasks[0], tmp_path / "full")
    with pytest.raises(DataError, match="share the id"):
        export_many([seed_tasks[0], seed_tasks[0]], tmp_path / "many")


def test_export_many_limit_and_find_task_dirs(seed_tasks, tmp_path):
    paths = export_many(seed_tasks, tmp_path / "out", limit=3)
    assert [p.name for p in paths] == [t.id for t in seed_tasks[:3]]
    assert find_task_dirs(tmp_path / "out") == sorted(paths)
    assert find_task_dirs(paths[0]) == [paths[0]]


def _foreign(root: Path) -> Path:
    d = root / "hello-world"
    (d / "environment").mkdir(parents=True)
    (d / "solution").mkdir()
    (d / "tests").mkdir()
    (d / "instruction.md").write_text("Create hello.txt containing 'Hello, world!'.\n\n")
    (d / "task.toml").write_text(
        'version = "1.0"\n[metadata]\ndifficulty = "trivial"\ncategory = "programming"\ntags = ["echo"]\n'
        '[verifier]\ntimeout_sec = 120.0\n[agent]\ntimeout_sec = 600.0\n[environment]\nmemory_mb = 2048\n')
    (d / "environment/Dockerfile").write_text(
        "FROM ubuntu:24.04\nWORKDIR /app\nENV NAME=world PATH=/opt/tool/bin:$PATH\nCOPY seed.txt ./\nRUN apt-get update && \\\n"
        "    apt-get install -y curl\n")
    (d / "environment/seed.txt").write_text("seed\n")
    (d / "solution/solve.sh").write_text('#!/bin/bash\nset -e\necho "Hello, $NAME!" | sed s/w/W/ > /dev/null\n'
                                         "echo 'Hello, world!' > hello.txt\nexit 0\n")
    (d / "tests/test.sh").write_text(
        "#!/bin/bash\nif grep -qx 'Hello, world!' /app/hello.txt && [ \"$NAME\" = world ]; then "
        "echo 1 > /logs/verifier/reward.txt; else echo 0 > /logs/verifier/reward.txt; fi\n")
    return d


def test_foreign_harbor_dir_imports_as_import_source(tmp_path):
    notes: list[str] = []
    t = import_task_dir(_foreign(tmp_path), notes=notes)
    assert (t.id, t.family, t.source) == ("hello-world", "hello-world", "import")
    assert t.domain == "software_engineering" and t.skills == ["echo"] and t.difficulty == "medium"
    assert t.instruction == "Create hello.txt containing 'Hello, world!'."
    assert t.files == {} and t.environment.image == "ubuntu:24.04"
    # the environment is built from the task's own Dockerfile and the context files it names
    assert t.environment.dockerfile.startswith("FROM ubuntu:24.04\n")
    assert t.environment.build_context == {"seed.txt": base64.b64encode(b"seed\n").decode()}
    assert t.environment.timeout_sec == 120.0 and t.environment.memory_mb == 2048
    # solution/ is put at /solution first, then solve.sh runs from there
    assert t.solution[0].startswith("mkdir -p /solution") and t.solution[1] == "bash /solution/solve.sh"
    assert t.generator is not None and t.generator.name == "import:harbor"
    assert any("trivial" in n for n in notes)


@pytest.mark.integration
def test_foreign_harbor_task_passes_with_oracle_and_fails_with_null(tmp_path):
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed")
    from termcorpus.agents import NullAgent, OracleAgent
    from termcorpus.execute.episode import run_episode
    from termcorpus.sandbox import SandboxConfig

    t = import_task_dir(_foreign(tmp_path))
    cfg = SandboxConfig(backend="bwrap", timeout_sec=5.0, memory_mb=512, max_procs=64)
    run = lambda a: run_episode(t, a, cfg, max_turns=4, prompt_style="compact", lineage=Lineage(task_digest="x"))
    assert run(OracleAgent()).passed
    assert not run(NullAgent()).passed


# ---- unsafe content: one DataError line each -------------------------------------------------

def _exported(tmp_path, seed_tasks) -> Path:
    t = next(t for t in seed_tasks if t.files)
    return export_harbor(t, tmp_path / "t")


@pytest.mark.parametrize("line, message", [
    ("COPY ../secret.txt /app/", "outside the build context"),
    ("COPY /etc/passwd /app/", "outside the build context"),
    ("COPY files/ /app/../../etc/", "contains '..'"),
    ("WORKDIR /app/../root", "contains '..'"),
    ("ADD https://example.com/x.tar.gz /app/", "needs the network"),
    ("COPY --from=builder /out /app/", "--from"),
    ("COPY missing.txt /app/", "does not exist"),
])
def test_unsafe_dockerfile_lines_are_refused(tmp_path, seed_tasks, line, message):
    d = _exported(tmp_path, seed_tasks)
    (d / "environment/Dockerfile").write_text(f"FROM x\nWORKDIR /app\n{line}\n")
    with pytest.raises(DataError, match=message) as e:
        import_task_dir(d)
    assert "\n" not in str(e.value) and "Dockerfile:3" in str(e.value)


def test_symlink_pointing_outside_is_refused(tmp_path, seed_tasks):
    d = _exported(tmp_path, seed_tasks)
    (tmp_path / "host-secret").write_text("s3cret")
    os.symlink(tmp_path / "host-secret", d / "environment/files/leak.txt")
    with pytest.raises(DataError, match="points outside"):
        import_task_dir(d)


def test_symlink_in_tests_pointing_outside_is_refused(tmp_path, seed_tasks):
    d = _exported(tmp_path, seed_tasks)
    os.symlink("/etc/hostname", d / "tests/host.txt")
    with pytest.raises(DataError, match="points outside"):
        import_task_dir(d)


def test_symlink_inside_the_task_is_followed(tmp_path, seed_tasks):
    d = _exported(tmp_path, seed_tasks)
    first = sorted((d / "environment/files").iterdir())[0]
    os.symlink(first.name, d / "environment/files/alias")
    t = import_task_dir(d)
    assert t.files["alias"] == first.read_text()


def test_file_over_10_mb_is_refused(tmp_path, seed_tasks):
    d = _exported(tmp_path, seed_tasks)
    with open(d / "environment/files/big.bin", "wb") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(DataError, match="more than the 10 MB"):
        import_task_dir(d)


def test_bad_toml_and_missing_parts_name_the_file(tmp_path, seed_tasks):
    d = _exported(tmp_path, seed_tasks)
    (d / "task.toml").write_text("schema_version = \n")
    with pytest.raises(DataError, match=r"task\.toml: invalid TOML"):
        import_task_dir(d)
    with pytest.raises(DataError, match="not a task directory"):
        import_task_dir(tmp_path)
