"""Benchmark of the sandboxes: per-command overhead and verified tasks/s, with same-run baselines.

    python -m bench.bench_sandbox [--tasks 224] [--docker-tasks 24] [--repeat 3] [--commands 200] [--write]

* per-command overhead (median of ``--commands`` runs of ``true``): plain ``subprocess.run``
  of bash (the floor); our bwrap persistent shell; our Docker persistent shell (exec'd once per
  session); ``docker exec`` per command (SDK ``exec_run``, as a runner without a persistent
  shell pays); a new bwrap sandbox per command (open + run + close);
* verified tasks/s on one variant of each seed (``generate_tasks(seed=1234, n_variants=1)``),
  oracle teacher, the execute pool (``execute_tasks``) with 2 workers: bwrap (ours); a new
  container per task (our docker backend: Harbor's lifecycle of one container per trial with
  the verifier run inside it, but our persistent shell instead of Harbor's tmux polling, so a
  real Harbor run is slower still); the plain-subprocess floor (the task's solution and test
  by plain ``bash`` in a temp dir, ``tasks.check.run_local``, same 2-process pool, no
  isolation);
* scaling from 1 to 2 workers, bwrap and docker.

Docker parts need a reachable daemon with ``termcorpus/base:bookworm``
(``scripts/start_dockerd.sh && scripts/docker_base_image.sh``); without one they are skipped
and the reason is printed. ``--write`` replaces the "sandbox" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from bench._results import machine as describe_machine, write_section

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "RESULTS.md"
GOAL_VS_CONTAINER = 25.0  # bwrap pool at least this many times the container-per-task rate
GOAL_VS_FLOOR = 1.5  # bwrap pool at most this many times slower than the plain-subprocess floor




def _docker_problem() -> str | None:
    """None when the docker parts can run, else why not (one line)."""
    from termcorpus.errors import TermcorpusError
    from termcorpus.sandbox.docker import check_docker

    try:
        check_docker()
    except TermcorpusError as e:
        return str(e)
    return None


def _docker_version() -> str:
    from termcorpus.sandbox.docker import client

    return str(client().version().get("Version", "?"))


def _tasks(n: int):
    from termcorpus.generate.pipeline import generate_tasks
    from termcorpus.generate.catalog import build_catalog

    catalog = build_catalog(seeds_dir=REPO / "data/seeds", skills_dir=REPO / "data/skills")
    return generate_tasks(catalog.seeds, catalog.taxonomy, seed=1234, n_variants=1, n_heldout_variants=0).tasks[:n]


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


# ---- per-command overhead -------------------------------------------------------------------
def bench_commands(n: int, docker_ok: bool) -> dict[str, float]:
    from termcorpus.records import Task
    from termcorpus.sandbox import SandboxConfig, open_session

    task = Task(id="bench", family="bench", source="seed", domain="file_operations", instruction="bench",
                files={"a.txt": "a\n"}, tests={"test.sh": "#!/bin/bash\nexit 0\n"})
    res: dict[str, float] = {}
    argv = ["bash", "--noprofile", "--norc", "-c", "true"]
    res["subprocess"] = _median_ms(_timed(lambda: subprocess.run(argv, check=True), n))
    bw = SandboxConfig(backend="bwrap", timeout_sec=10.0)
    with open_session(task, bw) as s:
        s.run("true")
        res["bwrap_persistent"] = _median_ms(_timed(lambda: s.run("true"), n))

    def fresh_bwrap() -> None:
        with open_session(task, bw) as s:
            s.run("true")

    res["bwrap_fresh"] = _median_ms(_timed(fresh_bwrap, max(10, n // 5)))
    if docker_ok:
        dk = SandboxConfig(backend="docker", timeout_sec=10.0)
        with open_session(task, dk) as s:
            s.run("true")
            res["docker_persistent"] = _median_ms(_timed(lambda: s.run("true"), n))
            ctr = s._container  # the session's own container: exec into it directly
            res["docker_exec"] = _median_ms(_timed(
                lambda: ctr.exec_run(["bash", "-c", "true"], user="1000:1000", workdir="/app"), max(10, n // 5)))
    return res


# ---- tasks/s --------------------------------------------------------------------------------
def _pool_rate(tasks, sandbox: str, workers: int, verify_in_place: bool = True) -> tuple[float, int]:
    """Verified tasks/s of the execute pool (oracle teacher) and how many passed."""
    from termcorpus.execute.pool import execute_tasks
    from termcorpus.params import ExecuteParams

    params = ExecuteParams(sandbox=sandbox, workers=workers, timeout_sec=20.0, memory_mb=1024,
                           verify_in_place=verify_in_place)
    with tempfile.TemporaryDirectory(prefix="termcorpus-bench-") as tmp:
        t0 = time.perf_counter()
        m = execute_tasks(tasks, params=params, seeds_digest="bench", git_rev="bench",
                          out_path=Path(tmp) / "t.jsonl")
        wall = time.perf_counter() - t0
    return len(tasks) / wall, int(m["n_passed"])


def _floor_job(task) -> bool:
    from termcorpus.tasks.check import run_local

    return run_local(task, oracle=True).passed


def _floor_rate(tasks, workers: int) -> tuple[float, int]:
    """The same tasks' solution + test by plain bash subprocesses, no sandbox, same pool shape."""
    ctx = multiprocessing.get_context("spawn")
    t0 = time.perf_counter()
    with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        passed = sum(pool.map(_floor_job, tasks))
    return len(tasks) / (time.perf_counter() - t0), passed


def _median_rate(runs: list[tuple[float, int]]) -> tuple[float, int]:
    return statistics.median(r for r, _ in runs), min(p for _, p in runs)


def bench_tasks(n_tasks: int, n_docker: int, docker_ok: bool, repeat: int = 3) -> dict[str, object]:
    """Each bwrap/floor row ``repeat`` times, interleaved (floor, bwrap, floor, ...), so that a
    burst of load on the shared machine hits both sides; the median rate is reported."""
    tasks = _tasks(n_tasks)
    out: dict[str, object] = {"n_tasks": len(tasks), "repeat": repeat}
    rows = {
        "floor": lambda: _floor_rate(tasks, 2),
        "bwrap_2": lambda: _pool_rate(tasks, "bwrap", 2),
        "bwrap_1": lambda: _pool_rate(tasks, "bwrap", 1),
        "bwrap_2_new_verifier_sandbox": lambda: _pool_rate(tasks, "bwrap", 2, verify_in_place=False),
    }
    runs: dict[str, list[tuple[float, int]]] = {k: [] for k in rows}
    for _ in range(repeat):
        for k, fn in rows.items():
            runs[k].append(fn())
    for k, rs in runs.items():
        out[k] = _median_rate(rs)
        out[k + "_spread"] = (min(r for r, _ in rs), max(r for r, _ in rs))
    if docker_ok:
        dtasks = tasks[:n_docker]
        out["n_docker"] = len(dtasks)
        out["docker_2"] = _pool_rate(dtasks, "docker", 2)
        out["docker_1"] = _pool_rate(dtasks, "docker", 1)
    return out


# ---- report ---------------------------------------------------------------------------------
def _section(command: str, machine: str, c: dict, t: dict, docker_note: str) -> str:
    today = datetime.date.today().isoformat()
    floor = c["subprocess"]
    rows = [("plain `subprocess.run` of bash (floor)", "subprocess"),
            ("bwrap, persistent shell (ours)", "bwrap_persistent"),
            ("Docker, persistent shell (ours, one `docker exec` per session)", "docker_persistent"),
            ("Docker, `docker exec` per command (SDK `exec_run`)", "docker_exec"),
            ("bwrap, new sandbox per command (open + run + close)", "bwrap_fresh")]
    cmd_lines = "\n".join(f"| {label} | {c[k]:.2f} | {c[k] / floor:.2f}x |" for label, k in rows if k in c)
    fl, b2, b1 = t["floor"], t["bwrap_2"], t["bwrap_1"]
    n = t["n_tasks"]

    def spread(k: str) -> str:
        lo, hi = t.get(k + "_spread", (None, None))
        return f"{lo:.1f}–{hi:.1f}" if lo is not None else ""

    task_lines = [
        f"| plain subprocess, no sandbox (floor) | 2 | {n} | {fl[1]} | {fl[0]:.2f} | {spread('floor')} | 1.00x |",
        f"| bwrap pool (ours) | 2 | {n} | {b2[1]} | {b2[0]:.2f} | {spread('bwrap_2')} | {b2[0] / fl[0]:.2f}x |",
        f"| bwrap pool (ours) | 1 | {n} | {b1[1]} | {b1[0]:.2f} | {spread('bwrap_1')} | {b1[0] / fl[0]:.2f}x |",
    ]
    bn = t.get("bwrap_2_new_verifier_sandbox")
    if bn is not None:
        task_lines.append(f"| bwrap pool, verifier in a new sandbox (`verify_in_place: false`) | 2 | {n} | {bn[1]} "
                          f"| {bn[0]:.2f} | {spread('bwrap_2_new_verifier_sandbox')} | {bn[0] / fl[0]:.2f}x |")
    verdict_lines = [f"- bwrap pool vs plain-subprocess floor: {fl[0] / b2[0]:.2f}x slower "
                     f"(goal <= {GOAL_VS_FLOOR}x: {'met' if fl[0] / b2[0] <= GOAL_VS_FLOOR else 'NOT met'})."]
    scaling = [f"bwrap {b2[0] / b1[0]:.2f}x"]
    if "docker_2" in t:
        d2, d1, nd = t["docker_2"], t["docker_1"], t["n_docker"]
        task_lines += [
            f"| new container per task (our docker backend) | 2 | {nd} | {d2[1]} | {d2[0]:.2f} | one run | {d2[0] / fl[0]:.3f}x |",
            f"| new container per task (our docker backend) | 1 | {nd} | {d1[1]} | {d1[0]:.2f} | one run | {d1[0] / fl[0]:.3f}x |",
        ]
        ratio = b2[0] / d2[0]
        verdict_lines.insert(0, f"- bwrap pool vs a new container per task: {ratio:.1f}x more tasks/s "
                                f"(goal >= {GOAL_VS_CONTAINER:.0f}x: {'met' if ratio >= GOAL_VS_CONTAINER else 'NOT met'}).")
        scaling.append(f"docker {d2[0] / d1[0]:.2f}x")
        verdict_lines.append(f"- floor (no sandbox at all) vs a new container per task: {fl[0] / d2[0]:.1f}x.")
    verdicts = "\n".join(verdict_lines)
    tasks_table = "\n".join(task_lines)
    return f"""## sandbox

Command: `{command}` (date {today}; machine: {machine}; {docker_note}).

Per-command overhead (median of the `true` command's round trip):

| runner | ms/command | vs floor |
|---|---:|---:|
{cmd_lines}

Verified tasks/s (oracle teacher, agent sandbox + verifier per task, one variant of each seed;
bwrap and floor rows: median of {t['repeat']} interleaved runs, their range beside it):

| runner | workers | tasks | passed | tasks/s | range | vs floor |
|---|---:|---:|---:|---:|---:|---:|
{tasks_table}

{verdicts}
- Scaling from 1 to 2 workers: {', '.join(scaling)} (2 CPUs, shared with other jobs: see the load).

The container-per-task rows follow Harbor's lifecycle (one container per trial, tests copied
in after the agent, verifier run in the same container, container removed), with our
persistent shell in it; Harbor itself also polls tmux per command (two `docker exec` per
command at the rate in the first table), so its real rate is lower. A new container costs
~0.3 s to create and start, ~0.05 s per archive copy and ~0.1 s to remove.

Where the bwrap pool's time goes (measured serially over every seed task, machine-wide CPU
from /proc/stat so that kernel work on namespaces counts): ~43 ms of CPU per task against the
floor's ~30 ms. The persistent shells make each command cheaper than even one plain `bash`
process, so the ~13-15 ms gap is per-task set-up: the start-up chain prlimit -> setpriv ->
bwrap -> bash (~8 ms: new namespaces ~2 ms, bwrap and its ~10 mounts ~3 ms, the two helper
execs ~2 ms), the verifier hand-over in the same sandbox (stop the agent's processes, a fresh
shell), and the episode's protocol, uid lease and record work in Python (~3.5 ms more than the
floor's). What this round removed: six scans of all of /proc per task (~9 ms; the sandbox's
process tree is now walked through /proc/<pid>/task/*/children), ~25 single-file /etc binds
(~3.5 ms; one prepared read-only /etc), an `env -i` exec. The >= 25x goal came from a
micro-benchmark of one persistent shell running 3 commands per task (FACTS.md); on the full
verified episode even the unsandboxed floor is only the "floor vs a new container" ratio
above, so 25x would need a sandbox faster than no sandbox.
"""




def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", type=int, default=224, help="Tasks (one variant per seed; 224 = every seed) for bwrap and the floor.")
    ap.add_argument("--docker-tasks", type=int, default=24, help="Of those, tasks run one container per task.")
    ap.add_argument("--repeat", type=int, default=3, help="Interleaved runs of each bwrap/floor row (median reported).")
    ap.add_argument("--commands", type=int, default=200, help="Repetitions of the per-command measurement.")
    ap.add_argument("--no-docker", action="store_true", help="Skip the Docker measurements.")
    ap.add_argument("--write", action="store_true", help="Write the results into bench/RESULTS.md.")
    args = ap.parse_args()
    machine = describe_machine()
    print(f"machine: {machine}", flush=True)
    problem = "skipped (--no-docker)" if args.no_docker else _docker_problem()
    docker_ok = problem is None
    docker_note = f"Docker {_docker_version()}" if docker_ok else f"Docker: {problem}"
    print(docker_note, flush=True)

    c = bench_commands(args.commands, docker_ok)
    for k, v in c.items():
        print(f"per command, {k}: {v:.2f} ms ({v / c['subprocess']:.2f}x the subprocess floor)", flush=True)
    t = bench_tasks(args.tasks, args.docker_tasks, docker_ok, max(1, args.repeat))
    for k in ("floor", "bwrap_2", "bwrap_1", "bwrap_2_new_verifier_sandbox", "docker_2", "docker_1"):
        if k in t:
            rate, passed = t[k]
            print(f"tasks, {k}: {rate:.2f} tasks/s ({passed} passed)", flush=True)
    if docker_ok:
        print(f"bwrap pool / container per task: {t['bwrap_2'][0] / t['docker_2'][0]:.1f}x "
              f"(goal >= {GOAL_VS_CONTAINER:.0f}x)")
    print(f"floor / bwrap pool: {t['floor'][0] / t['bwrap_2'][0]:.2f}x slower (goal <= {GOAL_VS_FLOOR}x)")
    if args.write:
        cmd = ("python -m bench.bench_sandbox " + " ".join(sys.argv[1:])).strip()
        write_section('sandbox', _section(cmd, machine, c, t, docker_note))
        print(f"wrote {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
