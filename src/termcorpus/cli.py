"""The ``termcorpus`` command line: inspection and one-off tools beside the DVC stages.

Heavy modules (torch, mlflow, GX) are imported inside the commands that need them. A domain
error becomes one line on stderr and exit code 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from termcorpus.runtime import domain_errors
from termcorpus.sandbox.config import BACKENDS  # light: the backends' own modules load on use


class _Group(click.Group):
    def invoke(self, ctx: click.Context):
        with domain_errors():
            return super().invoke(ctx)


@click.group(cls=_Group)
@click.option("--params", "params_path", default="params.yaml", show_default=True,
              type=click.Path(dir_okay=False), help="Read parameters from this file.")
@click.pass_context
def main(ctx: click.Context, params_path: str) -> None:
    """termcorpus: verified training data for LLM terminal agents."""
    ctx.obj = {"params_path": params_path}


@main.command("params")
@click.pass_context
def params_cmd(ctx: click.Context) -> None:
    """Check params.yaml and print every key with its value and help text."""
    from termcorpus.params import SECTIONS, describe, load_all

    loaded = load_all(ctx.obj["params_path"])
    for name, cls in SECTIONS.items():
        click.echo(f"{name}:")
        for key, help_text in describe(cls).items():
            click.echo(f"  {key}: {getattr(loaded[name], key)!r}  # {help_text}")


def _load_task(source: str, task_id: str | None):
    """The one task of ``source`` (a tasks JSONL, a folder holding tasks.jsonl, a task directory),
    or the one named ``task_id``."""
    from termcorpus.errors import DataError
    from termcorpus.tasks.interop import load_tasks

    tasks = load_tasks([source])
    if task_id is None:
        if len(tasks) != 1:
            raise DataError(f"holds {len(tasks)} tasks: choose one with --task-id", where=source)
        return tasks[0]
    for t in tasks:
        if t.id == task_id:
            return t
    raise DataError(f"no task with id {task_id!r}", where=source)


@main.command("run")
@click.argument("source")
@click.option("--task-id", help="Pick this task from a JSONL file of tasks.")
@click.option("--agent", type=click.Choice(["oracle", "null"]), default="oracle", show_default=True,
              help="Run the task with this agent.")
@click.option("--sandbox", "backend", type=click.Choice(list(BACKENDS)), default=None,
              help="Override the sandbox backend from params.yaml (execute.sandbox).")
@click.option("--show/--no-show", default=True, help="Print each turn's commands and outputs.")
@click.pass_context
def run_cmd(ctx: click.Context, source: str, task_id: str | None, agent: str, backend: str | None, show: bool) -> None:
    """Run one task in the sandbox with an agent and print the verdict."""
    from termcorpus.agents.factory import make_agent
    from termcorpus.execute.episode import run_episode
    from termcorpus.params import load_section
    from termcorpus.records import Lineage
    from termcorpus.sandbox import SandboxConfig

    task = _load_task(source, task_id)
    ep = load_section("execute", ctx.obj["params_path"])
    cfg = SandboxConfig.from_params(ep)
    if backend:
        cfg.backend = backend
    traj = run_episode(task, make_agent(agent), cfg, max_turns=ep.max_turns, prompt_style=ep.prompt_style,
                       lineage=Lineage(task_digest=task.digest()))
    if show:
        for i, turn in enumerate(traj.turns, 1):
            for r in turn.results:
                click.echo(f"[{i}] $ {r.keystrokes.rstrip()}  (exit {r.exit_code})")
                if r.output.strip():
                    click.echo("    " + r.output.rstrip().replace("\n", "\n    "))
    verdict = "PASS" if traj.passed else "FAIL"
    click.echo(f"{verdict} {task.id} reward={traj.reward:g} turns={traj.n_turns}")
    sys.exit(0 if traj.passed else 1)


@main.command("lineage")
@click.argument("model_ref")
@click.option("--json", "as_json", is_flag=True, help="Print the lineage as JSON.")
@click.pass_context
def lineage_cmd(ctx: click.Context, model_ref: str, as_json: bool) -> None:
    """Print model -> training run -> corpus -> task set -> seeds for NAME/VERSION or NAME/@ALIAS."""
    from termcorpus.params import load_section
    from termcorpus.tracking import lineage

    info = lineage(model_ref, load_section("mlflow", ctx.obj["params_path"]))
    if as_json:
        click.echo(json.dumps(info, indent=2, sort_keys=True))
        return
    m, r, c = info["model"], info["training_run"], info["corpus"]
    click.echo(f"model        {m['name']}/{m['version']}  aliases={','.join(m['aliases']) or '-'}")
    click.echo(f"  source     {m['source']}")
    click.echo(f"training run {r['run_id']}  git={r['git_rev'] or '-'}  final_loss={r['final_loss']}")
    click.echo(f"corpus       {c['digest']}  run={c['run_id'] or '-'}")
    src = c.get("source", {}).get("tags", {})
    if src:
        click.echo(f"  source     {src.get('repo')}/{src.get('path')} @ {src.get('git_rev') or '-'} {src.get('git_tag') or ''}".rstrip())
    click.echo(f"task set     {info['task_set']['digest'] or '-'}  trajectories={info['task_set']['trajectories_digest'] or '-'}")
    click.echo(f"seeds        {info['seeds']['digest'] or '-'}  skills={info['seeds'].get('skills_digest') or '-'}")


@main.group("sandbox")
def sandbox_group() -> None:
    """Inspect and clean up sandboxes."""


@sandbox_group.command("sweep")
def sandbox_sweep_cmd() -> None:
    """Undo sandboxes whose runner died without cleaning up (processes, dirs, uids, cgroups)."""
    from termcorpus.sandbox.cgroup import mechanism
    from termcorpus.sandbox.sweep import sweep

    click.echo(sweep().line())
    click.echo(f"task limits here: {mechanism()}")


def _register() -> None:
    """Attach the command groups that live in their own modules (imports stay light)."""
    from termcorpus.cli_tasks import tasks_group
    from termcorpus.report.cli import ablate_cmd, report_cmd
    from termcorpus.show import show_cmd

    main.add_command(report_cmd)
    main.add_command(ablate_cmd)
    main.add_command(show_cmd)
    main.add_command(tasks_group)


_register()

if __name__ == "__main__":  # pragma: no cover
    main()
