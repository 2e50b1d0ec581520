"""One process pool with one progress bar, for every stage that fans work out to processes.

``imap_unordered`` runs a module-level function over jobs on spawned worker processes and yields
results as they finish (inline, in job order, with one worker); ``map_ordered`` puts them back in
job order behind a ``progress`` bar. Callers that must see each result as it arrives (the execute
stage's resume journal) drive ``imap_unordered`` and the bar themselves.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Callable, Iterator, Sequence, TypeVar

from tqdm import tqdm

J = TypeVar("J")
R = TypeVar("R")


def progress(total: int, *, desc: str, initial: int = 0, unit: str = "task") -> tqdm:
    """The bar every pool shows: on stderr, sized to the terminal, off when stderr is no tty."""
    return tqdm(total=total, initial=initial, unit=unit, desc=desc, disable=None, file=sys.stderr,
                dynamic_ncols=True)


def _die_with_parent(parent: int) -> None:
    """Pool worker initializer: exit when the stage process dies, even by SIGKILL.

    An orphaned worker would otherwise wait forever on its task queue (it holds the queue's
    write end itself), keeping its sandbox uid and memory. Its sandboxes die with it
    (bwrap ``--die-with-parent``).
    """
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: no such guard
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def imap_unordered(fn: Callable[[J], R], jobs: Sequence[J], workers: int) -> Iterator[R]:
    """``fn(job)`` for every job on ``workers`` spawned processes, yielded as each finishes;
    with one worker (or none to spare), inline and in job order. ``fn`` must be module-level."""
    if workers <= 1:
        for job in jobs:
            yield fn(job)
        return
    if not jobs:
        return
    # spawn, not fork: the caller may hold threads (tqdm, MLflow) that fork would copy.
    # An executor, not multiprocessing.Pool: a worker killed by the OOM killer raises
    # BrokenProcessPool here instead of hanging the run.
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_die_with_parent,
                             initargs=(os.getpid(),)) as pool:
        futures = [pool.submit(fn, job) for job in jobs]
        try:
            for fut in as_completed(futures):
                yield fut.result()
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise


def _indexed(item: tuple[Callable[[Any], Any], int, Any]) -> tuple[int, Any]:
    fn, index, job = item
    return index, fn(job)


def map_ordered(fn: Callable[[J], R], jobs: Sequence[J], workers: int, *, desc: str) -> list[R]:
    """``[fn(job) for job in jobs]`` on ``workers`` spawned processes, results in job order, with
    a ``progress`` bar (``fn`` must be a module-level function)."""
    out: list[Any] = [None] * len(jobs)
    workers = max(1, min(workers, len(jobs) or 1))
    with progress(len(jobs), desc=desc) as bar:
        for index, result in imap_unordered(_indexed, [(fn, i, job) for i, job in enumerate(jobs)], workers):
            out[index] = result
            bar.update(1)
    return out
