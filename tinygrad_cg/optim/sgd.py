"""Plain, momentum and Nesterov SGD (torch.optim.SGD's definitions, dampening 0)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..layers.sources import Variable
from .base import Optimizer, Schedule


class SGD(Optimizer):
    r"""Stochastic gradient descent, w <- w - alpha_t g:

    .. math:: w \leftarrow w - \alpha_t\, g
    """

    def update(self, param, grad, state, lr):
        param -= lr * grad


class Momentum(Optimizer):
    r"""Heavy-ball momentum, as torch's SGD(momentum=mu): b <- mu b + g (b = g on the first step),
    w <- w - alpha b:

    .. math:: b \leftarrow \mu b + g, \qquad w \leftarrow w - \alpha\, b

    The slide writes v <- mu v - alpha g, w <- w + v; with a constant alpha it is the same
    trajectory (v = -alpha b); with a schedule torch's form scales the whole buffer by alpha_t.
    """

    def __init__(self, params: Iterable[Variable], lr: float, mu: float = 0.9, weight_decay: float = 0.0,
                 schedule: Schedule | None = None):
        super().__init__(params, lr, weight_decay, schedule)
        self.mu = self.check("mu", mu, 0, 1, high_open=True)  # mu >= 1: the velocity never decays

    def velocity(self, grad: np.ndarray, state: dict) -> np.ndarray:
        if "buffer" not in state:
            state["buffer"] = grad.copy()
        else:
            state["buffer"] *= self.mu
            state["buffer"] += grad
        return state["buffer"]

    def update(self, param, grad, state, lr):
        param -= lr * self.velocity(grad, state)


class Nesterov(Momentum):
    r"""Nesterov momentum, as torch's SGD(momentum=mu, nesterov=True): b <- mu b + g,
    w <- w - alpha (g + mu b):

    .. math:: b \leftarrow \mu b + g, \qquad w \leftarrow w - \alpha\, (g + \mu b)

    This is the slide's "gradient at the look-ahead point w + mu v" rewritten in the variable
    w' = w + mu v, so only the gradient at the current parameters is needed (Sutskever et al. 2013).
    """

    def update(self, param, grad, state, lr):
        buffer = self.velocity(grad, state)
        param -= lr * (grad + self.mu * buffer)
