"""SGD on a linearly preconditioned gradient."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

from ..errors import ShapeError
from ..layers.sources import Variable
from .base import Optimizer, Schedule


class PreconditionedSGD(Optimizer):
    r"""w <- w - alpha P g, with P a fixed positive-definite matrix acting on the flattened gradient:

    .. math:: w \leftarrow w - \alpha\, P g

    With P = C^-1 this is plain SGD in the reparametrised variable v = C^(1/2) w (the piecewise-linear
    demo's fourth try: train on F C^(-1/2), map the answer back with C^(-1/2)): the Hessian C of a
    quadratic loss becomes C^(-1/2) C C^(-1/2) = I, condition number 1.

    Args:
        preconditioner: one matrix (n, n) for a single parameter of n entries, a list of matrices
            (one per parameter), or a callable ``grad -> preconditioned grad``.
    """

    def __init__(self, params: Iterable[Variable], lr: float,
                 preconditioner: np.ndarray | Sequence[np.ndarray] | Callable[[np.ndarray], np.ndarray],
                 weight_decay: float = 0.0, schedule: Schedule | None = None):
        super().__init__(params, lr, weight_decay, schedule)
        if callable(preconditioner):
            self.apply = [preconditioner] * len(self.params)
            return
        matrices = [preconditioner] if isinstance(preconditioner, np.ndarray) else list(preconditioner)
        if len(matrices) != len(self.params):
            raise ShapeError(f"PreconditionedSGD: {len(matrices)} preconditioners for {len(self.params)} parameters")
        self.apply = []
        for p, P in zip(self.params, matrices, strict=True):
            P = np.asarray(P, dtype=p.output.dtype)
            if P.shape != (p.output.size, p.output.size):
                raise ShapeError(
                    f"PreconditionedSGD: parameter '{p.name}' has {p.output.size} entries, preconditioner "
                    f"shape {P.shape}"
                )
            self.apply.append(lambda g, P=P: (P @ g.reshape(-1)).reshape(g.shape))

    def step(self) -> None:
        lr = self.current_lr
        self.t += 1
        for index, param, grad, _state in self.gradients():
            param -= lr * self.apply[index](grad)
