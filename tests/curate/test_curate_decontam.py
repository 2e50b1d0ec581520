"""14-gram decontamination: an evaluation instance copied into training data goes, sibling
variants of the same template (held out by design) stay."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from termcorpus.curate import build_corpus
from termcorpus.curate.decontam import (
    DecontamFilter,
    EvalItem,
    items_from_tasks,
    items_from_trajectories,
    slot_tokens,
)
from termcorpus.curate.samples import make_trajectory, trajectory_lines, trajectory_of_task
from termcorpus.errors import DataError
from termcorpus.generate.pipeline import generate_tasks
from termcorpus.params import BalanceParams
from termcorpus.records import Task, write_jsonl
from termcorpus.generate.catalog import build_catalog

REPO = Path(__file__).resolve().parents[2]

TEMPLATE = ("Some rows of {f}.csv (header row, comma-separated) have an empty {col} field (column {i}). "
            "Write the number of such rows to {out}.txt.")
SOLUTION = "awk -F, 'NR>1 && ${i}==\"\"' {f}.csv | wc -l > {out}.txt"


def task(id: str, **slots: str) -> Task:
    return Task(id=id, family="ds_count_missing", source="seed", domain="data_processing", skills=["awk"],
                instruction=TEMPLATE.format(**slots), solution=[SOLUTION.format(**slots)],
                tests={"test.sh": "exit 0\n"}, slots=slots)


EVAL = task("ds_count_missing-v0013", f="icy_circle", out="proud_prism", col="height", i="2")


def training(t: Task, id: str | None = None, **kw):
    return trajectory_of_task(t, id=id or t.id).model_copy(update=kw)


def drops(items, records, n=14) -> list[str]:
    f = DecontamFilter(items, n)
    f.run(records)
    return [r.id for r in f.rejects]


def test_slot_tokens_marks_whole_word_values():
    tokens, marks = slot_tokens("wc -l icy_circle.csv > a2.txt 2", {"f": "icy_circle", "i": "2"})
    assert tokens == ["wc", "-l", "icy_circle.csv", ">", "a2.txt", "2"]
    assert marks == [set(), set(), {"f"}, set(), set(), {"i"}]


def test_exact_copy_of_an_eval_instruction_is_dropped():
    copy = make_trajectory("copy", family="other", instruction=EVAL.instruction, commands=[["ls"]], slots={})
    f = DecontamFilter(items_from_tasks([EVAL]), 14)
    assert f.run([copy]) == []
    assert f.counts() == {"kept": 0, "dropped": 1, "dropped_contaminated": 1}
    assert f.rejects[0].detail == "shares 14-grams with heldout_task ds_count_missing-v0013"


def test_sibling_variant_sharing_template_and_two_slot_values_is_kept():
    # a training sibling: same template, same column name and number, other file names
    sibling = task("ds_count_missing-v0008", f="rapid_glove", out="rough_branch", col="height", i="2")
    assert drops(items_from_tasks([EVAL]), [training(sibling)]) == []


def test_eval_solution_typed_in_training_is_dropped():
    long_solution = EVAL.model_copy(update={"solution": [
        f"head -n 3 icy_circle.csv && awk -F, 'NR>1 && $2==\"\"' icy_circle.csv | wc -l > proud_prism.txt && "
        "cat proud_prism.txt"]})
    typed = make_trajectory("typed", family="other", instruction="Count the rows.",
                            commands=[[long_solution.solution[0]]], slots={})
    assert drops(items_from_tasks([long_solution]), [typed]) == ["typed"]


def test_short_eval_instruction_is_matched_whole():
    short = Task(id="fo-v9", family="fo_chmod", source="seed", domain="security", skills=["chmod"],
                 instruction="Change the permissions of clever_castle.pem to mode 710 (octal).",
                 solution=["chmod 710 clever_castle.pem"], tests={"test.sh": "exit 0\n"},
                 slots={"f": "clever_castle", "ext": "pem", "mode": "710"})
    copy = make_trajectory("copy", instruction=short.instruction, slots={})
    sibling = make_trajectory("sib", instruction="Change the permissions of fancy_pebble.key to mode 710 (octal).",
                              slots={"f": "fancy_pebble", "ext": "key", "mode": "710"})
    assert drops(items_from_tasks([short]), [copy, sibling]) == ["copy"]


def test_slotless_eval_item_counts_any_shared_ngram():
    text = " ".join(f"w{i}" for i in range(20))
    item = EvalItem(id="imp-1", kind="heldout_task", pieces=(text,), slots={})
    partial = make_trajectory("p", instruction="intro " + " ".join(f"w{i}" for i in range(3, 17)) + " outro", slots={})
    shorter = make_trajectory("s", instruction=" ".join(f"w{i}" for i in range(3, 16)), slots={})
    assert drops([item], [partial, shorter]) == ["p"]


def test_validation_trajectory_copied_into_another_family_is_dropped():
    val = training(EVAL, id="val-1")
    leak = training(EVAL, id="leak", family="other_family")
    assert drops(items_from_trajectories([val]), [leak]) == ["leak"]


def test_real_heldout_variants_remove_no_training_sibling_but_catch_their_copies():
    cat = build_catalog(seeds_dir=REPO / "data/seeds", skills_dir=REPO / "data/skills")
    res = generate_tasks(cat.seeds, cat.taxonomy, seed=1234, n_variants=12, n_heldout_variants=2)
    train = [trajectory_of_task(t) for t in res.tasks]
    copies = [make_trajectory(f"copy-{h.id}", instruction=h.instruction, slots={}) for h in res.heldout]
    f = DecontamFilter(items_from_tasks(res.heldout), 14)
    kept = f.run(train + copies)
    assert len(res.heldout) > 100
    assert [t.id for t in kept] == [t.id for t in train]


def _corpus_input(tmp: Path) -> tuple[Path, Path]:
    trajs = [training(task(f"fam{f}-v{v}", f=f"file{f}x{v}", out=f"out{f}x{v}", col="height", i=str(v)),
                      family=f"fam{f}") for f in range(6) for v in range(3)]
    heldout = [task("fam0-v9", f="eval_only", out="eval_out", col="weight", i="7")]
    trajs.append(training(heldout[0], id="zz-leak", family="fam5"))
    src, ev = tmp / "t.jsonl", tmp / "heldout.jsonl"
    src.write_text(trajectory_lines(trajs))
    write_jsonl(ev, heldout)
    return src, ev


def test_build_corpus_counts_contaminated_and_lists_rejects(tmp_path):
    src, ev = _corpus_input(tmp_path)
    m = build_corpus(trajectories=src, params=BalanceParams(val_fraction=0.0), out_dir=tmp_path / "c", eval_tasks=ev)
    assert m["filters"]["contaminated"] == {"kept": 18, "dropped": 1, "dropped_contaminated": 1}
    assert m["decontamination"]["eval_tasks"] == 1 and m["decontamination"]["ngram"] == 14
    rejects = [json.loads(line) for line in (tmp_path / "c" / "rejects.jsonl").read_text().splitlines()]
    assert rejects == [{"id": "zz-leak", "filter": "contaminated", "reason": "contaminated",
                        "detail": "shares 14-grams with heldout_task fam0-v9"}]
    off = build_corpus(trajectories=src, params=BalanceParams(val_fraction=0.0, decontam_ngram=0),
                       out_dir=tmp_path / "c", eval_tasks=ev)
    assert "contaminated" not in off["filters"] and off["kept_records"] == 19


def test_bad_eval_task_file_is_a_data_error_naming_the_line(tmp_path):
    src, ev = _corpus_input(tmp_path)
    ev.write_text(ev.read_text() + '{"id": "x"}\n')
    with pytest.raises(DataError, match=r"heldout.jsonl:2: field '\w+'"):
        build_corpus(trajectories=src, params=BalanceParams(), out_dir=tmp_path / "c", eval_tasks=ev)
