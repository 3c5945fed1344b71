"""Learning-rate schedules: callables t -> factor, the rate at step t being ``lr * factor``.

The lecture's list: constant, piecewise constant (tenfold decrease every N), harmonic
alpha / ([t/N] + b), and halving when the loss stops improving.
"""

from __future__ import annotations

import math

from .. import checks


class Constant:
    """factor(t) = 1."""

    def __call__(self, t: int) -> float:
        return 1.0


class StepDecay:
    """factor(t) = gamma ** floor(t / every)  (default: tenfold decrease every ``every`` steps)."""

    def __init__(self, every: int, gamma: float = 0.1):
        self.every = checks.integer("StepDecay", "every", every, 1)
        self.gamma = checks.real("StepDecay", "gamma", gamma, 0, low_open=True)

    def __call__(self, t: int) -> float:
        return self.gamma ** (t // self.every)


class PiecewiseConstant:
    """factor(t) = values[i] for boundaries[i-1] <= t < boundaries[i] (len(values) = len(boundaries) + 1)."""

    def __init__(self, boundaries: list[int], values: list[float]):
        if len(values) != len(boundaries) + 1 or list(boundaries) != sorted(boundaries):
            raise checks.ArgumentError("PiecewiseConstant: need sorted boundaries and one more value than "
                                       f"boundaries, got {boundaries!r} and {values!r}")
        self.boundaries = [checks.integer("PiecewiseConstant", "boundaries", b, 0) for b in boundaries]
        self.values = [checks.real("PiecewiseConstant", "values", v, 0) for v in values]

    def __call__(self, t: int) -> float:
        return self.values[sum(t >= b for b in self.boundaries)]


class Harmonic:
    """factor(t) = a / (floor(t / N) + b); the lecture's example is 0.001 / ([t/N] + 10) with lr 1."""

    def __init__(self, N: int, a: float = 1.0, b: float = 1.0):
        self.N = checks.integer("Harmonic", "N", N, 1)
        self.a = checks.real("Harmonic", "a", a, 0)
        self.b = checks.real("Harmonic", "b", b, 0, low_open=True)

    def __call__(self, t: int) -> float:
        return self.a / (math.floor(t / self.N) + self.b)


class HalveOnPlateau:
    """Halve the factor when ``observe(loss)`` has seen no improvement for ``patience`` calls.

    Call ``observe`` after each evaluation (e.g. every epoch); ``factor(t)`` is the current value.
    """

    def __init__(self, patience: int = 10, threshold: float = 0.0, minimum: float = 0.0):
        self.patience = checks.integer("HalveOnPlateau", "patience", patience, 1)
        self.threshold = checks.real("HalveOnPlateau", "threshold", threshold, 0)
        self.minimum = checks.real("HalveOnPlateau", "minimum", minimum, 0)
        self.factor = 1.0
        self.best = math.inf
        self.waited = 0

    def observe(self, loss: float) -> None:
        if loss < self.best - self.threshold:
            self.best, self.waited = loss, 0
            return
        self.waited += 1
        if self.waited >= self.patience:
            self.factor = max(self.factor / 2, self.minimum)
            self.waited = 0

    def __call__(self, t: int) -> float:
        return self.factor
