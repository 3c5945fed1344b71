"""Builders: create the Variables of a layer with an initializer and wire it into the graph.

``nn.affine(x, 300)`` is shorthand for ``L.Affine(x, L.Variable(W0), L.Variable(b0))``: parameters
stay ordinary ``Variable`` inputs, visible in ``Graph.summary()`` as in the lecture.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from . import checks
from . import init as initializers
from . import layers as L
from .errors import GraphError, ShapeError
from .graph import Layer, fmt_shape, shapes_match

Initializer = Callable[..., np.ndarray]


def feature_size(x: Layer, what: str) -> int:
    """The last static dimension of ``x``, needed to size a weight; a clear error when unknown."""
    if x.shape is None or len(x.shape) < 2 or x.shape[-1] is None:
        raise GraphError(
            f"{what}: the feature size of {x.describe()} is unknown (shape {fmt_shape(x.shape)}); declare the "
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
    n_out = checks.integer("nn.affine", "n_out", n_out, 1)
    n_in = feature_size(x, "nn.affine") if n_in is None else checks.integer("nn.affine", "n_in", n_in, 1)
    rng = initializers.as_rng(rng)
    W = L.Variable(init((n_in, n_out), rng))
    b = L.Variable(initializers.zeros((n_out,)))
    layer = L.Affine(x, W, b, name=name)
    W.name_after(layer, "W")
    b.name_after(layer, "b")
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
    if isinstance(sizes, int) or not isinstance(sizes, Sequence) or not sizes:
        raise checks.ArgumentError(f"nn.mlp: sizes must be a non-empty list of layer widths, got {sizes!r}")
    sizes = [checks.integer("nn.mlp", f"sizes[{i}]", size, 1) for i, size in enumerate(sizes)]
    rng = initializers.as_rng(rng)
    h = x
    for i, size in enumerate(sizes):
        h = affine(h, size, rng=rng, init=init)
        if i < len(sizes) - 1:
            h = activation(h)
    return h


def _channels_and_size(x: Layer, what: str) -> tuple[int, int, int]:
    if x.shape is None or len(x.shape) != 4 or None in x.shape[1:]:
        raise GraphError(
            f"{what}: needs images of known shape (N, C, H, W); {x.describe()} has shape {fmt_shape(x.shape)} "
            "(declare it, e.g. L.Input('x', shape=(None, 1, 28, 28)))"
        )
    return x.shape[1], x.shape[2], x.shape[3]


def conv2d(
    x: Layer,
    c_out: int,
    kernel: int | tuple[int, int],
    stride: int = 1,
    padding: int | tuple[int, int] = 0,
    *,
    rng: initializers.Rng = None,
    init: Initializer = initializers.truncated_normal,
    name: str | None = None,
    fused: bool = False,
) -> L.RowsToImages | L.Conv2D:
    """A 2-D convolution wired as the lecture draws it: Im2Col -> Affine with the flattened kernel -> images.

    x (N, C_in, H, W) -> (N, c_out, OH, OW); the kernel Variable K has shape (c_out, C_in, kh, kw)
    (fan_in = C_in kh kw), the bias b shape (c_out,). ``padding="same"``-style: pass (k - 1) // 2.
    ``fused=True`` builds the same function as one ``L.Conv2D`` layer: same parameters and numbers,
    several times faster and far lighter on memory for large batches (what the demos use).
    """
    c_in, _, _ = _channels_and_size(x, "nn.conv2d")
    c_out = checks.integer("nn.conv2d", "c_out", c_out, 1)
    kh, kw = checks.integer_pair("nn.conv2d", "kernel", kernel, 1)
    rng = initializers.as_rng(rng)
    K = L.Variable(init((c_out, c_in, kh, kw), rng))
    b = L.Variable(initializers.zeros((c_out,)))
    if fused:
        conv = L.Conv2D(x, K, b, stride, padding, name=name)
        parts = {"K": K, "b": b}
    else:
        conv = im2col_conv(x, K, b, kh, kw, stride, padding, name)
        rows = conv.inputs[0]
        parts = {"K": K, "b": b, "im2col": rows.inputs[0], "Wm": rows.inputs[1], "affine": rows}
    if name is None:
        conv.name_rule = ("conv", None)  # named conv_<number> by the graph, its parts conv_<number>.K etc.
    for part, layer in parts.items():
        layer.name_after(conv, part)
    return conv


def im2col_conv(x: Layer, K: Layer, b: Layer, kh: int, kw: int, stride: int = 1, padding: int | tuple[int, int] = 0,
                name: str | None = None) -> L.RowsToImages:
    """Convolution as the lecture draws it: the windows of x as rows (``Im2Col``: (N OH OW, C_in kh kw)), times
    the kernel flattened to a matrix (``FlattenKernel``: (C_in kh kw, c_out)) plus the bias (``Affine``), the
    rows folded back into images (``RowsToImages``: (N, c_out, OH, OW)). ``Im2Col.out_hw`` is (OH, OW)."""
    cols = L.Im2Col(x, kh, kw, stride, padding)
    rows = L.Affine(cols, L.FlattenKernel(K), b)
    return L.RowsToImages(rows, *cols.out_hw, name=name)


def conv1d(
    x: Layer,
    c_out: int,
    kernel: int,
    stride: int = 1,
    padding: int = 0,
    *,
    rng: initializers.Rng = None,
    init: Initializer = initializers.truncated_normal,
    name: str | None = None,
    fused: bool = False,
) -> L.Reshape:
    """1-D convolution, the H = 1 case of conv2d: x (N, C_in, length) -> (N, c_out, OL)."""
    if x.shape is None or len(x.shape) != 3 or None in x.shape[1:]:
        raise GraphError(f"nn.conv1d: needs (N, C, length) of known C and length; {x.describe()} has "
                         f"{fmt_shape(x.shape)}")
    c_in, length = x.shape[1], x.shape[2]
    images = L.Reshape(x, (c_in, 1, length))
    conv = conv2d(images, c_out, (1, kernel), stride, (0, padding), rng=rng, init=init, name=name, fused=fused)
    return L.Reshape(conv, (c_out, conv.shape[3]))


def batch_norm(x: Layer, momentum: float = 0.1, eps: float = 1e-5, name: str | None = None) -> L.BatchNorm:
    """BatchNorm with gamma = 1, beta = 0 Variables over x's feature (or channel) axis."""
    features = feature_size(x, "nn.batch_norm") if x.shape is not None and len(x.shape) == 2 \
        else _channels_and_size(x, "nn.batch_norm")[0]
    gamma, beta = L.Variable(np.ones(features)), L.Variable(np.zeros(features))
    layer = L.BatchNorm(x, gamma, beta, momentum, eps, name=name)
    gamma.name_after(layer, "gamma")
    beta.name_after(layer, "beta")
    return layer


def residual(x: Layer, block: Callable[[Layer], Layer], name: str | None = None) -> L.Add:
    r"""A residual connection (He et al. 2016): the block's output added to its input, o = x + F(x).

    .. math:: o = x + F(x), \qquad \delta_x \mathrel{+}= \delta + J_F(x)^\top \delta

    The identity path hands delta back unchanged, so however small the block's Jacobian makes its own
    share, the signal reaching the layers below is never smaller than the one arriving here: that is why a
    deep stack of residual blocks keeps its gradients where a plain stack of the same blocks loses them.
    ``block`` builds the branch from ``x`` (e.g. ``lambda h: cg.nn.affine(L.ReLU(h), 64, rng=rng)``); it
    must keep x's shape. The connection is an ordinary ``Add`` layer: ``summary()`` and the drawing show it.
    """
    branch = block(x)
    if not isinstance(branch, Layer):
        raise checks.ArgumentError(f"nn.residual: block must return a layer, got {type(branch).__name__}")
    if not shapes_match(x.shape, branch.shape):
        raise ShapeError(f"nn.residual: the block maps {x.describe()} of shape {fmt_shape(x.shape)} to "
                         f"{branch.describe()} of shape {fmt_shape(branch.shape)}; a residual connection adds "
                         "the two, so the block must keep the shape (or project x to the block's shape first)")
    return L.Add(x, branch, name=name)


def lenet(x: Layer, n_out: int, *, rng: initializers.Rng = None, fused: bool = False) -> Layer:
    """The lecture's LeNet for MNIST: Conv(5x5, 20) -> MaxPool(2) -> Conv(5x5, 50) -> MaxPool(2)
    -> Affine(500) -> ReLU -> Affine(n_out). For x (N, 1, 28, 28): 24 -> 12 -> 8 -> 4, 800 features.
    ``fused=True``: the convs as ``L.Conv2D`` layers (see ``conv2d``)."""
    n_out = checks.integer("nn.lenet", "n_out", n_out, 1)
    rng = initializers.as_rng(rng)
    h = L.MaxPool2D(conv2d(x, 20, 5, rng=rng, name="conv1", fused=fused), 2)
    h = L.MaxPool2D(conv2d(h, 50, 5, rng=rng, name="conv2", fused=fused), 2)
    h = L.ReLU(affine(L.Flatten(h), 500, rng=rng, name="fc1"))
    return affine(h, n_out, rng=rng, name="fc2")
