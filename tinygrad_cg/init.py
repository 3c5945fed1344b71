"""Weight initializers: ``init(shape, rng) -> float64 array``.

fan_in / fan_out follow the layouts of this library: an Affine weight is (n_in, n_out); a conv
kernel is (C_out, C_in, kh, kw), so fan_in = C_in kh kw and fan_out = C_out kh kw.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

Rng = np.random.Generator | int | None


def as_rng(rng: Rng) -> np.random.Generator:
    """Accept a Generator, a seed, or None (fresh entropy)."""
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def fans(shape: Sequence[int]) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of this shape."""
    shape = tuple(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def zeros(shape: Sequence[int], rng: Rng = None) -> np.ndarray:
    """All zeros (biases; the convex tries of the piecewise-linear demo)."""
    return np.zeros(tuple(shape))


def uniform(shape: Sequence[int], rng: Rng = None) -> np.ndarray:
    """U(-1/sqrt(fan_in), +1/sqrt(fan_in))."""
    limit = 1 / math.sqrt(fans(shape)[0])
    return as_rng(rng).uniform(-limit, limit, size=tuple(shape))


def xavier_uniform(shape: Sequence[int], rng: Rng = None) -> np.ndarray:
    """Glorot & Bengio (2010): U(-a, a) with a = sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = fans(shape)
    limit = math.sqrt(6 / (fan_in + fan_out))
    return as_rng(rng).uniform(-limit, limit, size=tuple(shape))


def he_normal(shape: Sequence[int], rng: Rng = None) -> np.ndarray:
    """He et al. (2015), for ReLU nets: N(0, 2 / fan_in)."""
    return as_rng(rng).normal(0, math.sqrt(2 / fans(shape)[0]), size=tuple(shape))


def truncated_normal(shape: Sequence[int], rng: Rng = None, std: float | None = None) -> np.ndarray:
    """N(0, std^2) truncated at two standard deviations (redrawn outside), std = 1/sqrt(fan_in) by default.

    The initializer of the paper's original experiments (TensorFlow's ``truncated_normal``).
    """
    std = 1 / math.sqrt(fans(shape)[0]) if std is None else std
    generator = as_rng(rng)
    values = generator.standard_normal(size=tuple(shape))
    outside = np.abs(values) > 2
    while outside.any():
        values[outside] = generator.standard_normal(size=int(outside.sum()))
        outside = np.abs(values) > 2
    return values * std
