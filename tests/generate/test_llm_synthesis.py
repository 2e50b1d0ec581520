"""LLM task synthesis: prompts, answer repair, task building (fast), the sandbox gate (bwrap),
and the whole loop against a real ``transformers serve`` (tests/fixtures_serve.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from termcorpus.errors import EnvironmentProblem
from termcorpus.generate.llm import (
    Rejected,
    build_task,
    candidate_task,
    parse_task_answer,
    synthesis_messages,
    synthesize_tasks,
    topic_for,
)
from termcorpus.records import CANARY
from termcorpus.sandbox import SandboxConfig
from termcorpus.generate.catalog import build_catalog
from termcorpus.tasks.seeds import FileSpec, Seed
from termcorpus.tasks.skills import Skill

REPO = Path(__file__).resolve().parents[2]

SEED = Seed(
    id="count_words", domain="file_operations", skills=["word_counting"],
    instruction="Count the words of text.txt and write the number to n.txt.",
    files=[FileSpec(path="text.txt", text="".join(f"w{i}\n" for i in range(20)))],
    solution=["wc -w < text.txt > n.txt"],
    test='[ "$(cat n.txt)" = "20" ] || fail "n.txt should hold 20"',
)
SKILLS = [Skill(id="sorting", domain="data_processing", description="Sort lines with sort."),
          Skill(id="dedup", domain="data_processing", description="Drop repeated lines with uniq.")]
ANSWER = {
    "instruction": "Write the number of lines of /app/a.txt to /app/n.txt.",
    "files": {"/app/a.txt": "x\ny\n"},
    "solution": ["wc -l < a.txt > n.txt"],
    "test_sh": '[ "$(cat n.txt)" = "2" ] || fail "n.txt should hold 2"',
}


def box() -> SandboxConfig:
    return SandboxConfig(backend="bwrap", timeout_sec=5.0, memory_mb=512, max_procs=64, max_output_bytes=2048)


# -- prompts ------------------------------------------------------------------------------------
def test_prompts_are_fixed_by_seed_and_index():
    a = synthesis_messages(SEED, index=3, seed=1)
    assert a == synthesis_messages(SEED, index=3, seed=1)
    assert [m.role for m in a] == ["system", "user"]
    assert f"Topic: {topic_for(1, 3)}" in a[1].content and "task #3" in a[1].content
    assert synthesis_messages(SEED, index=4, seed=1) != a


def test_seed_prompt_shows_a_rendered_example_without_the_test_header():
    user = synthesis_messages(SEED, index=0, seed=0)[1].content
    example = json.loads(user.split("An example task of this kind:\n", 1)[1].splitlines()[0])
    assert example["solution"] == ["wc -w < text.txt > n.txt"]
    assert example["test_sh"] == SEED.test  # the body only: no canary, no shebang
    assert example["files"]["text.txt"].endswith("...\n")  # long inputs are cut


def test_skill_combination_prompt_lists_the_skills():
    user = synthesis_messages(SKILLS, index=0, seed=0)[1].content
    assert "- sorting: Sort lines with sort." in user and "- dedup: Drop repeated lines with uniq." in user
    assert "Domain: data_processing" in user


def test_every_shipped_seed_makes_a_prompt():
    catalog = build_catalog(seeds_dir=REPO / "data/seeds", skills_dir=REPO / "data/skills")
    for seed in catalog.seeds:
        msgs = synthesis_messages(seed, index=0, seed=0)
        assert seed.domain in msgs[1].content


# -- parsing with repair ----------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    json.dumps(ANSWER),
    "Here it is:\n```json\n" + json.dumps(ANSWER, indent=2) + "\n```\nGood luck!",
    json.dumps(ANSWER)[:-1] + ",}",  # trailing comma
    json.dumps(ANSWER).replace("\\n", "\n"),  # raw newlines inside a string
])
def test_answers_are_repaired(text):
    assert parse_task_answer(text) == ANSWER


@pytest.mark.parametrize("text", ["", "no json here", '{"instruction": "cut off', "[1, 2]"])
def test_unrepairable_answers_are_none(text):
    assert parse_task_answer(text) is None


# -- building tasks ---------------------------------------------------------------------------------
def test_build_task_makes_an_llm_task_with_a_wrapped_test():
    task = build_task(ANSWER, SEED, index=5, seed=9)
    assert (task.id, task.family, task.source, task.domain) == ("llm-count_words-0005", "llm-count_words",
                                                                 "llm", "file_operations")
    assert task.files == {"a.txt": "x\ny\n"}  # '/app/' dropped
    assert task.skills == ["word_counting"] and task.difficulty == "easy"
    test = task.tests["test.sh"]
    assert CANARY in test and ANSWER["test_sh"] in test and "_reward 1" in test
    assert task.generator.name == "llm_synthesis"
    assert build_task(ANSWER, SEED, index=5, seed=9) == task


@pytest.mark.parametrize("change, reason", [
    ({"test_sh": ""}, "bad_schema"),
    ({"instruction": None}, "bad_schema"),
    ({"solution": []}, "bad_schema"),
    ({"files": {"a.txt": 3}}, "bad_schema"),
    ({"files": {"../escape.txt": "x"}}, "invalid_task"),
    ({"solution": ["true"] * 7}, "too_large"),
    ({"files": {"big.txt": "x" * 30_000}}, "too_large"),
])
def test_bad_answers_are_rejected_with_a_reason(change, reason):
    with pytest.raises(Rejected) as err:
        build_task({**ANSWER, **change}, SEED, index=0, seed=0)
    assert err.value.reason == reason


def test_a_solution_given_as_one_string_becomes_commands():
    task = build_task({**ANSWER, "solution": "mkdir out\nwc -l < a.txt > n.txt\n"}, SKILLS, index=0, seed=0)
    assert task.solution == ["mkdir out", "wc -l < a.txt > n.txt"] and task.family == "llm-sorting+dedup"


def test_candidate_task_names_the_drop_reason():
    assert candidate_task("sorry, I cannot", SEED, index=0, seed=0) == (None, "unparseable")
    assert candidate_task('{"instruction": "x"}', SEED, index=0, seed=0) == (None, "bad_schema")
    task, reason = candidate_task(json.dumps(ANSWER), SEED, index=0, seed=0)
    assert reason == "" and task is not None


def _client(base_url: str, model: str, **kw):  # type: ignore[no-untyped-def]
    """The endpoint client the generate stage builds for synthesis."""
    from termcorpus.agents.openai_agent import OpenAIChatAgent

    return OpenAIChatAgent(base_url=base_url, model=model, api_key_env="", name="synthesis", role="synthesis", **kw)


def test_zero_requests_contact_nobody():
    assert synthesize_tasks([SEED], client=None, n=0, seed=0) == ([], {})


@pytest.mark.integration
def test_unreachable_endpoint_is_an_environment_problem_not_a_drop():
    from termcorpus.agents.openai_agent import OpenAIChatAgent

    client = OpenAIChatAgent(base_url="http://127.0.0.1:1/v1", model="m", max_retries=0)
    with pytest.raises(EnvironmentProblem, match="endpoint .* unreachable after 1 attempts"):
        synthesize_tasks([SEED], n=1, seed=0, client=client)


@pytest.mark.integration
def test_synthesized_tasks_meet_the_execute_gate(openai_stub):
    passes_anyway = {**ANSWER, "test_sh": "true"}  # a test that checks nothing
    wrong_solution = {**ANSWER, "instruction": "Count the lines of /app/a.txt into /app/n.txt.",
                      "solution": ["echo 5 > n.txt"]}
    script = [(200, {}, openai_stub.completion(json.dumps(a))) for a in (ANSWER, passes_anyway, wrong_solution)]
    with openai_stub(script) as srv:
        kept, drops = synthesize_tasks([SEED], client=_client(srv.base_url, "m"), n=3, seed=0)
    assert len(kept) == 3 and not drops  # synthesis parses; the execute stage's gate judges
    from termcorpus.execute.gate import run_gate

    report = run_gate(kept, box(), 1)
    assert [t.id for t in report.kept] == ["llm-count_words-0000"]
    assert dict(report.drops_by_reason) == {"null_passed": 1, "oracle_failed": 1}
    assert [r["body"]["messages"] for r in srv.requests] == [
        [m.model_dump() for m in synthesis_messages(SEED, index=i, seed=0)] for i in range(3)]


# -- the whole loop against the served model --------------------------------------------------------
@pytest.mark.slow
@pytest.mark.integration
def test_synthesis_keeps_the_valid_task_and_counts_the_malformed_one(served_model):
    kept, drops = synthesize_tasks(
        list(served_model.synth_sources), client=_client(served_model.base_url, served_model.model, max_tokens=400),
        n=2, seed=served_model.synth_seed,
    )
    assert dict(drops) == {"unparseable": 1}
    assert len(kept) == 1
    task = kept[0]
    # Exactly the task the served answer describes (fenced, trailing comma: repaired).
    good_source = served_model.synth_sources[0]
    assert task == build_task(parse_task_answer(served_model.synth_good_answer), good_source, index=0,
                              seed=served_model.synth_seed)
    assert (task.id, task.family, task.source) == ("llm-count_matching_lines-0000", "llm-count_matching_lines", "llm")
    assert task.files == {"fruits.txt": "apple\nbanana\ncherry\nkiwi\n"}


@pytest.mark.slow
@pytest.mark.integration
def test_synthesis_drops_a_task_it_already_has(served_model):
    good_source = served_model.synth_sources[0]
    known = build_task(parse_task_answer(served_model.synth_good_answer), good_source, index=0,
                       seed=served_model.synth_seed)
    kept, drops = synthesize_tasks(
        [good_source], client=_client(served_model.base_url, served_model.model), n=1,
        seed=served_model.synth_seed, existing=[known],
    )
    assert kept == [] and dict(drops) == {"duplicate": 1}


@pytest.mark.slow
@pytest.mark.integration
def test_generate_stage_appends_synthesized_tasks(served_model, tmp_path):
    """stages/generate.py with generate.llm_base_url set: the served task lands in tasks.jsonl."""
    import subprocess
    import sys

    import yaml

    from termcorpus.records import Task, read_jsonl
    from termcorpus.tasks.skills import Taxonomy

    seed = served_model.synth_sources[0]
    (tmp_path / "seeds.jsonl").write_text(seed.model_dump_json() + "\n")
    taxonomy = Taxonomy(skills=[Skill(id=k, domain=seed.domain, description="Count lines.") for k in seed.skills])
    (tmp_path / "taxonomy.json").write_text(taxonomy.model_dump_json())
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["generate"].update(
        seed=served_model.synth_seed, n_variants=1, n_heldout_variants=0, skill_tasks=0,
        llm_base_url=served_model.base_url, llm_model=served_model.model, llm_tasks=1, llm_api_key_env="",
        llm_max_tokens=400,
    )
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    proc = subprocess.run(
        [sys.executable, str(REPO / "stages/generate.py"), "--seeds", "seeds.jsonl", "--taxonomy", "taxonomy.json",
         "--out", "tasks", "--metrics", "generate.json", "--detail", "generate_detail.json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    tasks = read_jsonl(tmp_path / "tasks/tasks.jsonl", Task)
    assert [t.source for t in tasks] == ["seed", "llm"]
    assert tasks[1].id == "llm-count_matching_lines-0000"
    assert json.loads((tmp_path / "generate.json").read_text())["tasks"] == 2
    metrics = json.loads((tmp_path / "generate_detail.json").read_text())
    assert metrics["tasks_by_source"] == {"llm": 1, "seed": 1}
    assert not any(k.startswith("llm_") for k in metrics["drops"])
