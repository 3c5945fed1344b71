"""Generators for the demos' distributions. Each takes a ``rng`` (Generator, seed or None)."""

from __future__ import annotations

import numpy as np

from .init import Rng, as_rng


def random_subset(d: int, rng: Rng = None) -> np.ndarray:
    """A boolean mask over d coordinates, each in with probability 1/2 (redrawn if empty).

    The original experiment draws each coordinate with probability 1/2; an empty subset would make
    the label the constant +1, so it is redrawn (this changes the distribution by 2^-d).
    """
    generator = as_rng(rng)
    while True:
        subset = generator.random(d) < 0.5
        if subset.any():
            return subset


def parity(d: int, subset: np.ndarray | None = None, n: int = 128,
           rng: Rng = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n examples of the parity problem (paper Section 2).

    x uniform on {-1, +1}^d; y = prod_{i in subset} x_i, a (n, 1) column of +-1.
    Returns (X (n, d), y (n, 1), subset); pass the returned subset back to keep the target fixed.
    """
    generator = as_rng(rng)
    subset = random_subset(d, generator) if subset is None else np.asarray(subset, dtype=bool)
    if subset.shape != (d,):
        raise ValueError(f"parity: subset must be a boolean mask of shape ({d},), got {subset.shape}")
    X = generator.choice(np.array([-1.0, 1.0]), size=(n, d))
    y = parity_labels(X, subset)
    return X, y, subset


def parity_labels(X: np.ndarray, subset: np.ndarray) -> np.ndarray:
    """y = prod_{i in subset} x_i as a (n, 1) column."""
    return np.prod(X[:, subset], axis=1, keepdims=True)


def hypercube(d: int) -> np.ndarray:
    """All 2^d points of {-1, +1}^d, as a (2^d, d) array (exact expectations for small d)."""
    bits = (np.arange(2**d)[:, None] >> np.arange(d - 1, -1, -1)) & 1
    return 2.0 * bits - 1.0


STEP_OFFSETS = np.union1d(np.arange(-100, 100, 5), [-5, -4, -3, -2, -1, -0.2, 0, 0.1, 0.15, 0.175, 1, 2, 3, 4, 5])
"""The flat-activation experiment's step grid, relative to b*: {-100, -95, ..., 95} joined with the fine
steps near 0 (REPRODUCTION.md section 4)."""


def step_grid(b_star: float) -> np.ndarray:
    """Z = b* + STEP_OFFSETS, sorted."""
    return b_star + STEP_OFFSETS


def step_function(p: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """u(p) = the largest z in the grid with z <= p (the grid's first value below it)."""
    return grid[np.maximum(np.searchsorted(grid, p, side="right") - 1, 0)]


def step_targets(n: int, w_star: np.ndarray, b_star: float,
                 rng: Rng = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n examples of the flat-activation target: x ~ N(0, I_N) / N, p* = <w*, x> + b*, y = u(p*).

    Returns (X (n, N), y (n, 1), p* (n, 1)); draw w* ~ N(0, I_N), b* ~ N(0, 1) once per run.
    """
    generator = as_rng(rng)
    dim = len(w_star)
    X = generator.standard_normal((n, dim)) / dim
    p_star = X @ w_star[:, None] + b_star
    return X, step_function(p_star, step_grid(b_star)), p_star


PWL_SLOPES = ((1, -1, 1), (1, -2, 1), (-2, 1, -1), (1, -1, 2))
"""The slopes of the three pieces in the piecewise-linear regression tries [orig]."""


def ramp_matrix(n: int) -> np.ndarray:
    """W with W_ij = [j - i + 1]_+ : row i is the ramp that starts at x = i - 1 (value 1 at x = i)."""
    i, j = np.arange(n)[:, None], np.arange(n)[None, :]
    return np.maximum(j - i + 1, 0).astype(float)


def pwl_curves(n: int, k: int, m: int, rng: Rng = None,
               random_pieces: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """m piecewise-linear curves on x = 0..n-1 with k pieces (the talk's "first try" .. "4th try").

    f = p W (``ramp_matrix``), i.e. f(x) = sum_r a_r [x - theta_r + 1]_+, with p the k-sparse vector
    p[theta_r] = a_r. By default (the regression tries [orig]) theta = 3 + k distinct sorted values from
    0..n-7 and the slopes of the pieces one of ``PWL_SLOPES`` (k = 3), a_r the slope increments. With
    ``random_pieces`` (the autoencoder try): theta uniform on 0..n-1, a uniform on (-1, 1).
    Returns (f (m, n), p (m, n)).
    """
    generator = as_rng(rng)
    p = np.zeros((m, n))
    for row in p:
        if random_pieces:
            thetas = generator.choice(n, size=k, replace=False)
            row[thetas] = generator.uniform(-1, 1, size=k)
        else:
            if k != 3:
                raise ValueError("pwl_curves: the regression tries use k = 3 pieces (random_pieces=True for others)")
            thetas = 3 + np.sort(generator.choice(n - 6, size=k, replace=False))
            slopes = np.array(PWL_SLOPES[generator.integers(len(PWL_SLOPES))], dtype=float)
            row[thetas] = np.diff(slopes, prepend=0.0)
    return p @ ramp_matrix(n), p


def line_images(n: int, rng: Rng = None, size: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """n binary images (n, 1, size, size), each zero except one straight line of ones, and its label.

    Angle theta ~ U(0, pi), centre ~ U(0, size)^2, length ~ U(5, 23) [orig]. The pixels are
    centre +- l (cos theta, sin theta) for l = 0 .. floor(length / 2) - 1, truncated to integers (x the
    column, y the row) and kept when inside the image. Label +1 if theta < pi / 2 (the line "slopes up"),
    else -1. Returns (images, labels (n,)).
    """
    generator = as_rng(rng)
    theta = generator.uniform(0, np.pi, size=n)
    centre = generator.uniform(0, size, size=(n, 2))
    half = np.floor(generator.uniform(5, 23, size=n) / 2).astype(int)
    steps = np.arange(half.max())
    images = np.zeros((n, 1, size, size))
    for sign in (1.0, -1.0):
        x = np.trunc(centre[:, :1] + sign * steps * np.cos(theta)[:, None]).astype(int)
        y = np.trunc(centre[:, 1:] + sign * steps * np.sin(theta)[:, None]).astype(int)
        keep = (steps < half[:, None]) & (x >= 0) & (x < size) & (y >= 0) & (y < size)
        rows = np.broadcast_to(np.arange(n)[:, None], keep.shape)
        images[rows[keep], 0, y[keep], x[keep]] = 1.0
    return images, np.where(theta < np.pi / 2, 1.0, -1.0)


def line_tuples(k: int, n: int, rng: Rng = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n tuples of k line images (paper Section 3) and the target: the parity of the k labels.

    Returns (images (n, k, 1, 28, 28), per-image labels (n, k), target (n, 1) = prod of the labels,
    i.e. +1 iff an even number of lines slope down).
    """
    images, labels = line_images(n * k, rng)
    labels = labels.reshape(n, k)
    return images.reshape(n, k, 1, 28, 28), labels, np.prod(labels, axis=1, keepdims=True)


def stock_gains(n: int, best_stock: np.ndarray, k: int, rng: Rng = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The synthetic "stocks" task of the extended paper: n examples (x, z) over k stocks.

    ``best_stock`` (d,) gives each of the d possible inputs its best stock, in 0..k-1. An example draws
    an input i uniformly, x = e_i (one-hot), and gains z in {-1, +1}^k: independent fair signs, except
    z[best_stock[i]] = +1. Allocating p (a distribution over stocks) earns p . z; always buying the best
    stock earns 1, a uniform allocation 1/k on average. Returns (x (n, d), z (n, k), best (n,)).
    """
    generator = as_rng(rng)
    best_stock = np.asarray(best_stock)
    if best_stock.ndim != 1 or best_stock.min() < 0 or best_stock.max() >= k:
        raise ValueError(f"stock_gains: best_stock must be a 1-D array of stock indices in 0..{k - 1}")
    d = best_stock.shape[0]
    index = generator.integers(d, size=n)
    x = np.zeros((n, d))
    x[np.arange(n), index] = 1.0
    z = generator.choice(np.array([-1.0, 1.0]), size=(n, k))
    best = best_stock[index]
    z[np.arange(n), best] = 1.0
    return x, z, best
