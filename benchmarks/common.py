"""Timing helpers: interleaved repeats, medians, ratios measured side by side in one process."""

from __future__ import annotations

import os
import time
from collections.abc import Callable


def pin_threads(n: int = 2) -> None:
    """Pin BLAS / Numba / torch thread pools to ``n`` (the project's reference machine has 2 cores)."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ.setdefault(var, str(n))


def median_times(fns: dict[str, Callable[[], object]], rounds: int = 15, block: int = 20,
                 warmup: int = 5) -> dict[str, float]:
    """Median over ``rounds`` of the mean seconds per call in a block of ``block`` consecutive calls.

    Contenders alternate block by block, so slow drift of the machine hits all alike, while the calls
    inside a block run back to back (a thread pool left spinning by one library, e.g. torch's OpenMP,
    then costs only the block's first call, not every call of the next contender).
    """
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    samples = {name: [] for name in fns}
    names = list(fns)
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:  # rotate who runs after whom
            fn = fns[name]
            start = time.perf_counter()
            for _ in range(block):
                fn()
            samples[name].append((time.perf_counter() - start) / block)
    return {name: sorted(v)[len(v) // 2] for name, v in samples.items()}


def torch_or_none():
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(2)
    return torch
