"""Near-duplicate removal (MinHash LSH): copies that differ in layout or incidental digits go,
variants of one template (different slot values) stay, and the outcome is deterministic."""

from __future__ import annotations

from pathlib import Path

import pytest

from termcorpus.curate import build_corpus
from termcorpus.curate.dedup import NearDupFilter, near_duplicate_pairs, normalize, shingles
from termcorpus.curate.samples import make_trajectory, trajectory_lines, trajectory_of_task
from termcorpus.generate.pipeline import generate_tasks
from termcorpus.params import BalanceParams
from termcorpus.generate.catalog import build_catalog

REPO = Path(__file__).resolve().parents[2]

INSTR = ("bash {s}.sh fails with a syntax error because its if statement is never closed. Add the missing fi "
         "just before done so that it prints the sum of the numbers greater than {thr}.")
CMDS = [["cat {s}.sh"], ["sed -i 's/^done$/  fi\\ndone/' {s}.sh"], ["bash {s}.sh > /tmp/check.txt"]]


def variant(id: str, s: str, thr: str, *, instruction: str | None = None, extra: str = "") -> "object":
    return make_trajectory(
        id, family="dbg_fi", instruction=instruction or INSTR.format(s=s, thr=thr),
        commands=[[c.format(s=s) + extra for c in turn] for turn in CMDS], slots={"s": s, "thr": thr},
    )


def test_normalize_collapses_whitespace_and_masks_digits():
    text = "  bash  panda72.sh\n\tsleep 15; echo 53 > out3.txt "
    assert normalize(text) == "bash panda0.sh sleep 0; echo 0 > out0.txt"


def test_shingles_are_word_trigrams_and_short_text_is_one_shingle():
    assert shingles("a b c d") == {"a b c", "b c d"}
    assert shingles("ls -la") == {"ls -la"}


def test_copy_differing_in_whitespace_and_incidental_digits_is_dropped():
    orig = variant("a1", "panda72", "53")
    spaced = "  " + INSTR.format(s="panda72", thr="53").replace(" ", "   ")
    respaced = variant("a2", "panda72", "53", instruction=spaced)
    other_sleep = variant("a3", "panda72", "53", extra=" && sleep 2")
    more_sleep = variant("a4", "panda72", "53", extra=" && sleep 30")
    f = NearDupFilter(threshold=0.9, num_perm=64)
    kept = f.run([orig, respaced, other_sleep, more_sleep])
    assert [t.id for t in kept] == ["a1", "a3"]
    assert f.counts() == {"kept": 2, "dropped": 2, "dropped_near_duplicate": 2}
    assert [(r.id, r.reason, r.detail) for r in f.rejects] == [
        ("a2", "near_duplicate", "near duplicate of a1"), ("a4", "near_duplicate", "near duplicate of a3")]


def test_variants_whose_names_differ_only_in_digits_survive():
    # panda72 / panda15 / panda16 are one text once digits are masked: the slot values tell them apart
    vs = [variant("v1", "panda72", "53"), variant("v2", "panda15", "59"), variant("v3", "panda16", "53")]
    assert near_duplicate_pairs(vs) == []
    assert near_duplicate_pairs(vs[:1] + [variant("v2", "panda72", "53")]) == [("v2", "v1")]


def test_slotless_copy_of_a_generated_instance_is_dropped():
    # an imported task repeating a generated one carries no slots: its text is compared
    orig = variant("a-gen", "panda72", "53")
    imported = orig.model_copy(update={"id": "b-import", "slots": {}, "source": "import"})
    assert near_duplicate_pairs([orig, imported]) == [("b-import", "a-gen")]


def test_real_generated_variants_are_not_near_duplicates():
    """Every seed of the repo, 12 variants each: the 0.9 threshold must keep them all."""
    cat = build_catalog(seeds_dir=REPO / "data/seeds", skills_dir=REPO / "data/skills")
    res = generate_tasks(cat.seeds, cat.taxonomy, seed=1234, n_variants=12, n_heldout_variants=0)
    trajs = sorted((trajectory_of_task(t) for t in res.tasks), key=lambda t: t.id)
    assert len(trajs) > 500 and len({t.family for t in trajs}) >= len(cat.seeds)
    assert near_duplicate_pairs(trajs) == []
    # ...while masking the slot values too would have merged some (dm_pin_version: versions differ in digits)
    unprotected = [t.model_copy(update={"slots": {}}) for t in trajs]
    assert near_duplicate_pairs(unprotected)


def test_keep_first_by_id_whatever_the_file_order(tmp_path):
    a, b = variant("b-orig", "panda72", "53"), variant("a-copy", "panda72", "53", extra="  ")
    c = variant("c-other", "lazy_apple", "59")
    dropped = []
    for order in ([a, b, c], [c, b, a]):
        src = tmp_path / "t.jsonl"
        src.write_text(trajectory_lines(order))
        m = build_corpus(trajectories=src, params=BalanceParams(val_fraction=0.0, decontam_ngram=0),
                         out_dir=tmp_path / "corpus")
        assert m["filters"]["near_duplicate"] == {"kept": 2, "dropped": 1, "dropped_near_duplicate": 1}
        dropped.append((tmp_path / "corpus" / "rejects.jsonl").read_text())
    assert dropped[0] == dropped[1]
    assert '"id":"b-orig"' in dropped[0] and "near duplicate of a-copy" in dropped[0]


def test_near_dup_param_off_keeps_the_copy(tmp_path):
    src = tmp_path / "t.jsonl"
    src.write_text(trajectory_lines([variant("a1", "panda72", "53"), variant("a2", "panda72", "53", extra=" ")]))
    m = build_corpus(trajectories=src, params=BalanceParams(val_fraction=0.0, near_dup=False),
                     out_dir=tmp_path / "corpus")
    assert "near_duplicate" not in m["filters"] and m["kept_records"] == 2
    assert m["near_dup"]["enabled"] is False


@pytest.mark.parametrize("threshold,expected", [(0.95, []), (0.6, [("v2", "v1")]), (0.3, [("v2", "v1"), ("v3", "v1")])])
def test_threshold_decides_how_close_counts(threshold, expected):
    # slotless (imported) records: similarity of the text alone decides
    base = INSTR.format(s="panda", thr="x")
    vs = [make_trajectory("v1", instruction=base, slots={}),
          make_trajectory("v2", instruction=base.replace("just before done", "right after the loop"), slots={}),
          make_trajectory("v3", instruction=base[: len(base) // 2], slots={})]
    assert near_duplicate_pairs(vs, threshold=threshold) == expected
