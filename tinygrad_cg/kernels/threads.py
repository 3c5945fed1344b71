"""Batch-parallel kernels: the batch cut into one contiguous part per core, each part run by its own thread.

Why threads. A conv layer's step is gathers (NumPy strided copies), small GEMMs (16 output channels) and
pooling loops. BLAS alone parallelizes only the GEMMs, and at these shapes badly: on 2 cores the end-to-end
step ran 1.1x faster with 2 BLAS threads than with 1. NumPy's copies, BLAS calls and the Numba kernels
(``nogil``) all release the GIL, so plain Python threads run whole parts of the batch, gathers included, on
every core at once. While they do, BLAS is held to one thread per call, so that its threads and ours do
not fight over the cores.

How many. As many as BLAS would use (threadpoolctl reads it): where BLAS is kept to one thread, as in the
demos' Dask workers (OPENBLAS_NUM_THREADS=1) or under ``threadpool_limits(1)``, everything stays on the
calling thread. ``TINYGRAD_CG_THREADS=n`` overrides the count. Parts are split only when each gets at least
``min_items`` items: a small batch is cheaper to run whole than to hand out.

threadpoolctl is imported on the first call, not on ``import tinygrad_cg``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")

_state: dict = {}


def _controller():
    if "controller" not in _state:
        from threadpoolctl import ThreadpoolController

        _state["controller"] = ThreadpoolController()
    return _state["controller"]


def count() -> int:
    """Threads for batch-parallel work: ``TINYGRAD_CG_THREADS`` if set, else BLAS's current thread count."""
    override = os.environ.get("TINYGRAD_CG_THREADS", "").strip()
    if override:
        if not override.isdigit() or int(override) < 1:
            raise ValueError(f"TINYGRAD_CG_THREADS must be a positive integer, got {override!r}")
        return int(override)
    blas = _controller().select(user_api="blas")
    return max([lib.num_threads for lib in blas.lib_controllers] or [1])


def split(n: int, parts: int) -> list[tuple[int, int]]:
    """[start, stop) ranges cutting range(n) into ``parts`` contiguous pieces of sizes differing by at most 1."""
    bounds = [n * p // parts for p in range(parts + 1)]
    return [(bounds[p], bounds[p + 1]) for p in range(parts) if bounds[p + 1] > bounds[p]]


def map_parts(work: Callable[[int, int], T], n: int, min_items: int = 1) -> list[T]:
    """[work(start, stop) for each part of range(n)]: one part per thread (``count()``), in order.

    The first part runs on the calling thread, the others on a pool kept for the process. ``work`` must
    write only its own part of any shared output. Parts have at least ``min_items`` items (else fewer parts)."""
    threads = max(1, min(count(), n // max(1, min_items)))
    if threads == 1:
        return [work(0, n)]
    pool = _state.get("pool")
    if pool is None or pool._max_workers < threads - 1:
        pool = _state["pool"] = ThreadPoolExecutor(threads - 1, thread_name_prefix="tinygrad_cg")
    (first, *others) = split(n, threads)
    with _controller().limit(limits=1, user_api="blas"):
        futures = [pool.submit(work, start, stop) for start, stop in others]
        try:
            results = [work(*first)]
        finally:  # let every part finish before BLAS gets its threads back (or an error propagates)
            wait(futures)
        return results + [future.result() for future in futures]
