"""Report building blocks in memory: formatting, metric globs, plots, experiments table, grid checks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from termcorpus.curate.samples import make_trajectory
from termcorpus.params import load_section, read_params_file
from termcorpus.report.ablate import check_overrides, load_grid, override_value, queue_args
from termcorpus.report.cli import ablate_cmd
from termcorpus.report.diff import ReportInputs, render_report
from termcorpus.report.dvc import Change, ExpRow, PlotData
from termcorpus.report.experiments import experiments_table, key_matches
from termcorpus.report.markdown import fmt, fmt_delta, table
from termcorpus.report.plots import plot_png, plot_table, render_plot
from termcorpus.report.samples import pick_samples

REPO = Path(__file__).resolve().parents[2]


def test_numbers_format_compactly_and_deltas_are_signed():
    assert [fmt(None), fmt(True), fmt(3), fmt(3.0), fmt(0.5), fmt(1 / 3), fmt(12345.678), fmt([1, 2])] == \
        ["-", "true", "3", "3", "0.5", "0.3333", "12345.68", "[1, 2]"]
    assert [fmt_delta(None), fmt_delta(0.0), fmt_delta(0.15000000000000002), fmt_delta(-40)] == ["", "±0", "+0.15", "-40"]


def test_table_cells_cannot_break_rows():
    md = table(["k", "v"], [["a|b", "line1\nline2"]])
    assert md.splitlines()[2] == "| a\\|b | line1 line2 |"


def test_metric_glob_matches_one_segment_per_star():
    k = "metrics/eval.json:finetuned.heldout_variants.success_rate"
    deep = "metrics/eval.json:finetuned.heldout_variants.by_domain.security.success_rate"
    assert key_matches("eval.json:finetuned.*.success_rate", k)
    assert not key_matches("eval.json:finetuned.*.success_rate", deep)
    assert key_matches("finetuned.*.by_domain.*.success_rate", deep)
    assert not key_matches("train.json:finetuned.*.success_rate", k)


def _exp(name, state, fraction, rate, *, baseline=False, error=""):
    return ExpRow(name=name, rev=f"{name}0000000", baseline="main", is_baseline=baseline, state=state,
                  params={"params.yaml:balance.fraction": fraction, "params.yaml:train.max_seq_len": 512},
                  metrics={} if rate is None else {"metrics/eval/finetuned.json:variants": rate,
                                                   "metrics/eval/base.json:variants": 0.0,
                                                   "metrics/other.json:finetuned.heldout_variants.by_domain.x.success_rate": 1.0},
                  error=error)


def test_experiments_table_deltas_are_against_the_baseline_experiment():
    rows = [_exp("main", "baseline", 1.0, 0.9, baseline=True), _exp("data-50", "success", 0.5, 0.45),
            _exp("baseline", "success", 1.0, 0.5), _exp("broken", "failed", 0.25, None, error="stage failed")]
    md = experiments_table(rows)
    lines = md.splitlines()
    # two files share the key 'variants': the header names each file's stem
    assert "| experiment | state | params changed | finetuned.variants | base.variants |" in lines
    body = [ln for ln in lines if ln.startswith("| ") and "---" not in ln][1:]
    # commit first, then experiments by name; the 'baseline' experiment is the reference
    assert [ln.split(" | ")[0] for ln in body] == ["| main", "| baseline (ref)", "| broken", "| data-50"]
    assert "| data-50 | success | balance.fraction=0.5 | 0.45 (-0.05) | 0 (±0) |" in lines
    assert "| main | baseline | commit | 0.9 (+0.4) | 0 (±0) |" in lines
    assert "| broken | failed: stage failed | balance.fraction=0.25 | - | - |" in lines
    assert "Deltas are against `baseline`." in md


def test_experiments_table_without_experiments_says_how_to_run_them():
    assert "termcorpus ablate --run" in experiments_table([])


def _plots() -> list[PlotData]:
    loss = PlotData(path="plots/train_loss.csv", revisions=["a", "b"], x="step", y="loss", template="line",
                    rows=[{"step": str(s), "loss": str(3 / (s + 1) * k), "rev": rev}
                          for rev, k in (("a", 1.0), ("b", 0.5)) for s in range(4)])
    bars = PlotData(path="plots/eval_by_domain.csv", revisions=["a", "b"], x="success_rate", y="domain",
                    template="bar", rows=[{"domain": d, "agent": "finetuned", "success_rate": str(v), "rev": rev}
                                          for rev, v in (("a", 0.25), ("b", 0.5)) for d in ("security", "debugging")])
    return [loss, bars]


def test_plots_render_to_identical_png_bytes_and_tables():
    loss, bars = _plots()
    png = plot_png(loss, ["a", "b"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png == plot_png(loss, ["a", "b"])
    assert plot_png(bars, ["a", "b"]) == plot_png(bars, ["a", "b"])
    assert "| b | 4 | 1.5 | 0.375 | 0.375 |" in plot_table(loss, ["a", "b"])
    assert "| security / finetuned | 0.25 | 0.5 | +0.25 |" in plot_table(bars, ["a", "b"])


def test_render_report_is_deterministic_and_lists_changes():
    inputs = ReportInputs(
        base="main", head=None,
        params=[Change("params.yaml", "balance.fraction", 1.0, 0.5)],
        metrics=[Change("metrics/train.json", "loss", 0.5, 0.4),
                 Change("metrics/custom.json", "thing", 1, 2),
                 Change("metrics/custom.json", "same", 1, 1)],
        plots=[render_plot(p, ["main", "workspace"], images=True) for p in _plots()],
        samples=pick_samples([make_trajectory("t1")], 1),
    )
    md = render_report(inputs)
    assert md == render_report(inputs)
    assert "1 params changed, 2 of 3 metrics changed." in md
    assert "| final training loss | 0.5 | 0.4 | -0.1 |" in md
    assert "### Other changed metrics" in md and "| custom.json:thing | 1 | 2 | +1 |" in md
    assert "custom.json:same" not in md


def test_samples_pick_passing_first_per_domain_by_id():
    ts = [make_trajectory("b", passed=False), make_trajectory("c"), make_trajectory("a", passed=False),
          make_trajectory("z", domain="security")]
    assert [t.id for t in pick_samples(ts, 2)] == ["c", "a", "z"]


def test_override_values_read_back_as_the_same_values(tmp_path):
    values = (True, False, 0, 256, 0.25, 1e-05, "tiny", "true", "1.5", "a b", [], ["security", "debugging"])
    (tmp_path / "p.yaml").write_text("".join(f"k{i}: {override_value(v)}\n" for i, v in enumerate(values)))
    assert read_params_file(tmp_path / "p.yaml") == {f"k{i}": v for i, v in enumerate(values)}


def test_params_file_reads_exponent_floats_the_way_dvc_writes_them(tmp_path):
    # `dvc exp run -S train.lr=1e-5` writes 'lr: 1e-05', a string to YAML 1.1 readers
    (tmp_path / "params.yaml").write_text("train:\n  lr: 1e-05\n")
    assert load_section("train", tmp_path / "params.yaml").lr == 1e-05
    assert queue_args("x", {"train.lr": 0.01, "balance.curriculum": False}) == [
        "exp", "run", "--queue", "-n", "x", "-S", "balance.curriculum=false", "-S", "train.lr=0.01"]


@pytest.mark.parametrize("grid_file", ["params_ablations.yaml", "configs/ablations_small.yaml"])
def test_shipped_ablation_grid_is_valid_against_shipped_params(grid_file):
    grid = load_grid(REPO / grid_file)
    names = [e.name for e in grid.experiments]
    assert names[0] == "baseline" and {"no-filter-failed", "no-curriculum", "data-25",
                                       "skill-only", "mixed"} <= set(names)
    for exp in grid.experiments:
        check_overrides(grid.overrides_of(exp), REPO / "params.yaml", where=exp.name)


@pytest.mark.parametrize("body, message", [
    ("experiments: {x: {set: {balance.fractio: 0.5}}}", "unknown key 'balance.fractio'"),
    ("experiments: {x: {set: {balance.fraction: 2.0}}}", "'balance.fraction' must be <= 1.0"),
    ("experiments: {x: {set: {nosuch.key: 1}}}", "unknown params section 'nosuch'"),
    ("experiments: {x: {set: {fraction: 1}}}", "must be 'section.key'"),
    ("experiments: {'bad name': {set: {}}}", "git ref"),
    ("experiments: {x: {sett: {}}}", "'help' and 'set'"),
    ("runs: {}", "'experiments' mapping"),
])
def test_bad_grid_fails_with_one_line_naming_the_entry(tmp_path, body, message):
    shutil.copy(REPO / "params.yaml", tmp_path / "params.yaml")
    (tmp_path / "grid.yaml").write_text(body + "\n")
    res = CliRunner().invoke(ablate_cmd, ["--repo", str(tmp_path), "--grid", str(tmp_path / "grid.yaml"), "--dry-run"])
    assert res.exit_code == 2, res.output
    assert message in res.output and len(res.output.strip().splitlines()) == 1


def test_ablate_dry_run_prints_the_dvc_commands(tmp_path):
    shutil.copy(REPO / "params.yaml", tmp_path / "params.yaml")
    res = CliRunner().invoke(ablate_cmd, ["--repo", str(tmp_path), "--grid", str(REPO / "params_ablations.yaml"),
                                          "--only", "data-25", "--only", "skill-only", "--set", "train.max_steps=20",
                                          "--dry-run"])
    assert res.exit_code == 0, res.output
    assert res.output.splitlines() == [
        "would run: dvc exp run --queue -n data-25 -S balance.fraction=0.25 -S train.max_steps=20",
        "would run: dvc exp run --queue -n skill-only -S train.max_steps=20 -S 'train.subsets=[skill_based]'",
    ]


def test_ablate_only_unknown_name_is_refused(tmp_path):
    shutil.copy(REPO / "params.yaml", tmp_path / "params.yaml")
    res = CliRunner().invoke(ablate_cmd, ["--repo", str(tmp_path), "--grid", str(REPO / "params_ablations.yaml"),
                                          "--only", "nope", "--dry-run"])
    assert res.exit_code == 2 and "no experiment named 'nope'" in res.output
