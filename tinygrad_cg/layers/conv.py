"""Convolution as the lecture builds it: Im2Col, then an Affine layer, then back to images.

    cols = Im2Col(x)               (N, C, H, W) -> (N*OH*OW, C*kh*kw), one row per output position
    Wm   = FlattenKernel(K)        (C_out, C, kh, kw) -> (C*kh*kw, C_out)
    rows = Affine(cols, Wm, b)     (N*OH*OW, C_out): every output pixel is a dot product with K
    y    = RowsToImages(rows)      -> (N, C_out, OH, OW)

``nn.conv2d`` wires exactly this, so ``Graph.summary()`` shows a conv as Im2Col + Affine.

``Conv2D`` is the same function as one layer (``nn.conv2d(..., fused=True)``): the fast form the demos
use. It computes im2col + GEMM over chunks of the batch and never stores the patch matrix
(``kernels/fused_conv.py`` says how and why); its outputs and deltas equal the composed form's.
"""

from __future__ import annotations

import numpy as np

from .. import checks, kernels
from ..graph import Layer, Shape, dims_match, fmt_shape
from ..kernels import fused_conv
from ..kernels.reference import output_size


def conv_output_size(layer: Layer, size: int | None, kernel: int, stride: int, padding: int, axis: str):
    """OH or OW; raises ShapeError when the windows do not tile the (padded) input exactly."""
    if size is None:
        return None
    span = size + 2 * padding - kernel
    if span < 0 or span % stride:
        raise layer.shape_error(
            f"a {kernel}-wide window with stride {stride} and padding {padding} does not tile {axis} = {size} "
            f"(need (size + 2 padding - kernel) divisible by stride, and >= 0)"
        )
    return output_size(size, kernel, stride, padding)


class Im2Col(Layer):
    r"""Rows of patches: cols[(n, oy, ox), (c, i, j)] = x_pad[n, c, oy*stride + i, ox*stride + j].

    .. math:: \mathrm{cols}[(n, o_y, o_x), (c, i, j)] = x^{\mathrm{pad}}[n, c, s o_y + i, s o_x + j]

    x (N, C, H, W) -> (N*OH*OW, C*kh*kw). Backward: delta_x += col2im(delta), the adjoint, which sums
    the contributions of overlapping windows. ``padding`` is zero padding, an int or (along H, along W).
    """

    def __init__(self, x: Layer, kh: int, kw: int, stride: int = 1, padding: int | tuple[int, int] = 0,
                 name: str | None = None):
        owner = checks.owner_name("Im2Col", name)
        self.kh, self.kw = checks.integer(owner, "kh", kh, 1), checks.integer(owner, "kw", kw, 1)
        self.stride = checks.integer(owner, "stride", stride, 1)
        self.padding = checks.integer_pair(owner, "padding", padding, 0)
        super().__init__(x, name=name)

    def infer_shape(self, x: Shape) -> Shape:
        if len(x) != 4:
            raise self.shape_error(f"needs NCHW images, got {fmt_shape(x)}")
        n, c, h, w = x
        oh = conv_output_size(self, h, self.kh, self.stride, self.padding[0], "H")
        ow = conv_output_size(self, w, self.kw, self.stride, self.padding[1], "W")
        self.out_hw = (oh, ow)
        rows = None if None in (n, oh, ow) else n * oh * ow
        return (rows, None if c is None else c * self.kh * self.kw)

    def forward(self):
        self.output = kernels.im2col(self.inputs[0].output, self.kh, self.kw, self.stride, self.padding)

    def backward(self):
        x = self.inputs[0]
        if x.needs_delta:
            x.delta += kernels.col2im(self.delta, x.output.shape, self.kh, self.kw, self.stride, self.padding)


class FlattenKernel(Layer):
    """Wm = K reshaped (C_out, C*kh*kw) and transposed: (C*kh*kw, C_out), to multiply Im2Col's rows.

    Backward: delta_K += delta^T reshaped to K's shape.
    """

    def __init__(self, kernel: Layer, name: str | None = None):
        super().__init__(kernel, name=name)

    def infer_shape(self, k: Shape) -> Shape:
        if len(k) != 4:
            raise self.shape_error(f"a conv kernel is (C_out, C_in, kh, kw), got {fmt_shape(k)}")
        return (k[1] * k[2] * k[3], k[0])

    def forward(self):
        k = self.inputs[0].output
        self.output = k.reshape(k.shape[0], -1).T

    def backward(self):
        k = self.inputs[0]
        if k.needs_delta:
            k.delta += self.delta.T.reshape(k.delta.shape)


class RowsToImages(Layer):
    """(N*OH*OW, C) rows, ordered (n, oy, ox) as Im2Col makes them, -> images (N, C, OH, OW)."""

    def __init__(self, rows: Layer, oh: int, ow: int, name: str | None = None):
        owner = checks.owner_name("RowsToImages", name)
        self.oh, self.ow = checks.integer(owner, "oh", oh, 1), checks.integer(owner, "ow", ow, 1)
        super().__init__(rows, name=name)

    def infer_shape(self, rows: Shape) -> Shape:
        if len(rows) != 2 or (rows[0] is not None and rows[0] % (self.oh * self.ow)):
            raise self.shape_error(f"cannot fold rows {fmt_shape(rows)} into {self.oh}x{self.ow} images")
        n = None if rows[0] is None else rows[0] // (self.oh * self.ow)
        return (n, rows[1], self.oh, self.ow)

    def forward(self):
        rows = self.inputs[0].output
        images = rows.reshape(-1, self.oh, self.ow, rows.shape[1]).transpose(0, 3, 1, 2)
        self.output = np.ascontiguousarray(images)

    def backward(self):
        rows = self.inputs[0]
        if rows.needs_delta:
            rows.delta += self.delta.transpose(0, 2, 3, 1).reshape(rows.delta.shape)


class Conv2D(Layer):
    r"""y[n, o, oy, ox] = b[o] + sum_{c, i, j} x_pad[n, c, oy*stride + i, ox*stride + j] K[o, c, i, j].

    .. math:: y[n, o, o_y, o_x] = b[o] + \sum_{c, i, j} x^{\mathrm{pad}}[n, c, s o_y + i, s o_x + j]\, K[o, c, i, j]

    Shapes: x (N, C, H, W), K (C_out, C, kh, kw), b (C_out,) -> y (N, C_out, OH, OW) with
    OH = (H + 2 padding - kh) // stride + 1 (the windows must tile, as for Im2Col).

    Backward, with D = delta (N, C_out, OH, OW)::

        delta_K[o, c, i, j] += sum_{n, oy, ox} D[n, o, oy, ox] x_pad[n, c, oy*stride + i, ox*stride + j]
        delta_b[o]          += sum_{n, oy, ox} D[n, o, oy, ox]
        delta_x             += D correlated with K flipped (rows and columns) and its channels swapped,
                               D dilated by the stride and padded by kernel - 1 - padding.

    The same numbers as Im2Col -> Affine(FlattenKernel(K), b) -> RowsToImages, in one layer.
    """

    batch_parallel = True

    def __init__(self, x: Layer, K: Layer, b: Layer, stride: int = 1, padding: int | tuple[int, int] = 0,
                 name: str | None = None):
        owner = checks.owner_name("Conv2D", name)
        self.stride = checks.integer(owner, "stride", stride, 1)
        self.padding = checks.integer_pair(owner, "padding", padding, 0)
        super().__init__(x, K, b, name=name)

    def infer_shape(self, x: Shape, K: Shape, b: Shape) -> Shape:
        if len(x) != 4:
            raise self.shape_error(f"needs NCHW images, got {fmt_shape(x)}")
        if len(K) != 4 or None in K:
            raise self.shape_error(f"a conv kernel is (C_out, C_in, kh, kw), got {fmt_shape(K)}")
        c_out, c_in, kh, kw = K
        if not dims_match(x[1], c_in):
            raise self.shape_error(f"x has {x[1]} channels but the kernel {fmt_shape(K)} expects {c_in}")
        if len(b) != 1 or not dims_match(b[0], c_out):
            raise self.shape_error(f"b has shape {fmt_shape(b)} but the kernel {fmt_shape(K)} needs ({c_out},)")
        if self.padding[0] >= kh or self.padding[1] >= kw:
            raise self.shape_error(f"padding {self.padding} must be smaller than the kernel ({kh}, {kw})")
        oh = conv_output_size(self, x[2], kh, self.stride, self.padding[0], "H")
        ow = conv_output_size(self, x[3], kw, self.stride, self.padding[1], "W")
        return (x[0], c_out, oh, ow)

    def forward(self):
        x, K, b = self.inputs
        self.output = fused_conv.conv2d_forward(x.output, K.output, b.output, self.stride, self.padding)

    def backward(self):
        x, K, b = self.inputs
        if K.needs_delta or b.needs_delta:
            dK, db = fused_conv.conv2d_param_grads(x.output, self.delta, K.output.shape, self.stride, self.padding,
                                                   kernel=K.needs_delta)
            if K.needs_delta:
                K.delta += dK
            if b.needs_delta:
                b.delta += db
        if x.needs_delta:
            fused_conv.conv2d_input_grad(self.delta, K.output, x.output.shape, self.stride, self.padding,
                                         add_to=x.delta)
