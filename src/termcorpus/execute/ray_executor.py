"""Run the execute stage's per-task function on Ray instead of the local process pool.

``execute.executor: ray`` sends each task through the same function the process pool runs
(``pool._run_job``: one episode + verifier -> one trajectory line), as a Ray task needing one
CPU. Results come back in completion order; the caller puts them in task order, so the output
is byte-identical to the local pool's (tested). The resume journal works the same way.

Where it runs (``execute.ray_address``):

* empty: a local Ray instance with ``execute.workers`` CPUs, started for the run and shut
  down after it (``ray.init(num_cpus=workers, include_dashboard=False)``; ~5 s to start
  here). Useful to test a cluster set-up on one machine; for one machine the process pool
  is as fast and starts quicker.
* ``ray://HEAD:10001``: a remote cluster through Ray Client, from a laptop or CI runner.
* ``auto`` (or ``HEAD:6379``): the driver runs on a node of an existing cluster.

Multi-node set-up (what every node needs, since each one runs sandboxes itself):

1. The same Python (3.11+) and the same ``ray`` version as the driver
   (``pip install 'ray==2.60.0'``), plus termcorpus's dependencies (``pip install -e .`` of
   the same checkout, or ``pip install termcorpus`` at the same version). With an address,
   the driver also ships its own ``termcorpus`` package as a ``py_modules`` runtime env, so
   the code that runs is exactly the driver's (the lineage's git rev stays true).
2. The sandbox backend's tools: ``bubblewrap`` and util-linux (``apt-get install -y
   bubblewrap``) for ``sandbox: bwrap``; a running dockerd plus the base image
   (``scripts/start_dockerd.sh && scripts/docker_base_image.sh``) for ``sandbox: docker``.
3. Start the cluster: ``ray start --head --num-cpus=N --ray-client-server-port=10001`` on
   the head node, ``ray start --address=HEAD:6379 --num-cpus=N`` on each worker node; one CPU
   per concurrent episode (each episode also runs its sandbox's processes, so leave a core
   or two spare on every node).
4. Run the stage with ``execute.executor: ray`` and ``execute.ray_address: ray://HEAD:10001``
   (``dvc exp run -S execute.executor=ray -S execute.ray_address=ray://HEAD:10001``).

Only task records and trajectory lines (JSON text) travel between driver and workers; the
trajectories are written by the driver alone, so no shared file system is needed.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Iterable, Iterator, TypeVar

from termcorpus.errors import EnvironmentProblem, TermcorpusError

J = TypeVar("J")
R = TypeVar("R")

RAY_VERSION = "2.60.0"  # the version tested here; nodes of a cluster must all run the same


def _import_ray():  # type: ignore[no-untyped-def]
    try:
        import ray
    except ImportError:
        raise EnvironmentProblem(
            f"execute.executor 'ray' needs Ray: pip install 'ray=={RAY_VERSION}' (or use executor: local)"
        )
    return ray


def _runtime_env() -> dict:
    """Ship this checkout's termcorpus package to the cluster, so workers run the driver's code."""
    import termcorpus

    return {"py_modules": [str(Path(termcorpus.__file__).parent)]}


def ray_imap_unordered(fn: Callable[[J], R], jobs: Iterable[J], *, address: str = "",
                       num_cpus: int = 2, max_in_flight: int | None = None) -> Iterator[R]:
    """Yield ``fn(job)`` for every job, computed as Ray tasks, in completion order.

    ``fn`` must be a module-level function (workers import it by name). With no ``address``
    and no Ray already initialized in this process, a local instance with ``num_cpus`` CPUs
    is started and shut down when the iterator ends (also on an error or an early ``close``).
    At most ``max_in_flight`` tasks (default: twice the cluster's CPUs) are submitted at a
    time, so a large task list does not sit in the object store all at once. A
    :class:`TermcorpusError` raised in a worker is raised again here as itself (one line).
    """
    ray = _import_ray()
    started = False
    if not ray.is_initialized():
        try:
            if address:
                ray.init(address=address, runtime_env=_runtime_env(), log_to_driver=False,
                         logging_level=logging.WARNING)
            else:
                ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False,
                         logging_level=logging.WARNING)
        except (ConnectionError, ValueError, RuntimeError) as e:
            where = address or "a local instance"
            raise EnvironmentProblem(f"cannot start or reach Ray at {where}: {str(e).splitlines()[0][:200]}")
        started = True
    remote = ray.remote(num_cpus=1)(fn)
    if max_in_flight is None:
        max_in_flight = max(2, 2 * int(ray.cluster_resources().get("CPU", num_cpus)))
    pending: list = []
    source = iter(jobs)

    def fill() -> None:
        while len(pending) < max_in_flight:
            try:
                job = next(source)
            except StopIteration:
                return
            pending.append(remote.remote(job))

    try:
        fill()
        while pending:
            done, rest = ray.wait(pending, num_returns=1)
            pending[:] = rest
            for ref in done:
                try:
                    result = ray.get(ref)
                except ray.exceptions.RayTaskError as e:
                    cause = getattr(e, "cause", None)
                    if isinstance(cause, TermcorpusError):
                        raise cause from None
                    raise
                yield result
            fill()
    finally:
        for ref in pending:
            try:
                ray.cancel(ref, force=True)
            except Exception:
                pass  # already finished or gone with the cluster
        if started:
            ray.shutdown()
