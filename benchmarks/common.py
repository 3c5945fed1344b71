"""Timing helpers: each contender alone in its own process (``time_in_processes``), or interleaved in one
process (``median_times``); medians; the BLAS kernel set NumPy runs."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

# the variables that choose OpenBLAS's kernel set: these machines set OPENBLAS_CORETYPE=Haswell, users'
# NumPy picks by the CPU (e.g. SkylakeX kernels where there is AVX-512)
KERNEL_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def pin_threads(n: int = 2) -> None:
    """Pin BLAS / Numba / torch thread pools to ``n`` (the project's reference machine has 2 cores), and steady
    the heap (``steady_heap``)."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ.setdefault(var, str(n))
    steady_heap()


# glibc malloc's M_TOP_PAD: how much it asks the kernel for beyond each request, and keeps when freeing
M_TOP_PAD = -2
TOP_PAD_BYTES = 64 << 20


def steady_heap() -> bool:
    """Have glibc's malloc keep 64 MiB of free heap rather than return it to the kernel at every free.

    A NumPy step allocates and frees arrays of ~150 KB each; with glibc's default padding each free can trim
    the heap and the next allocation fault fresh pages back in. Whether it does depends on what the process
    did before (measured 2026-12-03: the hand-written parity step took 520 us in a fresh process, 215 us once
    ``import numba`` had grown the heap), so a ratio between contenders would measure heap history rather
    than code. Every contender gets the steady heap. Returns False where the C library is not glibc."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        return bool(libc.mallopt(M_TOP_PAD, TOP_PAD_BYTES))
    except (OSError, AttributeError, TypeError):
        return False


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


def training_step(graph, optimizer, feed: dict) -> Callable[[], None]:
    """One training step of a tinygrad_cg graph as a benchmark times it: forward on ``feed``, backward, update."""

    def step() -> None:
        graph.forward(feed)
        graph.backward()
        optimizer.step()

    return step


def torch_or_none():
    """torch with as many threads as ``pin_threads`` gave the BLAS (``OMP_NUM_THREADS``, 2 unless set), or None."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    return torch


def set_threads_for_children(n: int) -> None:
    """Every thread pool of the contenders this process starts held to ``n``: BLAS, OpenMP (torch), Numba and
    the library's own teams (``TINYGRAD_CG_THREADS``). Call before starting the children."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
                "TINYGRAD_CG_THREADS"):
        os.environ[var] = str(n)


def blas_kernel() -> str:
    """The BLAS NumPy calls and the kernel set it runs, as threadpoolctl reports them ("openblas 0.3.31,
    Haswell kernels, 2 threads"), or why that is unknown."""
    import numpy  # noqa: F401 - loads the BLAS threadpoolctl then finds

    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl not installed)"
    blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    return "; ".join(f"{i['internal_api']} {i.get('version')}, {i.get('architecture')} kernels, "
                     f"{i['num_threads']} threads" for i in blas) or "none found"


# --- each contender alone in its own process ------------------------------------------------------

def child_main(steps: dict[str, Callable[[], Callable[[], object]]], argv: Sequence[str]) -> bool:
    """The child's side of ``time_in_processes``: if ``argv`` is ``--child NAME WARMUP STEPS``, build the step
    ``steps[NAME]()``, run it WARMUP times, time STEPS single calls, print one JSON line (the seconds and
    the BLAS kernel) and return True; else return False (the script runs as the parent)."""
    if len(argv) < 4 or argv[0] != "--child":
        return False
    name, warmup, count = argv[1], int(argv[2]), int(argv[3])
    step = steps[name]()
    for _ in range(warmup):
        step()
    seconds = []
    for _ in range(count):
        start = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - start)
    print(json.dumps({"seconds": seconds, "blas": blas_kernel()}))
    return True


@dataclass
class ProcessTimes:
    """One contender's timings: the median step of each of its processes, and the kernel they ran."""

    name: str
    medians: list[float]
    blas: str

    @property
    def median(self) -> float:
        return statistics.median(self.medians)

    def spread(self) -> str:
        return f"{1e3 * min(self.medians):.1f}-{1e3 * max(self.medians):.1f} ms"


def time_in_processes(script: Path, names: Sequence[str], script_args: Sequence[str] = (), processes: int = 3,
                      warmup: int = 3, steps: int = 15, drop_kernel_variables: bool = False
                      ) -> dict[str, ProcessTimes]:
    """Time each contender of ``script`` alone in its own process: for each of ``processes`` rounds, one fresh
    ``python script *script_args --child NAME warmup steps`` per contender, in turn (the order rotating each
    round), each reporting the median of ``steps`` single steps after ``warmup``. Contenders in one process
    disturb each other (NumPy's and torch's thread pools, the allocator's state); apart, each runs as a user
    would run it. ``drop_kernel_variables`` removes ``KERNEL_VARIABLES`` from the children's environment
    (OpenBLAS then picks its kernels by the CPU, as a user's NumPy does)."""
    env = dict(os.environ)
    if drop_kernel_variables:
        for variable in KERNEL_VARIABLES:
            env.pop(variable, None)
    medians: dict[str, list[float]] = {name: [] for name in names}
    blas: dict[str, str] = {}
    order = list(names)
    for r in range(processes):
        for name in order[r % len(order):] + order[:r % len(order)]:
            command = [sys.executable, str(script), *script_args, "--child", name, str(warmup), str(steps)]
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"{name}: {' '.join(command)} failed:\n{done.stderr[-2000:]}")
            report = json.loads(done.stdout.strip().splitlines()[-1])
            medians[name].append(statistics.median(report["seconds"]))
            blas[name] = report["blas"]
    return {name: ProcessTimes(name, medians[name], blas[name]) for name in names}


def kernel_sets(which: str) -> list[tuple[str, bool]]:
    """The BLAS kernel sets to time: ``"as-set"`` (this environment), ``"cpu"`` (without
    ``KERNEL_VARIABLES``), or ``"both"``; as (label, drop_kernel_variables). Where none of the variables is
    set, the two are one and the same, and only one is timed."""
    set_here = {v: os.environ[v] for v in KERNEL_VARIABLES if v in os.environ}
    as_set = ("as set here (" + ", ".join(f"{k}={v}" for k, v in set_here.items()) + ")", False)
    by_cpu = ("chosen by the CPU (" + ", ".join(f"env -u {v}" for v in KERNEL_VARIABLES) + ")", True)
    if not set_here:
        return [("chosen by the CPU (no OPENBLAS_CORETYPE set here)", True)]
    return {"as-set": [as_set], "cpu": [by_cpu], "both": [as_set, by_cpu]}[which]
