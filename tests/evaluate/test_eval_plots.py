"""The base-vs-fine-tuned success bar plot: a real PNG, the same bytes for the same metrics."""

from __future__ import annotations

from termcorpus.evaluate.plots import plot_sets, write_success_plot

METRICS = {
    "finetuned": {"heldout_variants": {"n": 10, "trials": 3, "success_rate": 0.6, "success_stderr": 0.05},
                  "novel_names": {"n": 2, "trials": 3, "success_rate": 0.1667, "success_stderr": 0.1667},
                  "heldout_families": {"n": 4, "trials": 3, "success_rate": 0.0, "success_stderr": 0.0},
                  "extra": {"n": 0}},
    "base": {"heldout_variants": {"n": 10, "trials": 3, "success_rate": 0.0, "success_stderr": 0.0},
             "novel_names": {"n": 2, "trials": 3, "success_rate": 0.0, "success_stderr": 0.0},
             "heldout_families": {"n": 4, "trials": 3, "success_rate": 0.0, "success_stderr": 0.0},
             "extra": {"n": 0}},
}


def test_empty_sets_are_not_drawn():
    assert plot_sets(METRICS, ["heldout_variants", "extra", "heldout_families"]) == ["heldout_variants",
                                                                                      "heldout_families"]


def test_plot_is_a_png_with_the_same_bytes_each_time(tmp_path):
    drawn = write_success_plot(tmp_path / "a" / "eval_success.png", METRICS)
    write_success_plot(tmp_path / "b.png", METRICS)
    png = (tmp_path / "a" / "eval_success.png").read_bytes()
    assert drawn == ["heldout_variants", "heldout_families", "novel_names"]
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png == (tmp_path / "b.png").read_bytes()
    assert b"matplotlib" not in png  # no version metadata to change the bytes on an upgrade
    assert not list(tmp_path.glob("**/*.tmp"))


def test_no_task_at_all_still_writes_a_plot(tmp_path):
    assert write_success_plot(tmp_path / "p.png", {"finetuned": {}, "base": {}}) == []
    assert (tmp_path / "p.png").stat().st_size > 0
