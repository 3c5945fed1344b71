"""Plain, momentum and Nesterov SGD (torch.optim.SGD's definitions, dampening 0).

``SGD(params, lr, momentum=0.9, nesterov=True)`` takes torch's arguments; ``Momentum`` and ``Nesterov`` are
the same optimizer with the lecture's names (momentum 0.9 by default). The lecture writes the momentum as mu:
``mu=`` is accepted as another name for ``momentum=``.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .. import checks
from ..layers.sources import Variable
from .base import Optimizer, Schedule


class SGD(Optimizer):
    r"""Stochastic gradient descent, w <- w - alpha_t g; with ``momentum`` mu > 0 torch's heavy ball
    b <- mu b + g (b = g on the first step), w <- w - alpha b, and with ``nesterov=True``
    w <- w - alpha (g + mu b):

    .. math:: w \leftarrow w - \alpha_t\, g

    Args:
        params: the Variables to train (``graph.variables``).
        lr: the step size alpha (> 0).
        momentum: mu in [0, 1) (torch's name; ``mu=`` is the lecture's name for the same argument).
        nesterov: Nesterov's look-ahead form (needs momentum > 0, as in torch).
        weight_decay, schedule: as for every optimizer (``Optimizer``).
    """

    default_momentum = 0.0

    def __init__(self, params: Iterable[Variable], lr: float, momentum: float | None = None, nesterov: bool = False,
                 weight_decay: float = 0.0, schedule: Schedule | None = None, *, mu: float | None = None):
        super().__init__(params, lr, weight_decay, schedule)
        name = type(self).__name__
        if momentum is not None and mu is not None:
            raise checks.ArgumentError(f"{name}: momentum and mu are two names for one argument; pass one")
        arg = "mu" if mu is not None else "momentum"
        value = mu if mu is not None else (momentum if momentum is not None else self.default_momentum)
        self.mu = self.check(arg, value, 0, 1, high_open=True)  # mu >= 1: the velocity never decays
        if not isinstance(nesterov, bool):
            raise checks.ArgumentError(f"{name}: nesterov must be True or False, got {nesterov!r}")
        self.nesterov = nesterov or getattr(self, "always_nesterov", False)
        if self.nesterov and self.mu == 0:
            raise checks.ArgumentError(f"{name}: nesterov=True needs a momentum > 0 (as torch.optim.SGD)")

    @property
    def momentum(self) -> float:
        """torch's name for mu."""
        return self.mu

    def velocity(self, grad: np.ndarray, state: dict) -> np.ndarray:
        if "buffer" not in state:
            state["buffer"] = grad.copy()
        else:
            state["buffer"] *= self.mu
            state["buffer"] += grad
        return state["buffer"]

    def update(self, param, grad, state, lr):
        if self.mu == 0:
            param -= lr * grad
        elif self.nesterov:
            buffer = self.velocity(grad, state)
            param -= lr * (grad + self.mu * buffer)
        else:
            param -= lr * self.velocity(grad, state)


class Momentum(SGD):
    r"""Heavy-ball momentum, as torch's SGD(momentum=mu): b <- mu b + g (b = g on the first step),
    w <- w - alpha b:

    .. math:: b \leftarrow \mu b + g, \qquad w \leftarrow w - \alpha\, b

    ``Momentum(params, lr, momentum=0.9)`` (or the lecture's ``mu=0.9``). The slide writes
    v <- mu v - alpha g, w <- w + v; with a constant alpha it is the same trajectory (v = -alpha b); with a
    schedule torch's form scales the whole buffer by alpha_t.
    """

    default_momentum = 0.9


class Nesterov(SGD):
    r"""Nesterov momentum, as torch's SGD(momentum=mu, nesterov=True): b <- mu b + g,
    w <- w - alpha (g + mu b):

    .. math:: b \leftarrow \mu b + g, \qquad w \leftarrow w - \alpha\, (g + \mu b)

    ``Nesterov(params, lr, momentum=0.9)`` (or ``mu=0.9``). This is the slide's "gradient at the look-ahead
    point w + mu v" rewritten in the variable w' = w + mu v, so only the gradient at the current parameters is
    needed (Sutskever et al. 2013).
    """

    default_momentum = 0.9
    always_nesterov = True
