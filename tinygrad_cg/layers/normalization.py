"""Batch normalisation (Ioffe & Szegedy 2015)."""

from __future__ import annotations

import numpy as np

from .. import checks
from ..errors import FeedError
from ..graph import Layer, Shape, dims_match, fmt_shape


class BatchNorm(Layer):
    r"""y = gamma * (x - mu) / sqrt(var + eps) + beta, per feature (N, F) or per channel (N, C, H, W).

    .. math:: y = \gamma \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta

    Training mode: mu, var are the batch's (biased) statistics, and the running estimates move as
    running <- (1 - momentum) running + momentum batch (the unbiased variance, as torch does).
    Evaluation mode (``graph.eval()``): the running estimates are used instead.

    Backward in training mode, with xhat the normalised input, m the number of values per feature:
        delta_x = (gamma / (m sqrt(var + eps))) (m delta - sum(delta) - xhat sum(delta xhat)),
        delta_gamma = sum(delta xhat),   delta_beta = sum(delta).
    """

    def __init__(self, x: Layer, gamma: Layer, beta: Layer, momentum: float = 0.1, eps: float = 1e-5,
                 name: str | None = None):
        owner = checks.owner_name("BatchNorm", name)
        self.momentum = checks.real(owner, "momentum", momentum, 0, 1)
        self.eps = checks.real(owner, "eps", eps, 0, low_open=True)
        self.training = True
        self.running_mean: np.ndarray | None = None
        self.running_var: np.ndarray | None = None
        super().__init__(x, gamma, beta, name=name)

    def infer_shape(self, x: Shape, gamma: Shape, beta: Shape) -> Shape:
        if len(x) not in (2, 4) or gamma != beta or len(gamma) != 1 or not dims_match(x[1], gamma[0]):
            raise self.shape_error(
                f"needs x (N, F) or (N, C, H, W) and gamma, beta of shape (F,) or (C,); got {fmt_shape(x)}, "
                f"{fmt_shape(gamma)}, {fmt_shape(beta)}"
            )
        return x

    def _axes_and_view(self, x: np.ndarray):
        return ((0,), (1, -1)) if x.ndim == 2 else ((0, 2, 3), (1, -1, 1, 1))

    def forward(self):
        x, gamma, beta = (inp.output for inp in self.inputs)
        axes, view = self._axes_and_view(x)
        if self.training:
            m = x.size // x.shape[1]
            if m < 2:  # a variance of one value is 0: the output would be beta, silently (PyTorch refuses too)
                raise FeedError(f"{self.describe()}: training mode needs more than one value per feature to "
                                f"normalise, got input of shape {x.shape}; use graph.eval() to apply it to one example")
            mean, var = x.mean(axis=axes), x.var(axis=axes)
            if self.running_mean is None:
                self.running_mean, self.running_var = np.zeros_like(mean), np.ones_like(var)
            self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * mean
            self.running_var = (1 - self.momentum) * self.running_var + self.momentum * var * m / max(m - 1, 1)
        else:
            if self.running_mean is None:
                raise self.shape_error("evaluation mode before any training step: no running statistics")
            mean, var = self.running_mean.astype(x.dtype), self.running_var.astype(x.dtype)
        self.inv_std = (1 / np.sqrt(var + self.eps)).reshape(view)
        self.xhat = (x - mean.reshape(view)) * self.inv_std
        self.output = gamma.reshape(view) * self.xhat + beta.reshape(view)

    def backward(self):
        x, gamma, beta = self.inputs
        axes, view = self._axes_and_view(self.delta)
        d = self.delta
        if gamma.needs_delta:
            gamma.delta += (d * self.xhat).sum(axis=axes)
        if beta.needs_delta:
            beta.delta += d.sum(axis=axes)
        if x.needs_delta:
            scale = gamma.output.reshape(view) * self.inv_std
            if not self.training:
                x.delta += d * scale
                return
            m = d.size // d.shape[1]
            sum_d = d.sum(axis=axes).reshape(view)
            sum_dx = (d * self.xhat).sum(axis=axes).reshape(view)
            x.delta += (scale / m) * (m * d - sum_d - self.xhat * sum_dx)
