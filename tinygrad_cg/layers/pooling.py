"""Pooling: k x k windows (Im2Col-style, no padding) reduced by max or mean."""

from __future__ import annotations

from .. import kernels
from ..graph import Layer, Shape, fmt_shape
from .conv import conv_output_size


class Pool2D(Layer):
    """Shape rule shared by the pooling layers: (N, C, H, W) -> (N, C, OH, OW), windows must tile."""

    def __init__(self, x: Layer, k: int, stride: int | None = None, name: str | None = None):
        self.k, self.stride = k, k if stride is None else stride
        super().__init__(x, name=name)

    def infer_shape(self, x: Shape) -> Shape:
        if len(x) != 4:
            raise self.shape_error(f"needs NCHW images, got {fmt_shape(x)}")
        n, c, h, w = x
        return (n, c, conv_output_size(self, h, self.k, self.stride, 0, "H"),
                conv_output_size(self, w, self.k, self.stride, 0, "W"))


class MaxPool2D(Pool2D):
    """o[n,c,y,x] = max over the window at (y*stride, x*stride).

    Backward: each window's delta goes to the entry that won the max (the first one on ties).
    """

    def forward(self):
        self.output, self.argmax = kernels.maxpool_forward(self.inputs[0].output, self.k, self.stride)

    def backward(self):
        x = self.inputs[0]
        if x.needs_delta:
            x.delta += kernels.maxpool_backward(self.delta, self.argmax, x.output.shape, self.k, self.stride)


class AvgPool2D(Pool2D):
    """o[n,c,y,x] = mean over the window.   Backward: each entry of a window gets delta / k^2."""

    def forward(self):
        self.output = kernels.avgpool_forward(self.inputs[0].output, self.k, self.stride)

    def backward(self):
        x = self.inputs[0]
        if x.needs_delta:
            x.delta += kernels.avgpool_backward(self.delta, x.output.shape, self.k, self.stride)
