"""Diagnostics: numerical gradient checks, the paper's measured quantities (gradient variance, SNR,
condition numbers), and per-layer signal and gradient norms (``layer_norms``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from .errors import GradientCheckError, GraphError
from .graph import Graph, Source


def gradcheck(
    graph: Graph,
    feed: Mapping[Any, Any],
    eps: float = 1e-6,
    tol: float = 1e-6,
    inputs: Iterable[str] = (),
    variables: Iterable[str] | None = None,
    max_entries: int | None = None,
    rng: np.random.Generator | int | None = 0,
) -> dict[str, float]:
    """Compare ``backward`` with float64 central differences for every Variable (and named Inputs).

    For each checked entry theta_j the numerical derivative is::

        (L(theta + eps e_j) - L(theta - eps e_j)) / (2 eps),

    computed with the whole graph in float64. A node's error is::

        max_j |analytic_j - numeric_j| / max(max_j |analytic_j|, max_j |numeric_j|, 1e-12),

    i.e. relative to that node's gradient scale, so entries that are exactly zero do not blow up.

    Args:
        graph, feed: the graph (its first output a scalar loss) and a feed for it.
        eps: the finite-difference step. tol: the largest error allowed.
        inputs: names of Input layers to check as well (their fed values are perturbed).
        variables: names of the Variables to check (default: all).
        max_entries: check at most this many randomly chosen entries per node (large weights).
        rng: seed for choosing those entries.

    Returns the error per node name; raises ``GradientCheckError`` naming the worst node over ``tol``.
    The graph's dtype, parameter values and parameter deltas are restored afterwards (an optimizer step
    right after a check still sees the gradient of the last backward pass).
    """
    original_dtype = graph.dtype
    saved = {id(v): (v.output, v.delta) for v in graph.variables}
    picker = np.random.default_rng(rng)
    try:
        graph.set_dtype(np.float64)
        feed64 = {key: np.array(value, dtype=np.float64) for key, value in feed.items()}
        chosen_vars = [v for v in graph.variables if variables is None or v.name in set(variables)]
        nodes = [(v.name, v.output) for v in chosen_vars]
        input_names = list(inputs)
        for name in input_names:
            key = next(k for k in feed64 if (k if isinstance(k, str) else k.name) == name)
            nodes.append((name, feed64[key]))
        if input_names and not graph.input_grads:
            raise GradientCheckError("gradcheck of Inputs needs Graph(..., input_grads=True)")

        graph.forward(feed64)
        graph.backward()
        analytic = {v.name: v.delta.copy() for v in chosen_vars}
        for name in input_names:
            analytic[name] = graph._inputs_by_name[name].delta.copy()

        errors = {}
        for name, array in nodes:
            flat = array.reshape(-1)  # a view: perturbing it perturbs what the graph reads
            entries = np.arange(flat.size)
            if max_entries is not None and flat.size > max_entries:
                entries = picker.choice(flat.size, size=max_entries, replace=False)
            numeric = np.zeros(len(entries))
            for n, j in enumerate(entries):
                keep = flat[j]
                flat[j] = keep + eps
                up = float(graph.forward(feed64))
                flat[j] = keep - eps
                down = float(graph.forward(feed64))
                flat[j] = keep
                numeric[n] = (up - down) / (2 * eps)
            exact = analytic[name].reshape(-1)[entries]
            scale = max(np.abs(exact).max(initial=0), np.abs(numeric).max(initial=0), 1e-12)
            errors[name] = float(np.abs(exact - numeric).max(initial=0) / scale)
    finally:
        graph.set_dtype(original_dtype)
        for v in graph.variables:
            v.output, v.delta = saved[id(v)]
    worst = max(errors, key=errors.get, default=None)
    if worst is not None and errors[worst] > tol:
        raise GradientCheckError(
            f"gradient of '{worst}' disagrees with finite differences: relative error "
            f"{errors[worst]:.3g} > tol {tol:g} (all: {errors})"
        )
    return errors


def gradient_variance(gradients: Iterable[np.ndarray]) -> tuple[float, float]:
    """Var(H, F, w) = E_h || grad F_h(w) - E_h' grad F_h'(w) ||^2, estimated from one full gradient per
    target h drawn at random from H (Theorem 1 of the paper bounds it by ``G^2 / |H|``).

    Returns (variance, standard error): the unbiased estimate::

        (1 / (m - 1)) sum_h ||g_h - g_mean||^2

    and the standard error of that mean of squared distances (the estimate's own sampling noise).
    """
    G = np.array([np.asarray(g, dtype=np.float64).reshape(-1) for g in gradients])
    m = G.shape[0]
    if m < 2:
        raise ValueError("gradient_variance needs gradients for at least two targets")
    squared = np.square(G - G.mean(axis=0)).sum(axis=1) * (m / (m - 1))
    return float(squared.mean()), float(squared.std(ddof=1) / np.sqrt(m))


def full_gradient(graph: Graph, feeds: Iterable[Mapping[Any, Any]]) -> np.ndarray:
    """The gradient of the loss averaged over several feeds (chunks of one large sample), flattened
    over ``graph.variables``. With equal-size chunks this is the gradient on the whole sample."""
    total, count = None, 0
    for feed in feeds:
        graph.forward(feed)
        graph.backward()
        flat = np.concatenate([v.delta.reshape(-1) for v in graph.variables]).astype(np.float64)
        total = flat if total is None else total + flat
        count += 1
    return total / count


def condition_number(matrix: np.ndarray) -> float:
    """kappa = lambda_max / lambda_min for a symmetric positive semi-definite matrix (a Hessian such as
    W'W or E[F'F]); sigma_max / sigma_min for any other matrix. Infinite when singular.

    For gradient descent on a quadratic with this Hessian the number of iterations to a fixed accuracy
    grows like kappa (like sqrt(kappa) with tuned momentum).
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.ndim == 2 and matrix.shape[0] == matrix.shape[1] and np.allclose(matrix, matrix.T):
        eigenvalues = np.linalg.eigvalsh(matrix)
        smallest, largest = eigenvalues[0], eigenvalues[-1]
        return float(largest / smallest) if smallest > 0 else float("inf")
    return float(np.linalg.cond(matrix))


class SNREstimate(NamedTuple):
    """What ``gradient_snr`` returns: the ratio, its two terms, and the ratio's standard error."""

    snr: float
    signal: float
    noise: float
    snr_se: float

    def upper(self, z: float = 2.0) -> float:
        """An upper confidence bound on the SNR: snr + z standard errors (z = 2: about 97.5%)."""
        return self.snr + z * self.snr_se


def gradient_snr(gradients: Iterable[np.ndarray], batch_size: int = 1) -> SNREstimate:
    """The signal-to-noise ratio of a stochastic gradient (paper Section 3.2): SNR = Sig / Noi with

        Sig = || E_x g(x) ||^2,     Noi = E_x || g(x) - E_x g(x) ||^2,

    g(x) the per-example gradient. ``gradients`` are m samples, each the mean gradient over
    ``batch_size`` examples (1: per-example gradients). A batch mean has variance Noi / batch_size,
    so Noi = batch_size * (unbiased sample variance of the batch gradients), and the plug-in
    ||mean||^2 overestimates Sig by Noi / (m batch_size), which is subtracted (the estimate may then be
    <= 0: the signal is below what the sample resolves). Computed in float64.

    The standard error uses Var(Sig estimate) ~ 4 mu' C mu / m + 2 tr(C^2) / m^2 (C the covariance of
    one sample, mu the mean): the second term is the floor, the smallest SNR that m samples resolve.
    Returns an ``SNREstimate(snr, signal, noise, snr_se)``. The paper's original script squared Sig
    once more when forming the noise term; this follows the paper's definition instead.
    """
    G = np.array([np.asarray(g, dtype=np.float64).reshape(-1) for g in gradients])
    m = G.shape[0]
    if m < 2:
        raise ValueError("gradient_snr needs at least two gradient samples")
    mean = G.mean(axis=0)
    centred = G - mean
    variance = float(np.square(centred).sum() / (m - 1))  # tr(C)
    noise = batch_size * variance
    signal = float(mean @ mean) - variance / m
    # tr(C^2) from the smaller of the two Gram matrices; mu' C mu from the projections on the mean.
    gram = centred @ centred.T if m <= G.shape[1] else centred.T @ centred
    trace_c2 = float(np.square(gram).sum()) / (m - 1) ** 2
    # (the plug-in mean carries noise of its own: E[mean' C mean] = mu' C mu + tr(C^2) / m)
    mu_c_mu = max(float(np.square(centred @ mean).sum()) / (m - 1) - trace_c2 / m, 0.0)
    signal_se = float(np.sqrt(4 * mu_c_mu / m + 2 * trace_c2 / m**2))
    if noise <= 0:
        return SNREstimate(float("inf"), signal, noise, 0.0)
    return SNREstimate(signal / noise, signal, noise, signal_se / noise)


class LayerNorms(NamedTuple):
    """One layer's signal and gradient sizes after a forward and a backward pass (``layer_norms``)."""

    index: int               # the layer's number in the graph (topological order)
    name: str
    kind: str
    output_std: float        # std of the layer's output over all its entries (batch included)
    delta_norm: float        # ||delta||_F, the gradient of the loss w.r.t. the output (nan: backward missed it)
    weight_grad_norm: float  # ||dL/dW||_F over the weight Variables (>= 2-D) it reads (nan: it reads none)


def layer_norms(graph: Graph, kinds: Iterable[str] | None = None) -> list[LayerNorms]:
    """The std of each layer's output and the norms of its delta and its weights' gradient, in layer order:
    the picture of the lectures' depth argument (a signal that shrinks or grows by a factor per layer
    vanishes or explodes geometrically with depth, forward and backward). Call after ``forward`` and
    ``backward``. Sources (Inputs, Variables, Constants) are left out; ``kinds`` keeps only layers of
    those kinds (e.g. ``("Affine",)``: one row per weight layer, the first layer first).

    The weight gradient is that of the Variables of two or more axes the layer reads directly (an
    Affine's W, a conv's kernel), not of biases or BatchNorm's gamma and beta."""
    from .layers.sources import Variable

    wanted = None if kinds is None else set(kinds)
    rows = []
    for index, layer in enumerate(graph.layers):
        if isinstance(layer, Source) or (wanted is not None and layer.kind not in wanted):
            continue
        if layer.output is None:
            raise GraphError(f"layer_norms: {layer.describe()} has no output yet; run graph.forward(feed) "
                             "and graph.backward() first")
        weights = [v.delta for v in layer.inputs if isinstance(v, Variable) and np.ndim(v.output) >= 2]
        weight_norm = (float(np.sqrt(sum(np.sum(np.square(d, dtype=np.float64)) for d in weights)))
                       if weights and all(d is not None for d in weights) else float("nan"))
        rows.append(LayerNorms(index, layer.name, layer.kind, float(np.std(layer.output, dtype=np.float64)),
                               float(np.linalg.norm(np.ravel(layer.delta))) if layer.delta is not None
                               else float("nan"), weight_norm))
    return rows


def plot_layer_norms(rows: Sequence[LayerNorms], ax=None, label: str | None = None,
                     quantities: Sequence[str] = ("output_std", "delta_norm", "weight_grad_norm"), **style):
    """Plot ``layer_norms`` rows against their position (1 = the first row's layer) on a log scale, one
    line per quantity (label prefixed by ``label``); returns the axes. Quantities that are nan for every
    row are skipped."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    position = np.arange(1, len(rows) + 1)
    for quantity in quantities:
        values = np.array([getattr(row, quantity) for row in rows], dtype=float)
        if np.all(np.isnan(values)):
            continue
        ax.plot(position, values, marker="o", ms=3, label=f"{label}: {quantity}" if label else quantity, **style)
    ax.set_yscale("log")
    ax.set_xlabel("layer (first to last)")
    ax.legend(fontsize=7)
    return ax
