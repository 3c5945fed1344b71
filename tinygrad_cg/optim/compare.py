"""Run several optimizers on one problem from the same starting point, and compare their losses::

    def problem(rng):                     # builds the graph; the same rng gives the same initial point
        x, y = L.Input("x", shape=(None, 2)), L.Input("y", shape=(None, 1))
        graph = cg.Graph(L.LogisticLoss(cg.nn.affine(x, 1, rng=rng), y), dtype=np.float64)
        return graph, lambda rng: make_batch(rng)      # feeds: a dict, a callable rng -> dict, or None

    result = optim.compare(problem, {"SGD": lambda p: optim.SGD(p, lr=0.1),
                                     "Adam": lambda p: optim.Adam(p, lr=0.01)}, steps=500)
    result.plot("losses.png")

``Comparison`` holds the losses per optimizer (and the trajectories of two-parameter problems).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ArgumentError
from ..graph import Graph
from ..layers.sources import Variable
from .base import Optimizer

Feed = Mapping[str, Any] | Callable[[np.random.Generator], Mapping[str, Any]] | None
Problem = Callable[[np.random.Generator], tuple[Graph, Feed]]


@dataclass
class Comparison:
    """What ``compare`` measured, per optimizer name.

    ``losses[name]``: the loss before each step (length ``steps``, shorter if ``stop_below`` was reached).
    ``trajectories[name]``: the parameters after each step, (steps + 1, 2), starting point first; only for
    problems with exactly two scalar parameters in all (else the dict is empty).
    """

    losses: dict[str, np.ndarray] = field(default_factory=dict)
    trajectories: dict[str, np.ndarray] = field(default_factory=dict)

    def plot(self, path: str | Path | None = None, log: bool = True):
        """Loss curves (log scale by default), and the paths in parameter space when there are two
        parameters; written to ``path`` (PNG or SVG by its suffix) if given. Returns the figure."""
        import matplotlib.pyplot as plt

        panels = 2 if self.trajectories else 1
        fig, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 4), squeeze=False)
        ax = axes[0, 0]
        for name, curve in self.losses.items():
            ax.plot(np.arange(len(curve)), curve, label=name)
        if log and all(np.all(curve > 0) for curve in self.losses.values()):
            ax.set_yscale("log")
        ax.set(xlabel="step", ylabel="loss", title="loss per step")
        ax.legend(fontsize=8)
        if self.trajectories:
            ax = axes[0, 1]
            for name, path_ in self.trajectories.items():
                ax.plot(path_[:, 0], path_[:, 1], ".-", markersize=2, label=name)
            ax.plot(*next(iter(self.trajectories.values()))[0], "k*", markersize=10, label="start")
            ax.set(xlabel="parameter 1", ylabel="parameter 2", title="paths")
            ax.legend(fontsize=8)
        fig.tight_layout()
        if path is not None:
            fig.savefig(path)
        return fig


def compare(make_problem: Problem, optimizers: Mapping[str, Callable[[list[Variable]], Optimizer]], steps: int,
            seed: int = 0, stop_below: float | None = None) -> Comparison:
    """Train a fresh copy of the problem with each optimizer and record the losses (and 2-D paths).

    For each optimizer, ``make_problem(rng)`` is called with ``rng = default_rng(seed)``, so every optimizer
    starts from the same parameters (when the problem draws them from ``rng``) and, when the feed is a
    callable ``rng -> dict``, sees the same sequence of batches. Each step is
    ``loss = graph.forward(feed); graph.backward(); optimizer.step()``; a run ends early once the loss
    is below ``stop_below``.
    """
    if not optimizers:
        raise ArgumentError("optim.compare: optimizers is empty; pass {name: lambda params: optimizer}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ArgumentError(f"optim.compare: steps must be an integer >= 1, got {steps!r}")
    result = Comparison()
    for name, make_optimizer in optimizers.items():
        rng = np.random.default_rng(seed)
        graph, feed = make_problem(rng)
        opt = make_optimizer(graph.variables)
        two_parameters = sum(v.output.size for v in graph.variables) == 2
        path = [np.concatenate([v.output.ravel() for v in graph.variables])] if two_parameters else None
        losses = []
        for _ in range(steps):
            losses.append(float(graph.forward(feed(rng) if callable(feed) else feed)))
            if stop_below is not None and losses[-1] < stop_below:
                break
            graph.backward()
            opt.step()
            if path is not None:
                path.append(np.concatenate([v.output.ravel() for v in graph.variables]))
        result.losses[name] = np.array(losses)
        if path is not None:
            result.trajectories[name] = np.array(path)
    return result
