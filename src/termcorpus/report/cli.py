"""Click commands ``report`` and ``ablate`` (registered on the ``termcorpus`` group by cli.py).

Each maps its options onto one library call. A domain error becomes one line on stderr and exit
code 2 here too, so the commands behave the same when invoked on their own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from termcorpus.errors import ConfigError
from termcorpus.runtime import domain_errors


def params_path_of(ctx: click.Context, repo: Path) -> Path:
    """The group's --params when it ran, else the repo's params.yaml."""
    obj = ctx.find_root().obj
    if isinstance(obj, dict) and obj.get("params_path"):
        p = Path(obj["params_path"])
        return p if p.is_absolute() or p.exists() else repo / p
    return repo / "params.yaml"


@click.command("report")
@click.option("--base", help="Compare against this git revision, tag or experiment (e.g. origin/main).")
@click.option("--head", default=None, help="Compare this revision (default: the workspace).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the Markdown here (default: print it).")
@click.option("--plots-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write the plot PNGs into this folder and link them (default: embed them).")
@click.option("--images/--no-images", default=True, show_default=True,
              help="Draw the plots as PNGs; without, plots are tables only (fits a PR comment).")
@click.option("--experiments", is_flag=True, help="Add the table of `dvc exp show` results against the baseline.")
@click.option("--metric", "metrics", multiple=True,
              help="Show this metric in the experiments table ('FILE:dotted.key', '*' per segment); repeatable.")
@click.option("--samples", default=1, show_default=True, type=click.IntRange(min=0),
              help="Embed this many sample trajectories per domain (0: none).")
@click.option("--trajectories", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("data/trajectories/trajectories.jsonl"), show_default=True,
              help="Take the sample trajectories from this JSONL.")
@click.option("--model-dir", default="models/terminal-agent", show_default=True,
              help="Read the model version from this checkpoint directory's termcorpus.json.")
@click.option("--lineage/--no-lineage", default=True, show_default=True,
              help="Add the MLflow lineage of the model at both revisions.")
@click.option("--repo", type=click.Path(file_okay=False, exists=True, path_type=Path), default=Path("."),
              help="Run DVC in this repository.")
@click.pass_context
@domain_errors()
def report_cmd(ctx: click.Context, base: str | None, head: str | None, out: Path | None, plots_dir: Path | None,
               images: bool, experiments: bool, metrics: tuple[str, ...], samples: int, trajectories: Path,
               model_dir: str, lineage: bool, repo: Path) -> None:
    """Write the experiment diff between two revisions (and the ablation table) as Markdown."""
    from termcorpus.report.diff import build_report
    from termcorpus.report.experiments import DEFAULT_METRICS, experiments_report

    if base is None and not experiments:
        raise ConfigError("give --base REV (a diff) and/or --experiments (the ablation table)")
    tracking = None
    if lineage and base is not None:
        from termcorpus.params import load_section

        params_file = params_path_of(ctx, repo)
        tracking = load_section("mlflow", params_file) if params_file.exists() else None
    parts = []
    if base is not None:
        parts.append(build_report(
            repo=repo, base=base, head=head, out=out, plots_dir=plots_dir,
            images=images, model_dir=model_dir, tracking=tracking, trajectories=trajectories,
            samples_per_domain=samples,
        ))
    if experiments:
        parts.append(experiments_report(repo=repo, patterns=metrics or DEFAULT_METRICS))
        if base is None:
            parts[-1] = "# termcorpus ablation report\n\n" + parts[-1]
    text = "\n".join(parts)
    if out is None:
        click.echo(text, nl=False)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8", newline="\n")
        click.echo(f"report written to {out}", err=True)


def _parse_set(values: tuple[str, ...]) -> dict[str, Any]:
    import yaml

    out: dict[str, Any] = {}
    for item in values:
        key, sep, raw = item.partition("=")
        if not sep or key.count(".") != 1:
            raise ConfigError(f"--set {item!r} must be 'section.key=value'")
        out[key] = yaml.safe_load(raw) if raw else ""
    return out


@click.command("ablate")
@click.option("--grid", type=click.Path(dir_okay=False, path_type=Path), default=Path("params_ablations.yaml"),
              show_default=True, help="Read the named experiments from this YAML.")
@click.option("--only", multiple=True, help="Queue only this experiment of the grid; repeatable.")
@click.option("--set", "sets", multiple=True,
              help="Add 'section.key=value' to every experiment (e.g. train.max_steps=50 for a quick grid); repeatable.")
@click.option("--run", is_flag=True, help="Run the queue now (`dvc exp run --run-all`) and print the results table.")
@click.option("--jobs", "-j", default=1, show_default=True, type=click.IntRange(min=1),
              help="Run this many experiments at a time.")
@click.option("--force", "-f", is_flag=True, help="Replace experiments of the same name (and rerun every stage).")
@click.option("--dry-run", is_flag=True, help="Print the dvc commands without queuing anything.")
@click.option("--repo", type=click.Path(file_okay=False, exists=True, path_type=Path), default=Path("."),
              help="Queue the experiments in this repository.")
@click.pass_context
@domain_errors()
def ablate_cmd(ctx: click.Context, grid: Path, only: tuple[str, ...], sets: tuple[str, ...], run: bool, jobs: int,
               force: bool, dry_run: bool, repo: Path) -> None:
    """Queue the ablation grid as DVC experiments (`dvc exp run --queue -S ...`), optionally run them."""
    import shlex

    from termcorpus.report.ablate import ablate
    from termcorpus.report.experiments import experiments_table

    grid_path = grid if grid.is_absolute() or grid.exists() else repo / grid
    result = ablate(repo=repo, grid_path=grid_path, params_path=params_path_of(ctx, repo), only=only,
                    extra=_parse_set(sets), run=run, jobs=jobs, force=force, dry_run=dry_run)
    for args in result.commands:
        click.echo(("would run: " if dry_run else "ran: ") + shlex.join(["dvc", *args]), err=True)
    if dry_run:
        return
    click.echo(f"queued {len(result.queued)} experiments: {', '.join(result.queued)}", err=True)
    if run:
        click.echo(experiments_table(result.rows), nl=False)
        if result.failed:
            raise click.exceptions.Exit(1)
