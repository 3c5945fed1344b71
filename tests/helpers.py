"""Shared test helpers: random arrays away from kinks, and a generic layer gradient check."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import tinygrad_cg as cg
from tinygrad_cg import layers as L


def away_from_zero(rng: np.random.Generator, shape, low: float = 0.2, high: float = 2.0) -> np.ndarray:
    """Values in +-[low, high]: no ReLU/hinge kink within a finite-difference step."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(low, high, size=shape)


def check_layer_gradients(
    make: Callable[..., cg.Layer], arrays: list[np.ndarray], rng: np.random.Generator, tol: float = 1e-6
) -> dict[str, float]:
    """Wrap ``arrays`` in Variables, apply ``make``, and gradcheck the scalar
    loss = sum(out * R) + sum(out * out)  (R random): the second term uses ``out`` twice, so the
    check also covers the summing of deltas from two consumers."""
    variables = [L.Variable(a, name=f"v{i}") for i, a in enumerate(arrays)]
    out = make(*variables)
    if out.shape == ():
        loss = L.Add(out, L.Multiply(out, out))
    else:
        projection = L.Constant(rng.normal(size=out.shape), name="R")
        loss = L.Sum(L.Add(L.Multiply(out, projection), L.Multiply(out, out)))
    graph = cg.Graph(loss, dtype=np.float64)
    return cg.diagnostics.gradcheck(graph, {}, tol=tol)
