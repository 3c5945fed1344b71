"""The affine layer, the workhorse of every network in the paper."""

from __future__ import annotations

from .. import kernels
from ..graph import Layer, Shape, dims_match, fmt_shape


class Affine(Layer):
    r"""O = X W + b, batch-first.

    .. math::

        O = X W + \mathbf{1} b^\top

        \delta_X \mathrel{+}= D W^\top, \quad \delta_W \mathrel{+}= X^\top D

        \delta_b \mathrel{+}= \textstyle\sum_n D_{n\cdot}

    Shapes: X (N, n_in), W (n_in, n_out), b (n_out,) -> O (N, n_out). (The lecture writes the
    transpose, O = W X + b 1^T with examples in columns.)

    Backward, with D = delta (N, n_out):
        delta_X += D W^T,   delta_W += X^T D,   delta_b += sum over the batch of D.
    """

    def __init__(self, x: Layer, W: Layer, b: Layer, name: str | None = None):
        super().__init__(x, W, b, name=name)

    def infer_shape(self, x: Shape, W: Shape, b: Shape) -> Shape:
        if len(W) != 2:
            raise self.shape_error(f"W must be 2-D (n_in, n_out), got {fmt_shape(W)}")
        if len(x) != 2 or not dims_match(x[1], W[0]):
            raise self.shape_error(f"x has shape {fmt_shape(x)} but W {fmt_shape(W)} expects (N, {W[0]})")
        if len(b) != 1 or not dims_match(b[0], W[1]):
            raise self.shape_error(f"b has shape {fmt_shape(b)} but W {fmt_shape(W)} needs ({W[1]},)")
        return (x[0], W[1])

    def multiply_adds(self) -> int:
        """N n_in n_out: the size of X W (each of the backward's two products is as large)."""
        x, W, _ = self.inputs
        return int(x.output.shape[0]) * int(W.output.shape[0]) * int(W.output.shape[1])

    def forward(self):
        x, W, b = self.inputs
        out = kernels.matmul(x.output, W.output)
        out += b.output
        self.output = out

    def backward(self):
        x, W, b = self.inputs
        if x.needs_delta:
            kernels.add_matmul(x.delta, self.delta, W.output.T)
        if W.needs_delta:
            kernels.add_matmul(W.delta, x.output.T, self.delta)
        if b.needs_delta:
            b.delta += kernels.sum_rows(self.delta)
