"""Elementwise activations: o_i = f(x_i), so delta_x += f'(x) * delta."""

from __future__ import annotations

import numpy as np

from ..graph import Layer, Shape


def stable_sigmoid(z: np.ndarray) -> np.ndarray:
    """sigma(z) = 1 / (1 + exp(-z)), computed through exp(-|z|) so no exp ever overflows."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


class Elementwise(Layer):
    """Base of the unary elementwise layers: the output has the input's shape."""

    def __init__(self, x: Layer, name: str | None = None):
        super().__init__(x, name=name)

    def infer_shape(self, x: Shape) -> Shape:
        return x


class ReLU(Elementwise):
    """o = max(0, x).   f'(x) = 1 if x > 0 else 0 (the subgradient 0 is taken at x = 0)."""

    def forward(self):
        self.output = np.maximum(self.inputs[0].output, 0)

    def backward(self):
        x = self.inputs[0]
        if x.needs_delta:
            x.delta += self.delta * (self.output > 0)


class Sigmoid(Elementwise):
    """o = 1 / (1 + exp(-x)).   f'(x) = o (1 - o). Stable for inputs of any magnitude."""

    def forward(self):
        self.output = stable_sigmoid(self.inputs[0].output)

    def backward(self):
        x = self.inputs[0]
        if x.needs_delta:
            x.delta += self.delta * self.output * (1 - self.output)


class Tanh(Elementwise):
    """o = tanh(x).   f'(x) = 1 - o^2."""

    def forward(self):
        self.output = np.tanh(self.inputs[0].output)

    def backward(self):
        x = self.inputs[0]
        if x.needs_delta:
            x.delta += self.delta * (1 - self.output**2)
