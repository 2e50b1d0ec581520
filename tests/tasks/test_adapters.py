"""Dataset adapters (tasks/adapters.py): sources, record errors, built tasks and their gate."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from termcorpus.curate.dataset import SUBSETS
from termcorpus.errors import ConfigError, DataError, EnvironmentProblem
from termcorpus.params import AdapterSource, SeedParams, load_section
from termcorpus.sandbox import SandboxConfig
from termcorpus.tasks.adapter_files.check_tree import differences, snapshot
from termcorpus.execute.adapters import build_tasks
from termcorpus.tasks.adapters import iter_rows, parse_rows

REPO = Path(__file__).resolve().parents[2]
NL2BASH = REPO / "data/adapters/nl2bash_sample.jsonl"
PROGRAMS = REPO / "data/adapters/programs_sample.jsonl"
needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bwrap not installed")


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


GOOD_NL = {"id": "mk", "nl": "Create a directory named out.", "cmd": "mkdir out", "files": {"a.txt": "a\n"}}
GOOD_PROG = {"id": "add", "prompt": "Write add(a, b).", "solution": "def add(a, b):\n    return a + b\n",
             "tests": "from solution import add\nassert add(2, 3) == 5\n"}


# ---- params and sources -----------------------------------------------------------------------
def test_default_params_ship_both_sample_sources():
    params = load_section("seed", REPO / "params.yaml")
    assert [(a.path, a.kind) for a in params.adapters] == [
        ("data/adapters/nl2bash_sample.jsonl", "nl2bash"), ("data/adapters/programs_sample.jsonl", "program")]
    assert SUBSETS["adapter"] == "dataset_adapters"


def test_bad_adapter_entry_names_its_index_and_key():
    with pytest.raises(ConfigError, match=r"'seed\.adapters\[1\]\.kind' must be one of"):
        SeedParams(adapters=[{"path": "a.jsonl"}, {"path": "b.jsonl", "kind": "sql"}])
    with pytest.raises(ConfigError, match=r"'seed\.adapters\[0\]\.path' is required"):
        SeedParams(adapters=[{"kind": "program"}])


def test_samples_have_the_promised_sizes():
    assert len(parse_rows(str(NL2BASH), "nl2bash")) >= 30
    assert len(parse_rows(str(PROGRAMS), "program")) >= 20


def test_missing_field_error_names_file_line_and_field(tmp_path):
    src = _jsonl(tmp_path / "s.jsonl", [GOOD_NL, {"id": "x", "nl": "Do it."}])
    with pytest.raises(DataError, match=r"s\.jsonl:2: .*command"):
        parse_rows(str(src), "nl2bash")


def test_bad_json_and_bad_paths_are_one_line(tmp_path):
    src = tmp_path / "s.jsonl"
    src.write_text(json.dumps(GOOD_NL) + "\n{not json\n")
    with pytest.raises(DataError, match=r"s\.jsonl:2: invalid JSON"):
        parse_rows(str(src), "nl2bash")
    _jsonl(src, [{**GOOD_NL, "files": {"../escape": "x"}}])
    with pytest.raises(DataError, match=r"s\.jsonl:1: .*files.*unsafe path"):
        parse_rows(str(src), "nl2bash")
    _jsonl(src, [GOOD_NL, GOOD_NL])
    with pytest.raises(DataError, match=r"s\.jsonl:2: field 'id': 'mk' repeats .*s\.jsonl:1"):
        parse_rows(str(src), "nl2bash")


def test_program_needs_tests_or_io_and_skills_must_be_known(tmp_path):
    src = _jsonl(tmp_path / "p.jsonl", [{k: v for k, v in GOOD_PROG.items() if k != "tests"}])
    with pytest.raises(DataError, match=r"p\.jsonl:1: .*needs 'tests'"):
        parse_rows(str(src), "program")
    _jsonl(src, [{**GOOD_PROG, "skills": ["telepathy"]}])
    with pytest.raises(DataError, match=r"p\.jsonl:1: field 'skills': unknown skill id 'telepathy'"):
        parse_rows(str(src), "program", known_skills={"code_generation"})


def test_parquet_and_saved_datasets_read_like_jsonl(tmp_path):
    import datasets
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{**GOOD_NL, "files": json.dumps(GOOD_NL["files"])}, {**GOOD_NL, "id": "mk2", "files": "{}"}]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "s.parquet")
    got = parse_rows(str(tmp_path / "s.parquet"), "nl2bash")
    assert [(w, r.id, r.files) for w, r in got] == [
        (f"{tmp_path / 's.parquet'}:row 0", "mk", {"a.txt": "a\n"}), (f"{tmp_path / 's.parquet'}:row 1", "mk2", {})]
    datasets.Dataset.from_list(rows).save_to_disk(str(tmp_path / "saved"))
    assert [r.id for _, r in parse_rows(str(tmp_path / "saved"), "nl2bash")] == ["mk", "mk2"]
    pq.write_table(pa.Table.from_pylist([{"id": "x"}]), tmp_path / "bad.parquet")
    with pytest.raises(DataError, match=r"bad\.parquet:row 0: "):
        parse_rows(str(tmp_path / "bad.parquet"), "nl2bash")


def test_unreachable_hub_is_one_clear_line(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(EnvironmentProblem) as e:
        list(iter_rows("someone/nl2bash-pairs", "hub"))
    assert "hub dataset 'someone/nl2bash-pairs' cannot be loaded here" in str(e.value)
    assert "\n" not in str(e.value)


def test_unknown_format_names_the_source(tmp_path):
    (tmp_path / "s.csv").write_text("id\n")
    with pytest.raises(DataError, match=r"s\.csv: cannot tell the format"):
        list(iter_rows(str(tmp_path / "s.csv")))


def test_tree_differences_name_the_path(tmp_path):
    (tmp_path / "a.txt").write_text("a\n")
    want = snapshot(tmp_path)
    (tmp_path / "a.txt").write_text("b\n")
    (tmp_path / "extra").mkdir()
    assert differences(want, snapshot(tmp_path)) == ["a.txt: content differs", "unexpected: extra"]
    (tmp_path / "a.txt").chmod(0o600)
    assert "a.txt: mode 0600, expected 0644" in differences(want, snapshot(tmp_path))


# ---- building (real sandbox) --------------------------------------------------------------------
CFG = SandboxConfig(backend="bwrap", timeout_sec=10.0, memory_mb=512)


@pytest.mark.integration
@needs_bwrap
def test_gold_command_effect_becomes_the_expected_tree(tmp_path):
    src = _jsonl(tmp_path / "s.jsonl", [GOOD_NL, {**GOOD_NL, "id": "ro", "nl": "Make a.txt read-only.",
                                                  "cmd": "chmod 444 a.txt", "skills": ["file_permissions"]}])
    res = build_tasks([AdapterSource(path=str(src), kind="nl2bash")], CFG)
    mk, ro = res.tasks
    assert (mk.id, mk.source, mk.family, mk.solution) == ("adapter-s-mk", "adapter", "adapter-s-mk", ["mkdir out"])
    tree = json.loads(mk.tests["expected_tree.json"])
    assert tree["out"] == {"type": "dir", "mode": "0755"} and tree["a.txt"]["type"] == "file"
    assert json.loads(ro.tests["expected_tree.json"])["a.txt"]["mode"] == "0444"
    assert ro.skills == ["file_permissions"] and mk.skills == ["shell_scripting"]


@pytest.mark.integration
@needs_bwrap
def test_failing_or_idle_gold_is_dropped_or_stops(tmp_path):
    rows = [GOOD_NL, {**GOOD_NL, "id": "idle", "cmd": "cat a.txt"}, {**GOOD_NL, "id": "bad", "cmd": "false"},
            {**GOOD_PROG, "id": "wrong"}]
    src = _jsonl(tmp_path / "s.jsonl", rows[:3])
    res = build_tasks([AdapterSource(path=str(src), kind="nl2bash")], CFG, strict=False)
    assert [t.id for t in res.tasks] == ["adapter-s-mk"]
    assert res.metrics() == {"n_adapter_tasks": 1, "adapter_drops": {"gold_failed": 1, "unchanged_tree": 1}}
    with pytest.raises(DataError, match=r"s\.jsonl:2: record 'idle' is not a usable task \(unchanged_tree"):
        build_tasks([AdapterSource(path=str(src), kind="nl2bash")], CFG, strict=True)
    prog = _jsonl(tmp_path / "p.jsonl", [{**GOOD_PROG, "solution": "def add(a, b):\n    return a - b\n"}])
    res = build_tasks([AdapterSource(path=str(prog), kind="program")], CFG, strict=False)
    assert res.tasks == [] and res.drops == {"oracle_failed": 1}


@pytest.mark.integration
@needs_bwrap
def test_sample_tasks_pass_the_gate(tmp_path):
    """A few of each shipped kind through the real validity gate: oracle passes, null and the
    shortcut agents fail (the whole sample is gated by the test marked slow below)."""
    from termcorpus.execute.gate import check_tasks

    def pick(src: Path, ids: tuple[str, ...]) -> str:
        rows = [json.loads(line) for line in src.read_text().splitlines()]
        return str(_jsonl(tmp_path / src.name, [r for r in rows if r["id"] in ids]))

    res = build_tasks([AdapterSource(path=pick(NL2BASH, ("latest_link", "read_only_config", "word_freq")),
                                     kind="nl2bash"),
                       AdapterSource(path=pick(PROGRAMS, ("roman", "top_scorer")), kind="program")], CFG)
    assert len(res.tasks) == 5 and not res.drops
    verdicts = check_tasks(res.tasks, CFG, workers=1, full=True)
    assert [(v.task_id, v.reason) for v in verdicts] == [(t.id, None) for t in res.tasks]
    assert all(v.outcome("oracle").passed and not v.outcome("null").passed for v in verdicts)


@pytest.mark.integration
@pytest.mark.slow
@needs_bwrap
def test_every_sample_task_passes_the_gate():
    from termcorpus.execute.gate import check_tasks

    res = build_tasks([AdapterSource(path=str(NL2BASH), kind="nl2bash"),
                       AdapterSource(path=str(PROGRAMS), kind="program")], CFG)
    assert res.by_source == {str(NL2BASH): 32, str(PROGRAMS): 20} and not res.drops
    verdicts = check_tasks(res.tasks, CFG, workers=2, full=True)
    assert {v.task_id: v.reason for v in verdicts} == {t.id: None for t in res.tasks}
