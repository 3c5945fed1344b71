"""Batch-parallel kernels: the batch cut into one contiguous part per core, each part run by its own thread.

Why threads. A conv layer's step is gathers (NumPy strided copies), small GEMMs (16 output channels) and
pooling loops. BLAS alone parallelizes only the GEMMs, and at these shapes badly: on 2 cores the end-to-end
step ran 1.1x faster with 2 BLAS threads than with 1. NumPy's copies, BLAS calls and the Numba kernels
(``nogil``) all release the GIL, so plain Python threads run whole parts of the batch, gathers included, on
every core at once.

Why BLAS on one thread meanwhile. OpenBLAS's idle threads spin for a while after each multi-threaded call,
each holding a core: in a step where GEMMs and our parts alternate, the spinning thread took a core from
our parts and the end-to-end step ran 1.8x slower (k = 1, 2 cores). So a pass over a graph with
batch-parallel layers (``Layer.batch_parallel``: Conv2D, MaxPool2D) runs as a ``team()``: BLAS is held to one
thread for the whole pass, our threads do all the parallel work, and the layers' large matrix products are
split by rows over them too (``kernels.matmul``). Outside a team, ``map_parts`` holds BLAS to one thread for
the parts' duration, and other graphs (an MLP) leave BLAS its own threads.

How many. As many as BLAS would use (threadpoolctl reads it): where BLAS is kept to one thread, as in the
demos' Dask workers (OPENBLAS_NUM_THREADS=1) or under ``threadpool_limits(1)``, everything stays on the
calling thread. ``TINYGRAD_CG_THREADS=n`` overrides the count. Parts are split only when each gets at least
``min_items`` items: a small batch is cheaper to run whole than to hand out.

threadpoolctl is imported on the first call, not on ``import tinygrad_cg``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

_state: dict = {"team": 0}

# A part is worth a thread of its own from about this much work (bytes the part gathers or writes): below it,
# handing the part out costs more than it saves.
MIN_PART_BYTES = 1 << 20


# A graph without batch-parallel layers (an MLP) runs its passes with BLAS held to one thread while its largest
# matrix product has fewer multiply-adds than this. OpenBLAS's threads spin-wait for work after each call; beside
# another process whose threads spin too (a PyTorch job, 2 threads on 2 cores) they take turns with it by whole
# time slices. Measured 2026-12-04 on the project's 2-core machine, the flat-activations step (Affine 100 + ReLU
# x3, Affine 1, batch 256, Adam; its largest product 256 x 100 x 100 = 2.6M): quiet 0.65 ms with OpenBLAS's two
# threads, 0.68 ms on one; beside a 2-thread PyTorch matmul loop 84 ms (a 120x collapse, 3 processes of 3) with
# two threads, 0.68 ms on one (benchmarks/README.md). Every MLP of the demos is below this (parity at d = 50:
# 128 x 50 x 500 = 3.2M); a product this large gains from BLAS's second thread more than spinning costs.
ONE_THREAD_BELOW = 8 << 20


def one_thread_for(multiply_adds: list[int]) -> bool:
    """Whether a pass whose matrix products have these sizes should hold BLAS to one thread (see
    ``ONE_THREAD_BELOW``): where BLAS has more than one thread and every product is small."""
    return max(multiply_adds, default=0) < ONE_THREAD_BELOW and count() > 1


def min_items(bytes_per_item: int) -> int:
    """The fewest items (images) worth a thread of their own: ``MIN_PART_BYTES`` of work (``map_parts``)."""
    return max(1, MIN_PART_BYTES // max(1, bytes_per_item))


def _blas_libraries() -> list:
    """threadpoolctl's controllers of the BLAS libraries loaded in this process (found once)."""
    if "blas" not in _state:
        from threadpoolctl import ThreadpoolController

        _state["blas"] = ThreadpoolController().select(user_api="blas").lib_controllers
    return _state["blas"]


def count() -> int:
    """Threads for batch-parallel work: the running team's size inside ``team()``; else
    ``TINYGRAD_CG_THREADS`` if set, else BLAS's current thread count."""
    if _state["team"]:
        return _state["team"]
    override = os.environ.get("TINYGRAD_CG_THREADS", "").strip()
    if override:
        if not override.isdigit() or int(override) < 1:
            raise ValueError(f"TINYGRAD_CG_THREADS must be a positive integer, got {override!r}")
        return int(override)
    return max([lib.num_threads for lib in _blas_libraries()] or [1])


@contextmanager
def blas_on_one_thread() -> Iterator[None]:
    """Hold every loaded BLAS to one thread inside the block; restore each one's count after."""
    libraries = _blas_libraries()
    before = [lib.num_threads for lib in libraries]
    for lib in libraries:
        lib.set_num_threads(1)
    try:
        yield
    finally:
        for lib, threads in zip(libraries, before, strict=True):
            lib.set_num_threads(threads)


@contextmanager
def team() -> Iterator[None]:
    """A graph pass's threads: ``count()`` threads for the batch-parallel work, BLAS on one thread meanwhile.
    Nothing changes where there is one thread, or inside a team already."""
    threads = 1 if _state["team"] else count()
    if threads == 1:
        yield
        return
    with blas_on_one_thread():
        _state["team"] = threads
        try:
            yield
        finally:
            _state["team"] = 0


def in_team() -> bool:
    """Inside a ``team()`` of more than one thread."""
    return _state["team"] > 1


def split(n: int, parts: int) -> list[tuple[int, int]]:
    """[start, stop) ranges cutting range(n) into ``parts`` contiguous pieces of sizes differing by at most 1."""
    bounds = [n * p // parts for p in range(parts + 1)]
    return [(bounds[p], bounds[p + 1]) for p in range(parts) if bounds[p + 1] > bounds[p]]


def _pool(workers: int):
    pool = _state.get("pool")
    if pool is None or pool._max_workers < workers:
        from concurrent.futures import ThreadPoolExecutor

        pool = _state["pool"] = ThreadPoolExecutor(workers, thread_name_prefix="tinygrad_cg")
    return pool


def map_parts(work: Callable[[int, int], T], n: int, min_items: int = 1) -> list[T]:
    """[work(start, stop) for each part of range(n)]: one part per thread (``count()``), in order.

    The first part runs on the calling thread, the others on a pool kept for the process. ``work`` must
    write only its own part of any shared output. Parts have at least ``min_items`` items (else fewer parts)."""
    threads = max(1, min(count(), n // max(1, min_items)))
    if threads == 1:
        return [work(0, n)]
    from concurrent.futures import wait

    first, *others = split(n, threads)
    with team():  # BLAS on one thread while the parts run (already so inside a graph pass)
        futures = [_pool(threads - 1).submit(work, start, stop) for start, stop in others]
        try:
            results = [work(*first)]
        finally:  # every part finishes before BLAS gets its threads back (or an error propagates)
            wait(futures)
        return results + [future.result() for future in futures]
