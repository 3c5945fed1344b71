"""NumPy reference kernels: the definitions the Numba kernels are tested against.

Layouts (batch-first, NCHW):

- im2col: x (N, C, H, W) -> cols (N*OH*OW, C*kh*kw); row (n, oy, ox) holds the patch whose top-left
  corner is (oy*stride - padding, ox*stride - padding), columns ordered (c, i, j) so that a kernel
  K (C_out, C, kh, kw) reshaped to (C_out, C*kh*kw) and transposed multiplies it directly.
- col2im: the adjoint of im2col (the backward pass): every patch entry is added back where it came from;
  overlapping windows sum.
- pooling: windows of k x k with a stride, no padding; max pooling remembers which entry of each window
  won (the first maximum in row-major order on ties), and the backward pass routes delta there.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - kernel) // stride + 1


def pair(value: int | tuple[int, int]) -> tuple[int, int]:
    """A padding given as one int (both axes) or as (along H, along W)."""
    return (value, value) if isinstance(value, int | np.integer) else (int(value[0]), int(value[1]))


def im2col(x: np.ndarray, kh: int, kw: int, stride: int = 1, padding=0) -> np.ndarray:
    n, c, h, w = x.shape
    ph, pw = pair(padding)
    oh, ow = output_size(h, kh, stride, ph), output_size(w, kw, stride, pw)
    padded = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    windows = sliding_window_view(padded, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride][:, :, :oh, :ow]
    # (N, C, OH, OW, kh, kw) -> (N, OH, OW, C, kh, kw) -> rows
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kh * kw)


def col2im(cols: np.ndarray, x_shape: tuple, kh: int, kw: int, stride: int = 1, padding=0) -> np.ndarray:
    n, c, h, w = x_shape
    ph, pw = pair(padding)
    oh, ow = output_size(h, kh, stride, ph), output_size(w, kw, stride, pw)
    patches = cols.reshape(n, oh, ow, c, kh, kw).transpose(0, 3, 4, 5, 1, 2)  # (N, C, kh, kw, OH, OW)
    padded = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            padded[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride] += patches[:, :, i, j]
    return padded[:, :, ph:ph + h, pw:pw + w]


def _pool_windows(x: np.ndarray, k: int, stride: int) -> np.ndarray:
    """(N, C, OH, OW, k*k) view of the pooling windows."""
    n, c, h, w = x.shape
    oh, ow = output_size(h, k, stride, 0), output_size(w, k, stride, 0)
    windows = sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::stride, ::stride][:, :, :oh, :ow]
    return windows.reshape(n, c, oh, ow, k * k)


def maxpool_forward(x: np.ndarray, k: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """Returns (output (N, C, OH, OW), argmax within each window (int32, row-major index in 0..k*k-1))."""
    windows = _pool_windows(x, k, stride)
    argmax = windows.argmax(axis=-1).astype(np.int32)  # argmax takes the first maximum on ties
    return np.take_along_axis(windows, argmax[..., None], axis=-1)[..., 0], argmax


def maxpool_backward(delta: np.ndarray, argmax: np.ndarray, x_shape: tuple, k: int, stride: int,
                     add_to: np.ndarray | None = None) -> np.ndarray:
    """Each window's delta to its argmax entry: a new array, or added into ``add_to`` (returned)."""
    n, c, oh, ow = delta.shape
    grad = np.zeros(x_shape, dtype=delta.dtype) if add_to is None else add_to
    rows = np.arange(oh)[:, None] * stride + argmax // k
    cols = np.arange(ow)[None, :] * stride + argmax % k
    nn, cc = np.meshgrid(np.arange(n), np.arange(c), indexing="ij")
    np.add.at(grad, (nn[:, :, None, None], cc[:, :, None, None], rows, cols), delta)
    return grad


def avgpool_forward(x: np.ndarray, k: int, stride: int) -> np.ndarray:
    return _pool_windows(x, k, stride).mean(axis=-1)


def avgpool_backward(delta: np.ndarray, x_shape: tuple, k: int, stride: int) -> np.ndarray:
    n, c, oh, ow = delta.shape
    grad = np.zeros(x_shape, dtype=delta.dtype)
    share = delta / (k * k)
    for i in range(k):
        for j in range(k):
            grad[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride] += share
    return grad


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """BLAS, through NumPy."""
    return a @ b


def add_outer(out: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """out += u v^T (u (m,), v (n,), out (m, n)), in place: a matrix product whose inner dimension is 1."""
    out += u[:, None] * v[None, :]
    return out


def relu_backward(delta: np.ndarray, output: np.ndarray, add_to: np.ndarray) -> np.ndarray:
    """add_to += delta * [output > 0], in place: ReLU's backward pass (all three of one shape)."""
    add_to += delta * (output > 0)
    return add_to
