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


STYLES = ("-", "--", ":", "-.")  # cycled with the colours, so that a path under another still shows


@dataclass
class Comparison:
    """What ``compare`` measured, per optimizer name.

    ``losses[name]``: the loss before each step (length ``steps``, shorter if ``stop_below`` was reached).
    ``trajectories[name]``: the parameters after each step, (steps + 1, 2), starting point first; only for
    problems with exactly two scalar parameters in all (else the dict is empty). ``parameter_names``: what
    the two coordinates are (``w[0]``, ``w[1]`` for one Variable of two entries).
    """

    losses: dict[str, np.ndarray] = field(default_factory=dict)
    trajectories: dict[str, np.ndarray] = field(default_factory=dict)
    parameter_names: tuple[str, str] = ("parameter 1", "parameter 2")

    def plot(self, path: str | Path | None = None, log: bool = True,
             function: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
             extent: tuple[float, float, float, float] | None = None, minimum: tuple[float, float] | None = None):
        """Loss curves (log scale by default), and the paths in parameter space when there are two
        parameters; written to ``path`` (PNG or SVG by its suffix) if given. Returns the figure.

        ``function(a, b)``: the loss at parameters (a, b), drawn as contours under the paths (called on
        meshgrid arrays if it takes them, else point by point); ``extent`` (a0, a1, b0, b1) the region shown
        (default: around the paths); ``minimum``: a point marked with a star."""
        import matplotlib.pyplot as plt

        panels = 2 if self.trajectories else 1
        fig, axes = plt.subplots(1, panels, figsize=(6 * panels, 4.6), squeeze=False)
        ax = axes[0, 0]
        for number, (name, curve) in enumerate(self.losses.items()):
            ax.plot(np.arange(len(curve)), curve, ls=STYLES[number % len(STYLES)], lw=1.5, label=name)
        if log and all(np.all(curve > 0) for curve in self.losses.values()):
            ax.set_yscale("log")
        ax.set(xlabel="step", ylabel="loss", title="loss per step")
        if self.trajectories:
            ax = axes[0, 1]
            a0, a1, b0, b1 = extent if extent is not None else self._extent()
            if function is not None:
                A, B = np.meshgrid(np.linspace(a0, a1, 150), np.linspace(b0, b1, 150))
                with np.errstate(all="ignore"):
                    Z = _on_grid(function, A, B)
                finite = Z[np.isfinite(Z)]
                if finite.size:  # a path that diverged can stretch the region past where the loss is finite
                    levels = np.unique(np.quantile(finite, np.linspace(0.01, 0.97, 25)))
                    ax.contour(A, B, Z, levels=levels, cmap="Greys", linewidths=0.7, alpha=0.8)
            for number, (name, path_) in enumerate(self.trajectories.items()):
                ax.plot(path_[:, 0], path_[:, 1], ls=STYLES[number % len(STYLES)], lw=1.5, label=name)
            ax.plot(*next(iter(self.trajectories.values()))[0], "ko", markersize=7, label="start")
            if minimum is not None:
                ax.plot(*minimum, "*", color="gold", mec="black", markersize=14, label="minimum")
            ax.set(xlim=(a0, a1), ylim=(b0, b1), xlabel=self.parameter_names[0], ylabel=self.parameter_names[1],
                   title="paths" + (" over the loss's contours" if function is not None else ""))
        handles, labels = axes[0, -1].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 6), fontsize=10, frameon=False)
        fig.tight_layout(rect=(0, 0.12, 1, 1))
        if path is not None:
            fig.savefig(path)
        return fig

    def _extent(self) -> tuple[float, float, float, float]:
        """The paths' bounding box, 10% larger on each side."""
        points = np.concatenate(list(self.trajectories.values()))
        points = points[np.all(np.isfinite(points), axis=1)]
        low, high = points.min(axis=0), points.max(axis=0)
        margin = np.maximum(0.1 * (high - low), 1e-3)
        return low[0] - margin[0], high[0] + margin[0], low[1] - margin[1], high[1] + margin[1]


def _on_grid(function, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``function`` on a grid: called on the arrays if it returns one of their shape, else point by point."""
    try:
        Z = np.asarray(function(A, B), dtype=float)
        if Z.shape == A.shape:
            return Z
    except Exception:  # noqa: BLE001 - a function of two numbers only: evaluate it point by point
        pass
    return np.vectorize(lambda a, b: float(function(a, b)))(A, B)


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
            result.parameter_names = parameter_names(graph.variables)
    return result


def parameter_names(variables: list[Variable]) -> tuple[str, str]:
    """The two coordinates' names: the Variables' own names if there are two, else ``w[0]``, ``w[1]``."""
    if len(variables) == 2:
        return variables[0].name, variables[1].name
    return f"{variables[0].name}[0]", f"{variables[0].name}[1]"
