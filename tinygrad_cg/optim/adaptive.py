"""Per-coordinate adaptive methods: Adagrad, RMSprop, Adam, Adadelta (torch.optim's definitions)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .. import checks
from ..layers.sources import Variable
from .base import Optimizer, Schedule


class Adagrad(Optimizer):
    r"""Duchi et al. (2011):  G <- G + g^2,   w <- w - alpha g / (sqrt(G) + eps).

    .. math:: G \leftarrow G + g^2, \qquad w \leftarrow w - \frac{\alpha\, g}{\sqrt{G} + \epsilon}

    The slide writes sqrt(G + eps); torch (and this class) adds eps outside the root.
    """

    def __init__(self, params: Iterable[Variable], lr: float = 0.01, eps: float = 1e-10,
                 weight_decay: float = 0.0, schedule: Schedule | None = None):
        super().__init__(params, lr, weight_decay, schedule)
        self.eps = self.check("eps", eps, 0)

    def update(self, param, grad, state, lr):
        total = self.buffer(state, "sum", param)
        total += grad * grad
        param -= lr * grad / (np.sqrt(total) + self.eps)


class RMSprop(Optimizer):
    r"""Hinton (2012):  v <- rho v + (1 - rho) g^2,   w <- w - alpha g / (sqrt(v) + eps),  rho = alpha arg.

    .. math:: v \leftarrow \rho v + (1 - \rho)\, g^2, \qquad w \leftarrow w - \frac{\alpha\, g}{\sqrt{v} + \epsilon}
    """

    def __init__(self, params: Iterable[Variable], lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, schedule: Schedule | None = None):
        super().__init__(params, lr, weight_decay, schedule)
        self.alpha = self.check("alpha", alpha, 0, 1, high_open=True)
        self.eps = self.check("eps", eps, 0)

    def update(self, param, grad, state, lr):
        square_avg = self.buffer(state, "square_avg", param)
        square_avg *= self.alpha
        square_avg += (1 - self.alpha) * grad * grad
        param -= lr * grad / (np.sqrt(square_avg) + self.eps)


EPS_FORMS = ("torch", "tensorflow")


class Adam(Optimizer):
    r"""Kingma & Ba (2015):

        m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g^2,
        w <- w - alpha m_hat / (sqrt(v_hat) + eps),   m_hat = m / (1 - b1^t),  v_hat = v / (1 - b2^t).

    .. math::

        m \leftarrow \beta_1 m + (1 - \beta_1)\, g

        v \leftarrow \beta_2 v + (1 - \beta_2)\, g^2

        w \leftarrow w - \alpha\, \frac{m / (1 - \beta_1^t)}{\sqrt{v / (1 - \beta_2^t)} + \epsilon}

    Two places for eps (``eps_form``):

    - ``"torch"`` (the default): eps is added to the bias-corrected sqrt(v_hat), as above; evaluated in torch's
      order (sqrt(v) / sqrt(1 - b2^t) + eps), so trajectories match ``torch.optim.Adam``.
    - ``"tensorflow"``: eps is added to the *uncorrected* sqrt(v) and the bias corrections move into the step
      size, Kingma & Ba's "epsilon hat" (end of their Section 2), as ``tf.train.AdamOptimizer`` (TF1) and
      Keras's Adam compute it:

      .. math::

          \alpha_t = \alpha\, \frac{\sqrt{1 - \beta_2^t}}{1 - \beta_1^t}, \qquad
          w \leftarrow w - \alpha_t\, \frac{m}{\sqrt{v} + \hat\epsilon}

      In torch's terms this is eps = eps_hat / sqrt(1 - b2^t): the two forms agree once 1 - b2^t is near 1
      (t >> 1 / (1 - b2)), and differ early on, when the gradients are small next to eps: at t = 1 with
      b2 = 0.99 TensorFlow's eps weighs 10x more. The paper's authors ran TensorFlow 1, so the demos' paper
      plans use this form.

    The paper's experiments use betas (0.9, 0.99) and eps 1e-5.
    """

    def __init__(self, params: Iterable[Variable], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, schedule: Schedule | None = None,
                 eps_form: str = "torch"):
        super().__init__(params, lr, weight_decay, schedule)
        if not isinstance(betas, tuple | list) or len(betas) != 2:
            raise checks.ArgumentError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (self.check("betas[0]", betas[0], 0, 1, high_open=True),
                      self.check("betas[1]", betas[1], 0, 1, high_open=True))
        self.eps = self.check("eps", eps, 0)
        if eps_form not in EPS_FORMS:
            raise checks.ArgumentError(f"Adam: eps_form must be one of {EPS_FORMS}, got {eps_form!r}")
        self.eps_form = eps_form

    def update(self, param, grad, state, lr):
        beta1, beta2 = self.betas
        m = self.buffer(state, "exp_avg", param)
        v = self.buffer(state, "exp_avg_sq", param)
        state["step"] = step = state.get("step", 0) + 1
        m *= beta1
        m += (1 - beta1) * grad
        v *= beta2
        v += (1 - beta2) * grad * grad
        if self.eps_form == "torch":
            denominator = np.sqrt(v) / np.sqrt(1 - beta2**step) + self.eps
            param -= (lr / (1 - beta1**step)) * m / denominator
        else:  # "tensorflow": the corrections in the step size, eps on the uncorrected sqrt(v)
            param -= (lr * np.sqrt(1 - beta2**step) / (1 - beta1**step)) * m / (np.sqrt(v) + self.eps)


class Adadelta(Optimizer):
    r"""Zeiler (2012), as torch.optim.Adadelta:

    .. math::

        v \leftarrow \rho v + (1 - \rho)\, g^2

        \Delta = \frac{\sqrt{u + \epsilon}}{\sqrt{v + \epsilon}}\, g

        u \leftarrow \rho u + (1 - \rho)\, \Delta^2

        w \leftarrow w - \alpha \Delta

    In plain text:

        v <- rho v + (1 - rho) g^2,
        dx = sqrt(u + eps) / sqrt(v + eps) * g,
        u <- rho u + (1 - rho) dx^2,
        w <- w - alpha dx     (alpha = 1 is Zeiler's method, "no step length").

    The slide writes (sqrt(u) + eps) / (sqrt(v) + eps); torch puts eps inside both roots.
    """

    def __init__(self, params: Iterable[Variable], lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, schedule: Schedule | None = None):
        super().__init__(params, lr, weight_decay, schedule)
        self.rho = self.check("rho", rho, 0, 1)
        self.eps = self.check("eps", eps, 0)

    def update(self, param, grad, state, lr):
        square_avg = self.buffer(state, "square_avg", param)
        acc_delta = self.buffer(state, "acc_delta", param)
        square_avg *= self.rho
        square_avg += (1 - self.rho) * grad * grad
        dx = np.sqrt(acc_delta + self.eps) / np.sqrt(square_avg + self.eps) * grad
        acc_delta *= self.rho
        acc_delta += (1 - self.rho) * dx * dx
        param -= lr * dx
