"""Pooling: k x k windows (Im2Col-style, no padding) reduced by max or mean.

Output size follows PyTorch's default (floor) rule, OH = (H - k) // stride + 1: windows that would run
past the edge are dropped, so a 7x7 map pooled by 2 gives 3x3, and the last row and column get delta 0.
"""

from __future__ import annotations

from .. import checks, kernels
from ..graph import Layer, Shape, fmt_shape
from ..kernels.reference import output_size


class Pool2D(Layer):
    """Shape rule shared by the pooling layers: (N, C, H, W) -> (N, C, (H - k) // stride + 1, ...)."""

    def __init__(self, x: Layer, k: int, stride: int | None = None, name: str | None = None):
        owner = checks.owner_name(type(self).__name__, name)
        self.k = checks.integer(owner, "k", k, 1)
        self.stride = self.k if stride is None else checks.integer(owner, "stride", stride, 1)
        super().__init__(x, name=name)

    def infer_shape(self, x: Shape) -> Shape:
        if len(x) != 4:
            raise self.shape_error(f"needs NCHW images, got {fmt_shape(x)}")
        n, c, h, w = x
        return (n, c, self._pooled_size(h, "H"), self._pooled_size(w, "W"))

    def _pooled_size(self, size: int | None, axis: str) -> int | None:
        if size is None:
            return None
        if size < self.k:
            raise self.shape_error(f"a {self.k}-wide window does not fit in {axis} = {size}")
        return output_size(size, self.k, self.stride, 0)


class MaxPool2D(Pool2D):
    r"""o[n,c,y,x] = max over the window at (y*stride, x*stride).

    .. math:: o[n, c, y, x] = \max_{0 \le i, j < k} x[n, c, s y + i, s x + j]

    Backward: each window's delta goes to the entry that won the max (the first one on ties).
    """

    batch_parallel = True  # the Numba kernels split the batch over threads

    def forward(self):
        self.output, self.argmax = kernels.maxpool_forward(self.inputs[0].output, self.k, self.stride)

    def backward(self):
        x = self.inputs[0]
        if x.needs_delta:
            kernels.maxpool_backward(self.delta, self.argmax, x.output.shape, self.k, self.stride, add_to=x.delta)


class AvgPool2D(Pool2D):
    r"""o[n,c,y,x] = mean over the window.   Backward: each entry of a window gets delta / k^2.

    .. math:: o[n, c, y, x] = \frac{1}{k^2} \sum_{0 \le i, j < k} x[n, c, s y + i, s x + j]
    """

    def forward(self):
        self.output = kernels.avgpool_forward(self.inputs[0].output, self.k, self.stride)

    def backward(self):
        x = self.inputs[0]
        if x.needs_delta:
            x.delta += kernels.avgpool_backward(self.delta, x.output.shape, self.k, self.stride)
