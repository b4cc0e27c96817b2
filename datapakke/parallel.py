"""Work spread over a few worker processes: the two cores of this machine, or more elsewhere.

Why processes, not threads: charts, workbooks, validation and DuckDB file writes are CPU-bound
Python and pandas. The pools are small and short-lived, made inside one pipeline step.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from typing import TypeVar

S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")

_FORK_SHARED: object = None  # what forked workers of ``map_forked`` read; set only meanwhile
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent() -> None:
    """Pool worker initializer: on Linux the kernel kills the worker when its parent dies.

    Why: when the refresh is killed alone (the OOM killer, or ``kill -9`` of its pid) a worker
    would otherwise wait forever on the pool's pipe, an orphan holding memory and the refresh's
    terminal output open (found by the fault suite). Elsewhere this does nothing.
    """
    if sys.platform != "linux":
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() == 1:  # the parent died before the line above took effect
        os._exit(1)


def worker_pool(workers: int, context: mp.context.BaseContext | None = None) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes that die with this one (``die_with_parent``)."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=die_with_parent)


def map_in_pool(func: Callable[[T], R], items: list[T], workers: int) -> list[R]:
    """``func`` over ``items`` in a pool of processes (in this process for one worker or item).

    Results come back in the order of ``items``.
    """
    if workers <= 1 or len(items) <= 1:
        return [func(item) for item in items]
    with worker_pool(workers) as pool:
        return list(pool.map(func, items))


def map_forked(func: Callable[[S, T], R], shared: S, items: list[T], workers: int) -> list[R]:
    """``func(shared, item)`` over ``items`` in forked workers that inherit ``shared``.

    Why fork: ``shared`` may be tens of MB of pandas frames, and pickling it to each worker
    costs as much as the work saved. A forked worker sees the parent's memory as it was, copied
    only where written. Without fork (not Linux) the items run here, one after another.
    """
    global _FORK_SHARED
    if workers <= 1 or len(items) <= 1 or "fork" not in mp.get_all_start_methods():
        return [func(shared, item) for item in items]
    _FORK_SHARED = shared
    try:
        with worker_pool(workers, mp.get_context("fork")) as pool:
            return list(pool.map(partial(_call_with_shared, func), items))
    finally:
        _FORK_SHARED = None


def _call_with_shared(func: Callable[[object, T], R], item: T) -> R:
    return func(_FORK_SHARED, item)
