"""Exact-trace metrics on hand-made turns, and the per-agent/per-set summary."""

from __future__ import annotations

import pytest

from termcorpus.evaluate.metrics import (
    EpisodeResult,
    domain_rows,
    n_steps,
    reference_trace,
    split_detail,
    summarize,
    trace_match,
    turn_matches,
    first_miss,
)
from termcorpus.records import Action, Command, Lineage, Trajectory, Turn


def turn(*keys: str, done: bool = False) -> Turn:
    action = Action(analysis="a", plan="p", commands=[Command(keystrokes=k) for k in keys], task_complete=done)
    return Turn(action=action, raw=action.model_dump_json(), observation="")


def bad(raw: str = "not json") -> Turn:
    return Turn(action=None, raw=raw, parse_error="invalid JSON", observation="")


SOLUTION = ["mkdir out", "sort data.txt > out/sorted.txt"]


def test_reference_trace_is_the_oracle_teachers_turns(task_factory):
    task = task_factory("t1", "f", solution=SOLUTION)
    assert reference_trace(task) == [
        (["mkdir out"], False), (["sort data.txt > out/sorted.txt"], False), ([], True)
    ]
    assert reference_trace(task_factory("t2", "f", solution=[])) == [([], True)]


def test_the_oracle_scores_full_marks(task_factory):
    from termcorpus.agents.oracle import OracleAgent

    task = task_factory("t1", "f", solution=SOLUTION)
    oracle = OracleAgent()
    turns = [Turn(action=oracle.action_for(task, i), raw="", observation="") for i in range(3)]
    assert trace_match(turns, task.solution)
    assert turn_matches(turns, task) == (3, 3)


def test_exact_trace_matches_the_solution_with_enter_keystrokes():
    turns = [turn("mkdir out\n"), turn("sort data.txt > out/sorted.txt\n", done=True)]
    assert trace_match(turns, SOLUTION)


def test_exact_trace_accepts_all_commands_in_one_turn_and_skips_unparsed_turns():
    turns = [bad(), turn("mkdir out\n", "sort data.txt > out/sorted.txt\n", done=True)]
    assert trace_match(turns, SOLUTION)


def test_exact_trace_needs_task_complete_on_the_last_turn():
    assert not trace_match([turn("mkdir out\n"), turn("sort data.txt > out/sorted.txt\n")], SOLUTION)
    assert not trace_match([turn("mkdir out\n"), turn("sort data.txt > out/sorted.txt\n", done=True), bad()], SOLUTION)


def test_exact_trace_rejects_wrong_order_extra_or_different_keystrokes():
    assert not trace_match([turn("sort data.txt > out/sorted.txt\n"), turn("mkdir out\n", done=True)], SOLUTION)
    assert not trace_match([turn("mkdir out\n", "ls\n"), turn("sort data.txt > out/sorted.txt\n", done=True)], SOLUTION)
    assert not trace_match([turn("mkdir  out\n"), turn("sort data.txt > out/sorted.txt\n", done=True)], SOLUTION)
    assert not trace_match([], SOLUTION)


def test_turn_match_counts_aligned_turns_over_the_longer_trace(task_factory):
    task = task_factory("t", "f", solution=SOLUTION)
    # both commands right, but completion declared on the second command's turn: 1 of 3
    assert turn_matches([turn("mkdir out\n"), turn("sort data.txt > out/sorted.txt\n", done=True)], task) == (1, 3)
    # turn 1 claims completion too early; turns 2 and 3 match; a fourth, extra turn counts against
    assert turn_matches(
        [turn("mkdir out\n", done=True), turn("sort data.txt > out/sorted.txt\n"), turn(done=True), turn("ls\n")],
        task,
    ) == (2, 4)
    assert turn_matches([bad()], task) == (0, 3)


def test_first_miss_names_the_turn_where_the_episode_leaves_the_reference(task_factory):
    task = task_factory("t", "f", solution=SOLUTION)
    right = [turn("mkdir out\n"), turn("sort data.txt > out/sorted.txt\n"), turn(done=True)]
    assert first_miss(right, task) is None
    assert first_miss([bad(), *right[1:]], task) == 1
    assert first_miss([right[0], turn("sort data.txt\n"), turn(done=True)], task) == 2
    assert first_miss(right[:2], task) == 3  # stopped before the closing turn
    assert first_miss([*right, turn("ls\n")], task) == 4  # an extra turn


def _traj(task, turns, passed):
    return Trajectory(
        id=f"eval-{task.id}", task_id=task.id, family=task.family, source=task.source, domain=task.domain,
        skills=task.skills, difficulty=task.difficulty, agent="finetuned", model="m", instruction=task.instruction,
        turns=turns, messages=[], reward=1.0 if passed else 0.0, passed=passed, n_turns=len(turns),
        n_commands=sum(len(t.action.commands) for t in turns if t.action), sandbox="bwrap",
        lineage=Lineage(task_digest=task.digest()),
    )


def test_summary_rates_and_domain_table(task_factory):
    t1 = task_factory("a1", "fa", solution=["echo hello > /app/out.txt"])
    t2 = task_factory("b1", "fb", domain="security")
    t3 = task_factory("b2", "fb", domain="security")
    results = [
        EpisodeResult(_traj(t1, [turn("echo hello > /app/out.txt\n"), turn(done=True)], True)),
        EpisodeResult(_traj(t2, [bad(), turn("ls\n", done=True)], False)),
        EpisodeResult(_traj(t3, [bad(), bad(), bad()], False), context_ended=True),
    ]
    m = summarize([t1, t2, t3], results)
    assert m["n"] == 3
    assert m["success_rate"] == round(1 / 3, 4)
    assert m["mean_reward"] == round(1 / 3, 4)
    assert m["valid_json_rate"] == round(3 / 7, 4)
    assert m["trace_match"] == round(1 / 3, 4)
    assert m["turn_match_rate"] == round(2 / 7, 4)  # t1: 2 of 2, t2: 0 of 2, t3: 0 of 3
    assert m["first_miss"] == {"1": 2, "none": 1}  # t2 and t3 go wrong at once; t1 never
    assert m["mean_turns"] == round(7 / 3, 4)
    assert m["context_ended"] == 1
    assert m["by_domain"] == {"file_operations": {"n": 1, "success_rate": 1.0, "trace_match": 1.0},
                              "security": {"n": 2, "success_rate": 0.0, "trace_match": 0.0}}
    assert list(m["by_domain"]) == sorted(m["by_domain"])
    # steps: the solution's commands (one each here)
    assert m["by_steps"] == {"1": {"n": 3, "success_rate": round(1 / 3, 4), "trace_match": round(1 / 3, 4)}}


def test_empty_set_reports_only_its_size():
    assert summarize([], []) == {"n": 0}


def test_domain_rows_cover_agents_sets_and_domains_in_a_fixed_order():
    cell = {"n": 1, "success_rate": 0.5}
    metrics = {
        "finetuned": {"heldout_variants": {"by_domain": {"security": cell, "debugging": cell}}, "heldout_families": {"n": 0}},
        "base": {"heldout_variants": {"by_domain": {"debugging": {"n": 1, "success_rate": 0.0}}}},
    }
    rows = domain_rows(metrics, ["finetuned", "base"], ["heldout_variants", "heldout_families"])
    assert rows == [
        ("debugging", "finetuned", "heldout_variants", 0.5),
        ("security", "finetuned", "heldout_variants", 0.5),
        ("debugging", "base", "heldout_variants", 0.0),
    ]


def test_trials_give_mean_stderr_and_per_task_tables(task_factory):
    t1 = task_factory("a1", "fa", skills=["file_moving", "text_search"])
    t2 = task_factory("b1", "fb", domain="security", skills=["text_search"])
    ok, no = [turn(done=True)], [bad()]
    # trial-major: trial 0 (t1 pass, t2 fail), trial 1 (both fail), trial 2 (both pass)
    runs = [(t1, ok, True), (t2, no, False), (t1, no, False), (t2, no, False), (t1, ok, True), (t2, ok, True)]
    m = summarize([t1, t2], [EpisodeResult(_traj(t, turns, p)) for t, turns, p in runs], trials=3, sampled=True)
    assert (m["n"], m["trials"], m["success_by_trial"]) == (2, 3, [0.5, 0.0, 1.0])
    assert m["success_rate"] == 0.5
    assert m["success_stderr"] == round((0.25 / 3) ** 0.5, 4)  # sample sd 0.5 over sqrt(3)
    assert m["by_skill"] == {"file_moving": {"n": 1, "success_rate": round(2 / 3, 4), "trace_match": 0.0},
                             "text_search": {"n": 2, "success_rate": 0.5, "trace_match": 0.0}}
    assert m["by_domain"]["security"] == {"n": 1, "success_rate": round(1 / 3, 4), "trace_match": 0.0}


def test_one_sampled_trial_has_unknown_stderr_and_greedy_has_none(task_factory):
    t = task_factory("a1", "fa")
    res = [EpisodeResult(_traj(t, [turn(done=True)], True))]
    assert summarize([t], res, sampled=True)["success_stderr"] is None
    greedy = summarize([t], res)
    assert (greedy["trials"], greedy["success_stderr"], greedy["by_skill"]) == (1, 0.0, {})
    assert "success_by_trial" not in greedy
    with pytest.raises(ValueError, match="2 trials"):
        summarize([t], res, trials=2)


def test_steps_are_composed_blocks_or_solution_commands(task_factory):
    seed_task = task_factory("a1", "fa", solution=["mkdir o", "cp a o/", "ls o"], skills=["x", "y"])
    composed = seed_task.model_copy(update={"source": "skill", "skills": ["x", "y", "z", "w"]})
    custom = seed_task.model_copy(update={"source": "skill", "skills": ["x"]})
    assert (n_steps(seed_task), n_steps(composed), n_steps(custom)) == (3, 4, 3)


def test_headline_keeps_success_per_set_and_the_rest_goes_to_detail():
    cell = {"n": 2, "trials": 1, "success_rate": 0.5, "success_stderr": 0.0, "trace_match": 0.5,
            "valid_json_rate": 1.0, "by_domain": {"security": {"n": 2, "success_rate": 0.5, "trace_match": 0.5}},
            "by_steps": {"3": {"n": 2, "success_rate": 0.5, "trace_match": 0.5}}, "by_skill": {}}
    metrics = {"finetuned": {"novel_names": cell, "extra": {"n": 0}}, "base": {"novel_names": cell},
               "sets": {"novel_names": {"n_tasks": 2}}, "models": {"finetuned": "m/1"}}
    headline, detail = split_detail(metrics, ["finetuned", "base"])
    # one flat file per agent: success per set (short names; an empty set left out) and the
    # lowest valid-JSON rate; n, trace match and the tables are detail
    assert headline == {"finetuned": {"novel_names": 0.5, "valid_json": 1.0},
                        "base": {"novel_names": 0.5, "valid_json": 1.0}}
    assert detail["finetuned"]["novel_names"]["trace_match"] == 0.5
    assert detail["base"]["novel_names"]["success_stderr"] == 0.0
    assert detail["finetuned"]["novel_names"]["by_steps"] == cell["by_steps"]
    assert detail["sets"] == metrics["sets"] and detail["models"] == metrics["models"]
