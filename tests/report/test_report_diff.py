"""`termcorpus report --base/--head` on a real DVC repo with two commits of params and metrics."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from termcorpus.curate.samples import make_trajectory, trajectory_lines
from termcorpus.report.cli import report_cmd
from termcorpus.report.diff import build_report

pytestmark = pytest.mark.integration

DVC_YAML = """\
stages:
  pipeline:
    cmd: python -c "print('not run in this test')"
    params: [balance, train]
    outs:
      - reports/eval_detail.json: {cache: false}
      - reports/balance_detail.json: {cache: false}
      - reports/generate_detail.json: {cache: false}
      - reports/validate_detail.json: {cache: false}
    metrics:
      - metrics/eval/finetuned.json: {cache: false}
      - metrics/eval/base.json: {cache: false}
      - metrics/train.json: {cache: false}
      - metrics/curation.json: {cache: false}
      - metrics/generate.json: {cache: false}
      - metrics/validation.json: {cache: false}
    plots:
      - plots/train_loss.csv: {cache: false, x: step, y: loss}
      - plots/eval_by_domain.csv: {cache: false, template: bar_horizontal, x: success_rate, y: domain}
      - plots/eval_success.png: {cache: false}
"""


def _eval(ft: float, base: float, sec: float) -> dict:
    def agent(rate: float, dom: float) -> dict:
        return {"heldout_variants": {"n": 20, "success_rate": rate, "valid_json_rate": 0.9,
                                     "by_domain": {"security": {"n": 5, "success_rate": dom}}},
                "heldout_families": {"n": 10, "success_rate": rate / 2}}
    return {"finetuned": agent(ft, sec), "base": agent(base, 0.0), "elapsed_sec": 1.0}


def write_revision(repo, *, fraction: float, ft: float, loss_scale: float, kept: int, dropped_failed: int) -> None:
    repo.write("params.yaml", f"balance:\n  filter_failed: true\n  fraction: {fraction}\ntrain:\n  max_seq_len: 512\n")
    repo.write("dvc.yaml", DVC_YAML)
    # the stages' layout: a headline metrics file each (one per agent for evaluation), detail beside
    detail = _eval(ft, 0.0, ft / 2)
    for agent in ("finetuned", "base"):
        repo.write_json(f"metrics/eval/{agent}.json", {"variants": detail[agent]["heldout_variants"]["success_rate"],
                                                       "families": detail[agent]["heldout_families"]["success_rate"]})
    repo.write_json("reports/eval_detail.json", detail)
    repo.write_json("metrics/train.json", {"loss": round(0.5 * loss_scale, 4), "val_loss": 0.7, "dropped": 0})
    repo.write_json("metrics/curation.json", {"records": kept})
    repo.write_json("reports/balance_detail.json", {
        "input_records": 100, "kept_records": kept,
        "filters": {"failed": {"kept": 100 - dropped_failed, "dropped": dropped_failed, "dropped_failed": dropped_failed}},
        "splits": {"train": {"records": kept - 10, "families": 8, "by_domain": {"security": kept - 10}},
                   "validation": {"records": 10, "families": 2, "by_domain": {"security": 10}}},
    })
    repo.write_json("metrics/generate.json", {"tasks": 120, "composed": 0.5})
    repo.write_json("reports/generate_detail.json", {"n_tasks": 120, "tasks_by_domain": {"security": 120},
                                                     "tasks_by_skill": {"chmod": 60, "find": 60}})
    repo.write_json("metrics/validation.json", {"records": 100, "success": True})
    repo.write_json("reports/validate_detail.json", {"success": True, "counts": {"records": 100, "expectations_failed": 0}})
    repo.write("plots/train_loss.csv", "step,loss\n" + "".join(f"{s},{loss_scale * 3 / (s + 1):.4f}\n" for s in range(0, 50, 10)))
    (repo.path / "plots" / "eval_success.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes([int(ft * 100)]))
    repo.write("plots/eval_by_domain.csv", "domain,agent,set,success_rate\n"
               f"security,finetuned,heldout_variants,{ft / 2}\nsecurity,base,heldout_variants,0.0\n")


@pytest.fixture(scope="module")
def two_commits(module_repo_maker):
    dvc_repo = module_repo_maker("two-commits")
    write_revision(dvc_repo, fraction=1.0, ft=0.4, loss_scale=1.0, kept=90, dropped_failed=10)
    dvc_repo.commit("base")
    write_revision(dvc_repo, fraction=0.5, ft=0.55, loss_scale=0.8, kept=50, dropped_failed=10)
    dvc_repo.commit("head")
    trajs = [make_trajectory("t-sec-1", domain="security", skills=["chmod"], instruction="Make <run.sh> executable"),
             make_trajectory("t-file-1", domain="file_operations", passed=False),
             make_trajectory("t-file-0", domain="file_operations")]
    dvc_repo.write("data/trajectories/trajectories.jsonl", trajectory_lines(trajs))
    return dvc_repo


def test_report_shows_changed_param_and_metric_deltas(two_commits):
    repo = two_commits
    out = repo.path / "out" / "report.md"
    res = CliRunner().invoke(report_cmd, ["--repo", str(repo.path), "--base", "HEAD~1", "--head", "HEAD",
                                          "--out", str(out), "--plots-dir", str(repo.path / "out" / "plots"),
                                          "--no-lineage"])
    assert res.exit_code == 0, res.output
    md = out.read_text()
    # the changed param, old -> new
    assert re.search(r"\| params.yaml:balance.fraction \| 1 \| 0.5 \|", md)
    assert "max_seq_len" not in md.split("## Params")[1].split("## Metrics")[0]  # unchanged: not listed
    # headline metric deltas
    assert re.search(r"\| fine-tuned success, held-out variants \| 0.4 \| 0.55 \| \+0.15 \|", md)
    assert re.search(r"\| final training loss \| 0.5 \| 0.4 \| -0.1 \|", md)
    assert re.search(r"\| corpus records kept \| 90 \| 50 \| -40 \|", md)
    # base vs fine-tuned per evaluation set, with the fine-tuning gain at head
    assert re.search(r"\| variants \| 0 \| 0.4 \| 0 \| 0.55 \| \+0.15 \| \+0.55 \|", md)
    # grouped breakdowns: corpus per domain, filter removals, validation, per-domain success
    assert "### Corpus train records per domain" in md and re.search(r"\| security \| 80 \| 40 \| -40 \|", md)
    assert "### Filter removals" in md and "| failed / dropped_failed | 10 | 10 | ±0 |" in md
    assert "### Validation (Great Expectations)" in md
    assert "| heldout_variants / security | 0.2 | 0.275 | +0.075 |" in md
    assert "2 unchanged rows left out." in md  # tasks_by_skill is changed-only
    # plots: PNGs written and linked relative to the report, plus the data tables
    pngs = sorted((repo.path / "out" / "plots").glob("*.png"))
    assert [p.name for p in pngs] == ["plots_eval_by_domain_csv.png", "plots_train_loss_csv.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    assert "](plots/plots_train_loss_csv.png)" in md
    assert "| security / finetuned / heldout_variants | 0.2 | 0.275 | +0.075 |" in md
    assert "| HEAD | 5 | 2.4 | 0.0585 | 0.0585 |" in md
    # one sample per domain, passing first, HTML in the instruction escaped
    assert md.count("<details>") == 2 and "t-file-0" in md and "t-file-1" not in md
    assert "Make &lt;run.sh&gt; executable" in md


def test_report_embeds_pngs_without_plots_dir(two_commits):
    repo = two_commits
    md = build_report(repo=repo.path, base="HEAD~1", head="HEAD", samples_per_domain=0)
    assert md.count("](data:image/png;base64,") == 2
    assert "<details>" not in md
    # DVC's own copies of image plots (default ./dvc_plots) must not land in the user's tree
    assert not (repo.path / "dvc_plots").exists()


def test_report_against_workspace_and_without_images(two_commits):
    repo = two_commits
    repo.write_json("metrics/train.json", {"loss": 0.1, "val_loss": 0.7, "dropped": 0})
    try:
        md = build_report(repo=repo.path, base="HEAD", images=False)
    finally:
        repo.sh("git", "checkout", "--", "metrics/train.json")
    assert "`HEAD` → `workspace`" in md
    assert re.search(r"\| final training loss \| 0.4 \| 0.1 \| -0.3 \|", md)
    assert "data:image/png" not in md and "| workspace | 5 |" in md


def test_unknown_revision_is_one_line_error(two_commits):
    res = CliRunner().invoke(report_cmd, ["--repo", str(two_commits.path), "--base", "no-such-rev", "--no-lineage"])
    assert res.exit_code == 2
    assert "unknown Git revision 'no-such-rev'" in res.output
    assert "Traceback" not in res.output


def test_report_needs_base_or_experiments(tmp_path):
    res = CliRunner().invoke(report_cmd, ["--repo", str(tmp_path)])
    assert res.exit_code == 2 and "--base" in res.output
