"""Arithmetic layers: elementwise ``+``, ``-``, ``*``, square; matrix product; sum and mean.

Binary elementwise layers take two inputs of the same shape, or one of them a 0-d scalar (as in the
lecture's ``p = w x`` with a scalar ``w``). Anything else raises ``ShapeError``: nothing is
silently broadcast.
"""

from __future__ import annotations

import numpy as np

from .. import kernels
from ..graph import Layer, Shape, fmt_shape, shapes_match


def _sum_to_shape(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The delta of a scalar operand that was used against a whole array is the sum over it."""
    return grad.sum() if shape == () and grad.shape != () else grad


class ElementwiseBinary(Layer):
    """Shape rule shared by Add, Subtract, Multiply: equal shapes, or one side a 0-d scalar."""

    def __init__(self, a: Layer, b: Layer, name: str | None = None):
        super().__init__(a, b, name=name)

    def infer_shape(self, a: Shape, b: Shape) -> Shape:
        if a == ():
            return b
        if b == ():
            return a
        if not shapes_match(a, b):
            raise self.shape_error(
                f"operands have shapes {fmt_shape(a)} and {fmt_shape(b)}; they must be equal "
                "(or one a 0-d scalar) - nothing is broadcast"
            )
        return a


class Add(ElementwiseBinary):
    """o = a + b.   delta_a += delta,  delta_b += delta."""

    def forward(self):
        a, b = self.inputs
        self.output = a.output + b.output

    def backward(self):
        a, b = self.inputs
        if a.needs_delta:
            a.delta += _sum_to_shape(self.delta, a.delta.shape)
        if b.needs_delta:
            b.delta += _sum_to_shape(self.delta, b.delta.shape)


class Subtract(ElementwiseBinary):
    """o = a - b.   delta_a += delta,  delta_b -= delta."""

    def forward(self):
        a, b = self.inputs
        self.output = a.output - b.output

    def backward(self):
        a, b = self.inputs
        if a.needs_delta:
            a.delta += _sum_to_shape(self.delta, a.delta.shape)
        if b.needs_delta:
            b.delta -= _sum_to_shape(self.delta, b.delta.shape)


class Multiply(ElementwiseBinary):
    """o = a * b (elementwise).   delta_a += delta * b,  delta_b += delta * a."""

    def forward(self):
        a, b = self.inputs
        self.output = a.output * b.output

    def backward(self):
        a, b = self.inputs
        if a.needs_delta:
            a.delta += _sum_to_shape(self.delta * b.output, a.delta.shape)
        if b.needs_delta:
            b.delta += _sum_to_shape(self.delta * a.output, b.delta.shape)


class Square(Layer):
    """o = x^2 (elementwise).   delta_x += 2 x delta."""

    def __init__(self, x: Layer, name: str | None = None):
        super().__init__(x, name=name)

    def infer_shape(self, x: Shape) -> Shape:
        return x

    def forward(self):
        self.output = np.square(self.inputs[0].output)

    def backward(self):
        x = self.inputs[0]
        if x.needs_delta:
            x.delta += 2 * x.output * self.delta


class MatMul(Layer):
    """O = A @ B with A (m, k), B (k, n).   delta_A += delta @ B^T,  delta_B += A^T @ delta."""

    def __init__(self, a: Layer, b: Layer, name: str | None = None):
        super().__init__(a, b, name=name)

    def infer_shape(self, a: Shape, b: Shape) -> Shape:
        if len(a) != 2 or len(b) != 2 or not shapes_match(a[1:], b[:1]):
            raise self.shape_error(
                f"cannot multiply {fmt_shape(a)} @ {fmt_shape(b)}: need 2-D (m, k) @ (k, n)"
            )
        return (a[0], b[1])

    def multiply_adds(self) -> int:
        """m k n for A (m, k) @ B (k, n)."""
        a, b = (inp.output for inp in self.inputs)
        return int(np.prod(a.shape[:-1])) * int(a.shape[-1]) * int(b.shape[-1] if b.ndim == 2 else 1)

    def forward(self):
        a, b = self.inputs
        self.output = kernels.matmul(a.output, b.output)

    def backward(self):
        a, b = self.inputs
        if a.needs_delta:
            kernels.add_matmul(a.delta, self.delta, b.output.T)
        if b.needs_delta:
            kernels.add_matmul(b.delta, a.output.T, self.delta)


class Sum(Layer):
    """o = sum_i x_i over all elements (a 0-d scalar).   delta_x += delta (every element)."""

    def __init__(self, x: Layer, name: str | None = None):
        super().__init__(x, name=name)

    def infer_shape(self, x: Shape) -> Shape:
        return ()

    def forward(self):
        x = self.inputs[0].output
        self.output = np.asarray(x.sum(), dtype=x.dtype)

    def backward(self):
        x = self.inputs[0]
        if x.needs_delta:
            x.delta += self.delta


class Mean(Layer):
    """o = (1/n) sum_i x_i over all n elements.   delta_x += delta / n."""

    def __init__(self, x: Layer, name: str | None = None):
        super().__init__(x, name=name)

    def infer_shape(self, x: Shape) -> Shape:
        return ()

    def forward(self):
        x = self.inputs[0].output
        self.output = np.asarray(x.mean(), dtype=x.dtype)

    def backward(self):
        x = self.inputs[0]
        if x.needs_delta:
            x.delta += self.delta / x.output.size
