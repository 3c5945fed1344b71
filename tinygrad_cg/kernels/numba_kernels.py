"""Numba versions of the kernels in ``reference.py`` (same layouts, same results).

Imported only when the numba backend is first used, so ``import tinygrad_cg`` never pays for Numba.
Each kernel is compiled once per dtype and cached on disk (``cache=True``). The outer loop is over
the batch (``prange``, parallel when enabled below), so every thread would write only its own
images: no races in the scatter-adds of col2im and the pooling backward passes.
"""

from __future__ import annotations

import os

import numba
import numpy as np
from numba import prange

from . import reference, threads
from .reference import output_size, pair

# Serial by default: in a training step these kernels alternate with BLAS calls, and on 2 cores
# Numba's thread pool and OpenBLAS's fight over the cores (benchmarks/lenet_step.py measured a
# LeNet step 1.6x slower with parallel kernels). TINYGRAD_CG_NUMBA_PARALLEL=1 turns prange on.
# The max-pool wrappers split the batch over Python threads instead (threads.py, BLAS held to one
# thread meanwhile), which is why every kernel releases the GIL (nogil).
PARALLEL = os.environ.get("TINYGRAD_CG_NUMBA_PARALLEL", "0") == "1"

jit = numba.njit(cache=True, parallel=PARALLEL, fastmath=False, nogil=True)


@jit
def _window_offsets(c, kh, kw, hp, wp):
    """Flat offsets, in a padded (C, Hp, Wp) image, of the C*kh*kw window elements relative to the
    window's top-left corner, in Im2Col's column order (c, i, j)."""
    offsets = np.empty(c * kh * kw, dtype=np.int64)
    q = 0
    for ch in range(c):
        for i in range(kh):
            for j in range(kw):
                offsets[q] = (ch * hp + i) * wp + j
                q += 1
    return offsets


# im2col is a gather and col2im its scatter-add. Working on the zero-padded input through one table
# of offsets leaves the inner loop a branch-free run over a window's C*kh*kw elements (2-3x faster
# than looping over (c, i, j) with bounds tests for the padding).
@jit
def _im2col(xp, kh, kw, stride, oh, ow, cols):
    n, c, hp, wp = xp.shape
    offsets = _window_offsets(c, kh, kw, hp, wp)
    width = offsets.shape[0]
    flat_x, flat_cols = xp.reshape(-1), cols.reshape(-1)
    for b in prange(n):
        for oy in range(oh):
            for ox in range(ow):
                corner = (b * c * hp + oy * stride) * wp + ox * stride
                row = ((b * oh + oy) * ow + ox) * width
                for q in range(width):
                    flat_cols[row + q] = flat_x[corner + offsets[q]]


@jit
def _col2im(cols, kh, kw, stride, oh, ow, outp):
    n, c, hp, wp = outp.shape
    offsets = _window_offsets(c, kh, kw, hp, wp)
    width = offsets.shape[0]
    flat_out, flat_cols = outp.reshape(-1), cols.reshape(-1)
    for b in prange(n):
        outp[b] = 0
        for oy in range(oh):
            for ox in range(ow):
                corner = (b * c * hp + oy * stride) * wp + ox * stride
                row = ((b * oh + oy) * ow + ox) * width
                for q in range(width):
                    flat_out[corner + offsets[q]] += flat_cols[row + q]


@jit
def _maxpool_forward(x, k, stride, oh, ow, out, argmax):
    n, c = x.shape[0], x.shape[1]
    for b in prange(n):
        for ch in range(c):
            for oy in range(oh):
                for ox in range(ow):
                    best = x[b, ch, oy * stride, ox * stride]
                    where = 0
                    for i in range(k):
                        for j in range(k):
                            value = x[b, ch, oy * stride + i, ox * stride + j]
                            if value > best:  # strict: the first maximum wins ties
                                best = value
                                where = i * k + j
                    out[b, ch, oy, ox] = best
                    argmax[b, ch, oy, ox] = where


@jit
def _maxpool2_forward(x, oh, ow, out, argmax):
    """_maxpool_forward for the common k = stride = 2, unrolled: the four compares in the same order
    (first maximum wins), on row views; several times faster than the general loop (benchmarks/kernels.py)."""
    n, c = x.shape[0], x.shape[1]
    for b in prange(n):
        for ch in range(c):
            plane = x[b, ch]
            for oy in range(oh):
                top, bottom = plane[2 * oy], plane[2 * oy + 1]
                for ox in range(ow):
                    j = 2 * ox
                    best, where = top[j], 0
                    if top[j + 1] > best:
                        best, where = top[j + 1], 1
                    if bottom[j] > best:
                        best, where = bottom[j], 2
                    if bottom[j + 1] > best:
                        best, where = bottom[j + 1], 3
                    out[b, ch, oy, ox] = best
                    argmax[b, ch, oy, ox] = where


@jit
def _maxpool_backward(delta, argmax, k, stride, grad, clear):
    """grad (+)= each window's delta at its argmax; ``clear``: zero grad first (else add to what is there)."""
    n, c, oh, ow = delta.shape
    for b in prange(n):
        if clear:
            grad[b] = 0
        for ch in range(c):
            for oy in range(oh):
                for ox in range(ow):
                    where = argmax[b, ch, oy, ox]
                    grad[b, ch, oy * stride + where // k, ox * stride + where % k] += delta[b, ch, oy, ox]


@jit
def _maxpool2_backward(delta, argmax, grad, clear):
    """_maxpool_backward for k = stride = 2, 2x faster (benchmarks/kernels.py): the window's row and column
    from the argmax's bits instead of a division by k, and (``clear``) the window's two rows zeroed in the same
    sweep instead of in a pass of their own. The same values: each entry gets its one delta added to 0 (or to
    what was there), as windows do not overlap."""
    n, c, oh, ow = delta.shape
    h, w = grad.shape[2], grad.shape[3]
    for b in prange(n):
        for ch in range(c):
            plane = grad[b, ch]
            if clear and (h > 2 * oh or w > 2 * ow):  # odd sizes: the last row / column is in no window
                plane[2 * oh:, :] = 0
                plane[:, 2 * ow:] = 0
            for oy in range(oh):
                if clear:
                    plane[2 * oy, :2 * ow] = 0
                    plane[2 * oy + 1, :2 * ow] = 0
                for ox in range(ow):
                    where = argmax[b, ch, oy, ox]
                    plane[2 * oy + (where >> 1), 2 * ox + (where & 1)] += delta[b, ch, oy, ox]


@jit
def _avgpool_forward(x, k, stride, oh, ow, out):
    n, c = x.shape[0], x.shape[1]
    scale = 1.0 / (k * k)
    for b in prange(n):
        for ch in range(c):
            for oy in range(oh):
                for ox in range(ow):
                    total = 0.0
                    for i in range(k):
                        for j in range(k):
                            total += x[b, ch, oy * stride + i, ox * stride + j]
                    out[b, ch, oy, ox] = total * scale


@jit
def _avgpool_backward(delta, k, stride, grad):
    n, c, oh, ow = delta.shape
    scale = 1.0 / (k * k)
    for b in prange(n):
        grad[b] = 0
        for ch in range(c):
            for oy in range(oh):
                for ox in range(ow):
                    share = delta[b, ch, oy, ox] * scale
                    for i in range(k):
                        for j in range(k):
                            grad[b, ch, oy * stride + i, ox * stride + j] += share


@jit
def _matmul(a, b, out):
    m, kk = a.shape
    n = b.shape[1]
    for r in prange(m):
        for col in range(n):
            out[r, col] = 0
        for p in range(kk):
            scale = a[r, p]
            for col in range(n):
                out[r, col] += scale * b[p, col]


@jit
def _add_outer(out, u, v):
    # One pass over out, no (m, n) temporary: NumPy's u[:, None] * v[None, :] writes a product array that
    # the += then reads back, and BLAS's gemm (or ger) for an inner dimension of 1 is slower still.
    for i in range(out.shape[0]):
        scale = u[i]
        for j in range(out.shape[1]):
            out[i, j] += scale * v[j]


@jit
def _relu_backward(delta, output, add_to):
    # Flat, C-contiguous arrays: one pass, where NumPy makes a mask, a product and then adds it.
    # delta * 0 (not a skipped add) where the unit is off keeps NumPy's NaN and inf behaviour; a float32
    # times a bool stays float32 in Numba, as in NumPy.
    for i in range(add_to.shape[0]):
        add_to[i] += delta[i] * (output[i] > 0)


# --- the same signatures as reference.py ----------------------------------------------------------

def im2col(x, kh, kw, stride=1, padding=0):
    n, c, h, w = x.shape
    ph, pw = pair(padding)
    oh, ow = output_size(h, kh, stride, ph), output_size(w, kw, stride, pw)
    if ph or pw:
        xp = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=x.dtype)
        xp[:, :, ph:ph + h, pw:pw + w] = x
    else:
        xp = np.ascontiguousarray(x)
    cols = np.empty((n * oh * ow, c * kh * kw), dtype=x.dtype)
    _im2col(xp, kh, kw, stride, oh, ow, cols)
    return cols


def col2im(cols, x_shape, kh, kw, stride=1, padding=0):
    n, c, h, w = x_shape
    ph, pw = pair(padding)
    oh, ow = output_size(h, kh, stride, ph), output_size(w, kw, stride, pw)
    outp = np.empty((n, c, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
    _col2im(np.ascontiguousarray(cols), kh, kw, stride, oh, ow, outp)
    return np.ascontiguousarray(outp[:, :, ph:ph + h, pw:pw + w]) if ph or pw else outp


def maxpool_forward(x, k, stride):
    n, c, h, w = x.shape
    oh, ow = output_size(h, k, stride, 0), output_size(w, k, stride, 0)
    out = np.empty((n, c, oh, ow), dtype=x.dtype)
    argmax = np.empty((n, c, oh, ow), dtype=np.int32)
    x = np.ascontiguousarray(x)

    def part(start, stop):
        if k == stride == 2:
            _maxpool2_forward(x[start:stop], oh, ow, out[start:stop], argmax[start:stop])
        else:
            _maxpool_forward(x[start:stop], k, stride, oh, ow, out[start:stop], argmax[start:stop])

    threads.map_parts(part, n, threads.min_items(x[0].nbytes))
    return out, argmax


def maxpool_backward(delta, argmax, x_shape, k, stride, add_to=None):
    grad = np.empty(x_shape, dtype=delta.dtype) if add_to is None else add_to
    delta = np.ascontiguousarray(delta)

    def part(start, stop):
        if k == stride == 2:
            _maxpool2_backward(delta[start:stop], argmax[start:stop], grad[start:stop], add_to is None)
        else:
            _maxpool_backward(delta[start:stop], argmax[start:stop], k, stride, grad[start:stop], add_to is None)

    threads.map_parts(part, len(delta), threads.min_items(grad[0].nbytes))
    return grad


def avgpool_forward(x, k, stride):
    n, c, h, w = x.shape
    oh, ow = output_size(h, k, stride, 0), output_size(w, k, stride, 0)
    out = np.empty((n, c, oh, ow), dtype=x.dtype)
    _avgpool_forward(np.ascontiguousarray(x), k, stride, oh, ow, out)
    return out


def avgpool_backward(delta, x_shape, k, stride):
    grad = np.empty(x_shape, dtype=delta.dtype)
    _avgpool_backward(np.ascontiguousarray(delta), k, stride, grad)
    return grad


def matmul(a, b):
    out = np.empty((a.shape[0], b.shape[1]), dtype=np.result_type(a, b))
    _matmul(np.ascontiguousarray(a), np.ascontiguousarray(b), out)
    return out


def add_outer(out, u, v):
    # the compiled loops do not check bounds: a shape that disagrees must not reach them
    if u.ndim != 1 or v.ndim != 1 or out.shape != (len(u), len(v)):
        raise ValueError(f"add_outer: out {out.shape} += u {u.shape} (v {v.shape})^T needs out of shape "
                         "(len(u), len(v))")
    _add_outer(out, u, v)
    return out


def relu_backward(delta, output, add_to):
    if not delta.shape == output.shape == add_to.shape:
        raise ValueError(f"relu_backward: delta {delta.shape}, output {output.shape} and add_to {add_to.shape} "
                         "must have one shape")
    if not (delta.flags.c_contiguous and output.flags.c_contiguous and add_to.flags.c_contiguous):
        return reference.relu_backward(delta, output, add_to)
    _relu_backward(delta.reshape(-1), output.reshape(-1), add_to.reshape(-1))
    return add_to
