"""Builders: create the Variables of a layer with an initializer and wire it into the graph.

``nn.affine(x, 300)`` is shorthand for ``L.Affine(x, L.Variable(W0), L.Variable(b0))``: parameters
stay ordinary ``Variable`` inputs, visible in ``Graph.summary()`` as in the lecture.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from . import init as initializers
from . import layers as L
from .errors import GraphError
from .graph import Layer

Initializer = Callable[..., np.ndarray]


def feature_size(x: Layer, what: str) -> int:
    """The last static dimension of ``x``, needed to size a weight; a clear error when unknown."""
    if x.shape is None or len(x.shape) < 2 or x.shape[-1] is None:
        raise GraphError(
            f"{what}: the feature size of {x.describe()} is unknown (shape {x.shape}); declare the "
            "Input's shape, e.g. L.Input('x', shape=(None, 30)), or pass n_in="
        )
    return x.shape[-1]


def affine(
    x: Layer,
    n_out: int,
    *,
    n_in: int | None = None,
    rng: initializers.Rng = None,
    init: Initializer = initializers.truncated_normal,
    name: str | None = None,
) -> L.Affine:
    """An Affine layer x @ W + b with W = init((n_in, n_out), rng) and b = 0."""
    n_in = feature_size(x, "nn.affine") if n_in is None else n_in
    rng = initializers.as_rng(rng)
    W = L.Variable(init((n_in, n_out), rng))
    b = L.Variable(initializers.zeros((n_out,)))
    layer = L.Affine(x, W, b, name=name)
    W.name, b.name = f"{layer.name}.W", f"{layer.name}.b"
    return layer


def mlp(
    x: Layer,
    sizes: Sequence[int],
    activation: Callable[[Layer], Layer] = L.ReLU,
    *,
    rng: initializers.Rng = None,
    init: Initializer = initializers.truncated_normal,
) -> Layer:
    """Affine layers of the given output sizes with ``activation`` between them (none after the last).

    ``mlp(x, [300, 1])`` is the parity network of the paper: Affine(d, 300), ReLU, Affine(300, 1).
    """
    rng = initializers.as_rng(rng)
    h = x
    for i, size in enumerate(sizes):
        h = affine(h, size, rng=rng, init=init)
        if i < len(sizes) - 1:
            h = activation(h)
    return h
