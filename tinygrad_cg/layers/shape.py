"""Layers that move numbers around without computing: reshape, flatten, group rows, concatenate.

Their backward passes undo the move: delta is reshaped (or split) back to the input's layout.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .. import checks
from ..graph import Layer, Shape, dims_match, fmt_shape


class Reshape(Layer):
    """o = x reshaped to ``(N, *shape)``, the batch axis kept.   delta_x += delta reshaped back."""

    def __init__(self, x: Layer, shape: Sequence[int], name: str | None = None):
        owner = checks.owner_name("Reshape", name)
        if isinstance(shape, int) or not isinstance(shape, Sequence):
            raise checks.ArgumentError(f"{owner}: shape must be a sequence of sizes (the batch axis left out), "
                                       f"got {shape!r}")
        self.target_shape = tuple(checks.integer(owner, "every size in shape", d, 1) for d in shape)
        super().__init__(x, name=name)

    def infer_shape(self, x: Shape) -> Shape:
        if len(x) == 0:
            raise self.shape_error("input needs a batch axis")
        features = x[1:]
        if None not in features and math.prod(features) != math.prod(self.target_shape):
            raise self.shape_error(
                f"cannot reshape {fmt_shape(x)} to (N, {', '.join(map(str, self.target_shape))}): "
                f"{math.prod(features)} features vs {math.prod(self.target_shape)}"
            )
        return (x[0], *self.target_shape)

    def forward(self):
        x = self.inputs[0].output
        self.output = x.reshape((x.shape[0], *self.target_shape))

    def backward(self):
        x = self.inputs[0]
        if x.needs_delta:
            x.delta += self.delta.reshape(x.delta.shape)


class Flatten(Layer):
    """o = x reshaped to (N, prod of the other axes), e.g. NCHW -> (N, C*H*W)."""

    def __init__(self, x: Layer, name: str | None = None):
        super().__init__(x, name=name)

    def infer_shape(self, x: Shape) -> Shape:
        if len(x) == 0:
            raise self.shape_error("input needs a batch axis")
        features = x[1:]
        return (x[0], None if None in features else math.prod(features))

    def forward(self):
        x = self.inputs[0].output
        self.output = x.reshape(x.shape[0], -1)

    def backward(self):
        x = self.inputs[0]
        if x.needs_delta:
            x.delta += self.delta.reshape(x.delta.shape)


class GroupRows(Layer):
    """o = x reshaped (N*size, D) -> (N, size*D): each run of ``size`` consecutive rows becomes one row.

    How one network is applied to every member of a tuple with shared weights: feed the N tuples as
    N*size rows (tuple-major), run the shared network once, then group its outputs per tuple.
    delta_x += delta reshaped back to (N*size, D).
    """

    def __init__(self, x: Layer, size: int, name: str | None = None):
        self.size = checks.integer(checks.owner_name("GroupRows", name), "size", size, 1)
        super().__init__(x, name=name)

    def infer_shape(self, x: Shape) -> Shape:
        if len(x) != 2:
            raise self.shape_error(f"needs rows (N*size, D), got {fmt_shape(x)}")
        rows, width = x
        if rows is not None and rows % self.size:
            raise self.shape_error(f"{rows} rows do not split into groups of {self.size}")
        return (None if rows is None else rows // self.size, None if width is None else width * self.size)

    def forward(self):
        x = self.inputs[0].output
        self.output = x.reshape(x.shape[0] // self.size, -1)

    def backward(self):
        x = self.inputs[0]
        if x.needs_delta:
            x.delta += self.delta.reshape(x.delta.shape)


class Concat(Layer):
    """o = [x_1, x_2, ...] joined along ``axis`` (default 1, the feature axis).

    All other axes must agree. delta_{x_i} += the slice of delta that x_i filled.
    """

    def __init__(self, inputs: Sequence[Layer], axis: int = 1, name: str | None = None):
        if isinstance(inputs, Layer):
            inputs = [inputs]
        self.axis = axis
        super().__init__(*inputs, name=name)

    def infer_shape(self, *shapes: Shape) -> Shape:
        if not shapes:
            raise self.shape_error("needs at least one input")
        rank = len(shapes[0])
        if not -rank <= self.axis < rank:
            raise self.shape_error(f"axis {self.axis} is out of range for rank {rank}")
        axis = self.axis % rank
        for shape in shapes:
            if len(shape) != rank or not all(
                dims_match(a, b) for i, (a, b) in enumerate(zip(shape, shapes[0], strict=True)) if i != axis
            ):
                raise self.shape_error(
                    f"cannot join {', '.join(map(fmt_shape, shapes))} along axis {self.axis}: "
                    "the other axes must agree"
                )
        sizes = [shape[axis] for shape in shapes]
        joined = None if None in sizes else sum(sizes)
        return (*shapes[0][:axis], joined, *shapes[0][axis + 1:])

    def forward(self):
        self.output = np.concatenate([inp.output for inp in self.inputs], axis=self.axis)

    def backward(self):
        start = 0
        for inp in self.inputs:
            size = inp.output.shape[self.axis]
            if inp.needs_delta:
                inp.delta += np.take(self.delta, np.arange(start, start + size), axis=self.axis)
            start += size
