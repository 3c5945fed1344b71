"""Elementwise activations: o_i = f(x_i), so delta_x += f'(x) * delta."""

from __future__ import annotations

import numpy as np

from .. import checks, kernels
from ..errors import ArgumentError
from ..graph import Layer, Shape


def stable_sigmoid(z: np.ndarray) -> np.ndarray:
    """sigma(z) = 1 / (1 + exp(-z)), computed through ``exp(-|z|)`` so no exp ever overflows."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


class Elementwise(Layer):
    """Base of the unary elementwise layers: the output has the input's shape."""

    def __init__(self, x: Layer, name: str | None = None):
        super().__init__(x, name=name)

    def infer_shape(self, x: Shape) -> Shape:
        return x


class ReLU(Elementwise):
    r"""o = max(0, x).   f'(x) = 1 if x > 0 else 0 (the subgradient 0 is taken at x = 0).

    .. math:: o = \max(0, x), \qquad \delta_x \mathrel{+}= [x > 0]\, \delta
    """

    _zeros: np.ndarray | None = None  # kept between passes: see forward

    def forward(self):
        x = self.inputs[0].output
        # Against an array of zeros rather than the scalar 0: NumPy's vectorised maximum loop takes two arrays,
        # its loop for a broadcast scalar runs ~3x slower (NumPy 2.4: 20 against 7 us for 128x300 float32).
        # The zeros are made once per input shape, not every pass.
        if self._zeros is None or self._zeros.shape != x.shape or self._zeros.dtype != x.dtype:
            self._zeros = np.zeros_like(x)
        self.output = np.maximum(x, self._zeros)

    def backward(self):
        x = self.inputs[0]
        if x.needs_delta:
            kernels.relu_backward(self.delta, self.output, x.delta)


class Sigmoid(Elementwise):
    r"""o = 1 / (1 + exp(-x)).   f'(x) = o (1 - o). Stable for inputs of any magnitude.

    .. math:: o = \sigma(x) = \frac{1}{1 + e^{-x}}, \qquad \delta_x \mathrel{+}= o (1 - o)\, \delta
    """

    def forward(self):
        self.output = stable_sigmoid(self.inputs[0].output)

    def backward(self):
        x = self.inputs[0]
        if x.needs_delta:
            x.delta += self.delta * self.output * (1 - self.output)


class Tanh(Elementwise):
    r"""o = tanh(x).   f'(x) = 1 - o^2.

    .. math:: o = \tanh x, \qquad \delta_x \mathrel{+}= (1 - o^2)\, \delta
    """

    def forward(self):
        self.output = np.tanh(self.inputs[0].output)

    def backward(self):
        x = self.inputs[0]
        if x.needs_delta:
            x.delta += self.delta * (1 - self.output**2)


class Step(Elementwise):
    """A fixed piecewise-constant activation u (the paper's "flat activation"):

        u(x) = values[i]  for  thresholds[i-1] <= x < thresholds[i]   (i = 0..K, with t_0 = -inf, t_{K+1} = +inf)

    ``thresholds`` (K,) sorted, ``values`` (K+1,). Its true derivative is 0 almost everywhere, so
    gradient descent through it cannot move anything upstream. ``backward`` picks what is passed back:

    - ``"gradient"``: the true derivative, 0 (nothing reaches the inputs).
    - ``"identity"``: delta unchanged, i.e. u' replaced by 1 - the paper's forward-only update
      (Kalai & Sastry 2009; Kakade et al. 2011).
    - ``"sigmoid"``: the derivative of the smooth surrogate
      u~(x) = values[0] + sum_j (values[j+1] - values[j]) sigma(sharpness_j (x - thresholds[j])),
      sharpness a scalar or one per threshold.
    """

    POLICIES = ("gradient", "identity", "sigmoid")

    def __init__(self, x: Layer, thresholds, values, backward: str = "gradient", sharpness=10.0,
                 name: str | None = None):
        self.thresholds = np.asarray(thresholds, dtype=np.float64)
        self.values = np.asarray(values, dtype=np.float64)
        owner = checks.owner_name("Step", name)
        if backward not in self.POLICIES:
            raise ArgumentError(f"{owner}: backward must be one of {self.POLICIES}, got {backward!r}")
        if self.thresholds.ndim != 1 or self.values.shape != (len(self.thresholds) + 1,):
            raise ArgumentError(f"{owner}: need thresholds (K,) and values (K+1,), got {self.thresholds.shape} "
                                f"and {self.values.shape}")
        if np.any(np.diff(self.thresholds) <= 0) or not np.all(np.isfinite(self.thresholds)):
            raise ArgumentError(f"{owner}: thresholds must be finite and strictly increasing")
        sharpness = np.asarray(sharpness, dtype=np.float64)
        if sharpness.shape not in ((), self.thresholds.shape) or np.any(sharpness <= 0):
            raise ArgumentError(f"{owner}: sharpness must be one positive number or one per threshold "
                                f"{self.thresholds.shape}, got shape {sharpness.shape}")
        self.policy = backward
        self.sharpness = np.broadcast_to(sharpness, self.thresholds.shape)
        super().__init__(x, name=name)

    def forward(self):
        x = self.inputs[0].output
        index = np.searchsorted(self.thresholds, x, side="right")
        self.output = self.values[index].astype(x.dtype)

    def surrogate_derivative(self, x: np.ndarray) -> np.ndarray:
        """d u~ / dx = sum_j jump_j sharpness_j sigma'(sharpness_j (x - t_j))."""
        jumps = np.diff(self.values)
        z = self.sharpness * (x[..., None] - self.thresholds)
        s = stable_sigmoid(z)
        return (jumps * self.sharpness * s * (1 - s)).sum(axis=-1)

    def backward(self):
        x = self.inputs[0]
        if not x.needs_delta or self.policy == "gradient":
            return  # the true derivative is zero: nothing to add
        if self.policy == "identity":
            x.delta += self.delta
        else:
            x.delta += self.delta * self.surrogate_derivative(x.output).astype(x.delta.dtype)


class Softmax(Layer):
    r"""o_n = softmax(x_n) over the last axis: o_nj = exp(x_nj) / sum_i exp(x_ni) (a distribution per row).

    .. math::

        o_{nj} = \frac{e^{x_{nj}}}{\sum_i e^{x_{ni}}}

        \delta_{x_n} \mathrel{+}= o_n \odot (\delta_n - \langle \delta_n, o_n \rangle)

    Not elementwise: each output depends on the whole row, so with the Jacobian
    d o_j / d x_i = o_j (1[i = j] - o_i) the backward pass is delta_x += o * (delta - sum_j delta_j o_j).
    Computed from x - max(x), so no exp overflows. (For a log-loss on the result use
    SoftmaxCrossEntropy, which is stabler than log(Softmax).)
    """

    def __init__(self, x: Layer, name: str | None = None):
        super().__init__(x, name=name)

    def infer_shape(self, x: Shape) -> Shape:
        if len(x) < 1:
            raise self.shape_error("needs at least one axis to normalise over")
        return x

    def forward(self):
        x = self.inputs[0].output
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        self.output = e / e.sum(axis=-1, keepdims=True)

    def backward(self):
        x = self.inputs[0]
        if x.needs_delta:
            p = self.output
            x.delta += p * (self.delta - (self.delta * p).sum(axis=-1, keepdims=True))
