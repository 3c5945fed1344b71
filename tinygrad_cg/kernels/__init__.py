"""Kernels for the hot loops: im2col / col2im, max and average pooling, matmul, and two in-place updates of the
backward pass (``add_outer``: delta += u v^T; ``relu_backward``: delta += D [o > 0]).

Each has a NumPy reference (``reference.py``) and a Numba version (``numba_kernels.py``) with the
same results. ``backend()`` picks one: the environment variable ``TINYGRAD_CG_KERNELS=numba|numpy``,
by default numba when it can be imported. Numba is imported on the first kernel call, never on
``import tinygrad_cg``.

``fused_conv.py`` is the fast convolution behind ``L.Conv2D`` (chunked im2col + GEMM): NumPy and BLAS only,
since NumPy's strided copy gathers patches faster than a Numba loop; it is tested against the composed
Im2Col -> Affine -> RowsToImages form, which uses the kernels here.

``threads.py`` cuts a batch into one part per core for the fused conv and the Numba pooling kernels
(as many threads as BLAS would use; ``TINYGRAD_CG_THREADS`` overrides).

Matrix products in the layers go through ``matmul`` below: BLAS (``np.matmul``), except outer
products. ``benchmarks/kernels.py`` measures each backend's own matmul against BLAS on the demos'
shapes (see benchmarks/README.md for which wins).
"""

from __future__ import annotations

import functools
import importlib.util
import os
from types import ModuleType

import numpy as np

from . import reference, threads

_loaded: dict[str, ModuleType] = {"numpy": reference}


def backend() -> str:
    """'numba' or 'numpy', from TINYGRAD_CG_KERNELS (default: numba if installed)."""
    choice = os.environ.get("TINYGRAD_CG_KERNELS", "").strip().lower()
    if choice not in ("", "numba", "numpy"):
        raise ValueError(f"TINYGRAD_CG_KERNELS must be 'numba' or 'numpy', got {choice!r}")
    if choice == "numpy":
        return "numpy"
    if choice == "numba" or importlib.util.find_spec("numba") is not None:
        return "numba"
    return "numpy"


def implementation(name: str | None = None) -> ModuleType:
    """The kernel module of backend ``name`` (default: ``backend()``), importing Numba on first use."""
    name = name or backend()
    if name not in _loaded:
        from . import numba_kernels

        _loaded[name] = numba_kernels
    return _loaded[name]


def im2col(x, kh, kw, stride=1, padding=0):
    return implementation().im2col(x, kh, kw, stride, padding)


def col2im(cols, x_shape, kh, kw, stride=1, padding=0):
    return implementation().col2im(cols, x_shape, kh, kw, stride, padding)


def maxpool_forward(x, k, stride):
    return implementation().maxpool_forward(x, k, stride)


def maxpool_backward(delta, argmax, x_shape, k, stride, add_to=None):
    """The pooled delta routed to each window's argmax; ``add_to``: added into that array (returned)."""
    return implementation().maxpool_backward(delta, argmax, x_shape, k, stride, add_to)


def avgpool_forward(x, k, stride):
    return implementation().avgpool_forward(x, k, stride)


def avgpool_backward(delta, x_shape, k, stride):
    return implementation().avgpool_backward(delta, x_shape, k, stride)


# Inside a thread team (a graph pass with batch-parallel layers) BLAS runs on one thread, so a product this
# large (m k n multiply-adds) is split by rows over the team instead (threads.py). Below it a part's work
# (~0.5 ms of GEMM split in two) no longer pays for handing it out. Outside a team BLAS threads as it likes.
SPLIT_MULTIPLY_ADDS = 1 << 21


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b for the layers: BLAS, except the outer product (inner dimension 1), which is an
    elementwise broadcast product, several times faster than BLAS's gemm for that shape
    (``benchmarks/kernels.py``), and, inside a thread team, large products, whose rows are split over
    the team (``threads.py``). The backends' own ``matmul`` are compared in the benchmark too."""
    if a.ndim == 2 and a.shape[1] == 1 and b.ndim == 2:
        return a * b
    if a.ndim == 2 and b.ndim == 2 and a.shape[0] * a.shape[1] * b.shape[1] >= SPLIT_MULTIPLY_ADDS:
        rows_per_part = max(1, SPLIT_MULTIPLY_ADDS // (2 * a.shape[1] * b.shape[1]))
        if threads.in_team() and a.shape[0] >= 2 * rows_per_part:
            out = np.empty((a.shape[0], b.shape[1]), dtype=np.result_type(a, b))
            threads.map_parts(lambda start, stop: np.matmul(a[start:stop], b, out=out[start:stop]), a.shape[0],
                              rows_per_part)
            return out
    return a @ b


def add_matmul(out: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """out += a @ b, in place (a backward pass's delta += D W^T): as ``matmul``, except that an outer product
    (inner dimension 1, e.g. the delta of a one-unit output layer) is added in one pass by the backend's
    ``add_outer``, without the (m, n) temporary (``benchmarks/parity_step.py``)."""
    if a.ndim == 2 and a.shape[1] == 1 and b.ndim == 2 and b.shape[0] == 1 and out.shape == (a.shape[0], b.shape[1]):
        implementation().add_outer(out, a[:, 0], b[0])
    else:
        out += matmul(a, b)
    return out


def relu_backward(delta: np.ndarray, output: np.ndarray, add_to: np.ndarray) -> np.ndarray:
    """add_to += delta * [output > 0], in place: ReLU's backward pass in one sweep (Numba backend)."""
    return implementation().relu_backward(delta, output, add_to)


@functools.lru_cache(maxsize=32)
def _ones(n: int, dtype: str) -> np.ndarray:
    ones = np.ones(n, dtype=dtype)
    ones.flags.writeable = False
    return ones


def sum_rows(a: np.ndarray) -> np.ndarray:
    """The sum over the rows of a 2-D array, a^T 1 (a bias's gradient: delta summed over the batch), as a
    product with a vector of ones: BLAS's gemv, ~2.5x faster than NumPy's reduction along axis 0 for a
    (128, 300) float32 delta (2.9 against 7.3 us, one thread or two)."""
    if a.ndim != 2:
        return a.sum(axis=0)
    return _ones(a.shape[0], a.dtype.str) @ a
