"""The fast convolution behind ``L.Conv2D``: im2col + GEMM over chunks of the batch, never the whole
batch's patch matrix at once.

Why chunks. The lecture's form (Im2Col -> Affine) builds one patch matrix for the whole batch: for the
end-to-end demo's second conv at 800 images that is 156,800 x 400 floats = 250 MB, written once, read
by the GEMM, and its delta written again by col2im. At that size the step is bound by memory traffic,
and BLAS handles the tall-skinny (156,800 x 400) @ (400 x 16) product at a third of its peak. A chunk
of a few images keeps the patch matrix at a few MB (in the 32 MB L3), and the GEMM runs 2-3x faster
(``benchmarks/e2e_step.py``). Backward recomputes the chunk's patches instead of storing them.

Why two layouts. The patch matrix is gathered by one NumPy strided copy (``np.copyto`` from an
``as_strided`` view), which is fast when the innermost contiguous run of the copy is long:

- ``ChannelsLast``: the chunk is padded into (B, Hp, Wp, C); a patch row (i fixed) is the kw*C
  contiguous floats x[b, y+i, x:x+kw, :]. Patch matrix P (B*OH*OW, kh*kw*C); out rows = P @ W.
  Good when kw*C is long (the demo's conv2: 5*16 = 80 floats).
- ``ChannelsFirst``: the chunk is padded into (B, C, Hp, Wp); the run is one output row of a shifted
  image, OW contiguous floats. Patch matrix P^T (C*kh*kw, B*OH*OW); out = W @ P^T.
  Good when C is small (a first layer on grey images: kw*C = 5 floats, but OW = 28).

``layout_for`` picks the one with the longer run.

The input's gradient is itself a correlation: for stride s and padding p::

    dx = correlate(D', K'),   D' = delta dilated by s (s-1 zeros between entries) and zero-padded by
                              k-1-p on the left (top) and enough on the right (bottom) to give size H,
                              K'[ci, co, i, j] = K[co, ci, k-1-i, k-1-j]  (flipped, channels swapped),

so it runs through the same chunked gather + GEMM instead of a scatter-add (col2im), which is 3x slower.

Why threads. Each pass cuts the batch into one part per core (``threads.map_parts``), and each part runs its
own chunks (gather, GEMM, bias) with its own buffers, BLAS held to one thread: BLAS's own threads would speed
up only the GEMMs, and the gathers are as long. The kernel's gradient is summed per part, then over the parts.
Every chunk writes its finished images straight into the output (the bias added, or the input's gradient
added into the caller's delta, while the chunk is in cache): no extra pass over the whole batch.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import threads
from .reference import output_size

CHUNK_BYTES = 2 << 20  # a patch matrix of ~2 MB per chunk (per thread): fastest in the measured range


class ChannelsLast:
    """Chunk buffer (B, Hp, Wp, C); patches P (B*OH*OW, kh*kw*C), columns ordered (i, j, c)."""

    @staticmethod
    def buffer(b: int, c: int, hp: int, wp: int, dtype) -> np.ndarray:
        return np.zeros((b, hp, wp, c), dtype=dtype)

    @staticmethod
    def place(buf: np.ndarray, x: np.ndarray, top: int, left: int, step: int) -> None:
        """Write NCHW ``x`` into the buffer at rows top, top+step, ... and columns left, left+step, ..."""
        h, w = x.shape[2], x.shape[3]
        buf[:len(x), top:top + step * (h - 1) + 1:step, left:left + step * (w - 1) + 1:step] = x.transpose(0, 2, 3, 1)

    @staticmethod
    def patches(buf: np.ndarray, b: int, kh: int, kw: int, stride: int, oh: int, ow: int,
                into: np.ndarray) -> np.ndarray:
        """P (b*OH*OW, kh*kw*C), gathered by one strided copy into the flat buffer ``into``."""
        c = buf.shape[3]
        s0, s1, s2, s3 = buf.strides
        view = as_strided(buf, (b, oh, ow, kh, kw, c), (s0, s1 * stride, s2 * stride, s1, s2, s3), writeable=False)
        P = into[:view.size].reshape(view.shape)
        np.copyto(P, view)
        return P.reshape(b * oh * ow, kh * kw * c)

    @staticmethod
    def weights(K: np.ndarray) -> np.ndarray:
        """K (C_out, C, kh, kw) -> W (kh*kw*C, C_out), matching the patch columns."""
        return np.ascontiguousarray(K.transpose(2, 3, 1, 0).reshape(-1, K.shape[0]))

    @staticmethod
    def multiply(P: np.ndarray, W: np.ndarray, b: int, oh: int, ow: int, into: np.ndarray) -> np.ndarray:
        """(B, C_out, OH, OW) images of P @ W, computed into ``into`` (returned as a transposed view)."""
        rows = np.matmul(P, W, out=into[:P.shape[0] * W.shape[1]].reshape(P.shape[0], W.shape[1]))
        return rows.reshape(b, oh, ow, W.shape[1]).transpose(0, 3, 1, 2)

    @staticmethod
    def weight_grad(P: np.ndarray, delta: np.ndarray, K_shape: tuple) -> np.ndarray:
        """dK (C_out, C, kh, kw) = P^T D, with D the chunk's delta as rows (B*OH*OW, C_out)."""
        c_out, c, kh, kw = K_shape
        D = delta.transpose(0, 2, 3, 1).reshape(-1, c_out)
        return (P.T @ D).reshape(kh, kw, c, c_out).transpose(3, 2, 0, 1)


class ChannelsFirst:
    """Chunk buffer (B, C, Hp, Wp); patches P^T (C*kh*kw, B*OH*OW), rows ordered (c, i, j)."""

    @staticmethod
    def buffer(b: int, c: int, hp: int, wp: int, dtype) -> np.ndarray:
        return np.zeros((b, c, hp, wp), dtype=dtype)

    @staticmethod
    def place(buf: np.ndarray, x: np.ndarray, top: int, left: int, step: int) -> None:
        h, w = x.shape[2], x.shape[3]
        buf[:len(x), :, top:top + step * (h - 1) + 1:step, left:left + step * (w - 1) + 1:step] = x

    @staticmethod
    def patches(buf: np.ndarray, b: int, kh: int, kw: int, stride: int, oh: int, ow: int,
                into: np.ndarray) -> np.ndarray:
        """P^T (C*kh*kw, b*OH*OW), gathered by one strided copy into the flat buffer ``into``."""
        c = buf.shape[1]
        s0, s1, s2, s3 = buf.strides
        view = as_strided(buf, (c, kh, kw, b, oh, ow), (s1, s2, s3, s0, s2 * stride, s3 * stride), writeable=False)
        PT = into[:view.size].reshape(view.shape)
        np.copyto(PT, view)
        return PT.reshape(c * kh * kw, b * oh * ow)

    @staticmethod
    def weights(K: np.ndarray) -> np.ndarray:
        """K (C_out, C, kh, kw) -> W (C_out, C*kh*kw), matching the patch rows."""
        return np.ascontiguousarray(K.reshape(K.shape[0], -1))

    @staticmethod
    def multiply(PT: np.ndarray, W: np.ndarray, b: int, oh: int, ow: int, into: np.ndarray) -> np.ndarray:
        cols = np.matmul(W, PT, out=into[:W.shape[0] * PT.shape[1]].reshape(W.shape[0], PT.shape[1]))
        return cols.reshape(W.shape[0], b, oh, ow).transpose(1, 0, 2, 3)

    @staticmethod
    def weight_grad(PT: np.ndarray, delta: np.ndarray, K_shape: tuple) -> np.ndarray:
        """dK = D P, with D the chunk's delta as (C_out, B*OH*OW)."""
        D = delta.transpose(1, 0, 2, 3).reshape(K_shape[0], -1)
        return (D @ PT.T).reshape(K_shape)


def layout_for(c: int, kw: int, ow: int):
    """The layout whose gather copies the longer contiguous run (see the module docstring)."""
    return ChannelsLast if kw * c >= ow else ChannelsFirst


def chunk_size(n: int, patch_floats_per_image: int, itemsize: int) -> int:
    return int(min(n, max(1, CHUNK_BYTES // max(1, patch_floats_per_image * itemsize))))


class Chunks:
    """The batch cut into chunks of ``size`` images, and the buffers every chunk reuses: the zero-padded
    input, the patch matrix and the GEMM's result (fresh arrays per chunk would cost page faults)."""

    def __init__(self, n: int, c: int, kh: int, kw: int, out_hw: tuple[int, int], buffer_hw: tuple[int, int],
                 c_out: int, dtype):
        oh, ow = out_hw
        self.layout = layout_for(c, kw, ow)
        self.size = chunk_size(n, oh * ow * c * kh * kw, np.dtype(dtype).itemsize)
        self.padded = self.layout.buffer(self.size, c, *buffer_hw, dtype)
        self.patches = np.empty(self.size * oh * ow * c * kh * kw, dtype=dtype)
        self.product = np.empty(self.size * oh * ow * c_out, dtype=dtype)
        self.starts = range(0, n, self.size)


def _correlate_into(out: np.ndarray, source: np.ndarray, K: np.ndarray, stride: int, buffer_hw: tuple[int, int],
                    top_left: tuple[int, int], step: int, bias: np.ndarray | None, add: bool) -> None:
    """out[n, o] (+)= sum_{c,i,j} buf[n, c, y*stride + i, x*stride + j] K[o, c, i, j] (+ bias[o]), where buf is
    ``source`` written into a zero buffer of size ``buffer_hw`` at ``top_left`` every ``step`` pixels (step > 1
    dilates). Chunk by chunk: the bias is added, or the result added to ``out``, while the chunk is in cache."""
    n, c = source.shape[0], source.shape[1]
    c_out, _, kh, kw = K.shape
    oh, ow = out.shape[2], out.shape[3]
    chunks = Chunks(n, c, kh, kw, (oh, ow), buffer_hw, c_out, source.dtype)
    layout = chunks.layout
    W = layout.weights(K)
    for start in chunks.starts:
        chunk = source[start:start + chunks.size]
        layout.place(chunks.padded, chunk, *top_left, step)
        P = layout.patches(chunks.padded, len(chunk), kh, kw, stride, oh, ow, chunks.patches)
        images = layout.multiply(P, W, len(chunk), oh, ow, chunks.product)
        block = out[start:start + len(chunk)]
        if add:
            block += images
        else:
            block[...] = images
        if bias is not None:
            block += bias.reshape(1, -1, 1, 1)


def _correlate(out: np.ndarray, source: np.ndarray, K: np.ndarray, stride: int, buffer_hw: tuple[int, int],
               top_left: tuple[int, int], step: int, bias: np.ndarray | None = None, add: bool = False) -> None:
    """``_correlate_into`` over the batch, one part per thread (``threads.map_parts``)."""
    _, c, kh, kw = K.shape
    smallest = threads.min_items(out.shape[2] * out.shape[3] * c * kh * kw * source.dtype.itemsize)  # patches
    threads.map_parts(lambda start, stop: _correlate_into(out[start:stop], source[start:stop], K, stride,
                                                          buffer_hw, top_left, step, bias, add),
                      len(source), smallest)


def conv2d_forward(x: np.ndarray, K: np.ndarray, bias: np.ndarray, stride: int, padding: tuple[int, int]) -> np.ndarray:
    """y[n, o, y, x] = b[o] + sum_{c,i,j} x_pad[n, c, y*stride + i, x*stride + j] K[o, c, i, j]."""
    n, _, h, w = x.shape
    c_out, _, kh, kw = K.shape
    ph, pw = padding
    out = np.empty((n, c_out, output_size(h, kh, stride, ph), output_size(w, kw, stride, pw)), dtype=x.dtype)
    _correlate(out, x, K, stride, (h + 2 * ph, w + 2 * pw), (ph, pw), 1, bias=bias)
    return out


def _param_grads_part(x: np.ndarray, delta: np.ndarray, K_shape: tuple, stride: int, padding: tuple[int, int],
                      kernel: bool) -> tuple[np.ndarray | None, np.ndarray]:
    n, c, h, w = x.shape
    c_out, _, kh, kw = K_shape
    ph, pw = padding
    oh, ow = delta.shape[2], delta.shape[3]
    if not kernel:
        return None, delta.sum(axis=(0, 2, 3))
    db = np.zeros(c_out, dtype=delta.dtype)
    chunks = Chunks(n, c, kh, kw, (oh, ow), (h + 2 * ph, w + 2 * pw), c_out, x.dtype)
    layout = chunks.layout
    dK = np.zeros(K_shape, dtype=x.dtype)
    for start in chunks.starts:
        chunk, D = x[start:start + chunks.size], delta[start:start + chunks.size]
        layout.place(chunks.padded, chunk, ph, pw, 1)
        P = layout.patches(chunks.padded, len(chunk), kh, kw, stride, oh, ow, chunks.patches)
        dK += layout.weight_grad(P, D, K_shape)
        db += D.sum(axis=(0, 2, 3))
    return dK, db


def conv2d_param_grads(x: np.ndarray, delta: np.ndarray, K_shape: tuple, stride: int, padding: tuple[int, int],
                       kernel: bool = True) -> tuple[np.ndarray | None, np.ndarray]:
    """(dK, db): dK[o, c, i, j] = sum_{n,y,x} delta[n, o, y, x] x_pad[n, c, y*stride + i, x*stride + j] and
    db[o] = sum_{n,y,x} delta[n, o, y, x], with the patches recomputed chunk by chunk (the forward pass does not
    store them), each part of the batch summed by its own thread. ``kernel=False``: db only (dK is None)."""
    _, c, kh, kw = K_shape
    smallest = threads.min_items(delta.shape[2] * delta.shape[3] * c * kh * kw * x.dtype.itemsize)  # patches
    parts = threads.map_parts(lambda start, stop: _param_grads_part(x[start:stop], delta[start:stop], K_shape,
                                                                    stride, padding, kernel), len(x), smallest)
    db = np.sum([part_db for _, part_db in parts], axis=0, dtype=delta.dtype)
    return (np.sum([dK for dK, _ in parts], axis=0, dtype=x.dtype) if kernel else None), db


def conv2d_input_grad(delta: np.ndarray, K: np.ndarray, x_shape: tuple, stride: int, padding: tuple[int, int],
                      add_to: np.ndarray | None = None) -> np.ndarray:
    """dx = correlate(delta dilated by ``stride`` and padded by k-1-p, K flipped with channels swapped):
    the adjoint of the forward correlation (module docstring). Needs padding <= kernel - 1.
    ``add_to``: add dx into this (N, C, H, W) array instead of returning a new one (and return it)."""
    _, _, h, w = x_shape
    _, _, kh, kw = K.shape
    ph, pw = padding
    flipped = np.ascontiguousarray(K[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
    out = np.empty(x_shape, dtype=delta.dtype) if add_to is None else add_to
    _correlate(out, delta, flipped, 1, (h + kh - 1, w + kw - 1), (kh - 1 - ph, kw - 1 - pw), stride,
               add=add_to is not None)
    return out
