"""Optimizer comparison on toy problems (lecture "training deep models": SGD, momentum, Nesterov,
Adagrad, RMSprop, Adam, Adadelta).

Settings first, then the problems (each a tiny graph over one 2-D Variable), then the runs, the
figures, and two measured claims:
- on a quadratic with condition number kappa, gradient descent with the best step 2/(L+mu) contracts
  the error by (kappa-1)/(kappa+1) per step, and tuned heavy-ball momentum by
  (sqrt(kappa)-1)/(sqrt(kappa)+1) (Polyak 1964; the lecture's "why momentum works");
- at the saddle x^2 - y^2, started next to it, Adam and RMSprop (per-coordinate step normalisation)
  escape in fewer steps than plain SGD with the same learning rate.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import tinygrad_cg as cg
from tinygrad_cg import layers as L
from tinygrad_cg import optim

from .common import DemoResult, plot_band, run_demo, run_single, save_figure
from .runner import Run


@dataclass
class Settings:
    steps: int = 2000            # trajectory length on each toy problem
    kappa: float = 50.0          # condition number of the ravine
    kappas: tuple = (10.0, 100.0, 1000.0)  # for the momentum-rate check
    saddle_start_y: float = 1e-3
    saddle_lr: float = 0.01
    saddle_max_steps: int = 3000


PAPER = Settings()
QUICK = Settings(steps=400)
# how long a plan takes on the project's 2-core machine (docs/results/README.md; printed before a run starts)
PLAN_TIMES = {"quick": "~3 s", "paper": "~15 s a seed"}


class Rosenbrock(cg.Layer):  # how a user writes a layer of their own
    """f(w) = (1 - w_0)^2 + 100 (w_1 - w_0^2)^2, a 0-d output from a (2,) input.

    A user-written layer: the shape rule, the forward formula, and the backward
        df/dw_0 = -2 (1 - w_0) - 400 w_0 (w_1 - w_0^2),   df/dw_1 = 200 (w_1 - w_0^2).
    """

    def __init__(self, w: cg.Layer, name: str | None = None):
        super().__init__(w, name=name)

    def infer_shape(self, w):
        if w != (2,):
            raise self.shape_error(f"needs a (2,) input, got {w}")
        return ()

    def forward(self):
        a, b = self.inputs[0].output
        self.output = np.asarray((1 - a) ** 2 + 100 * (b - a * a) ** 2, dtype=self.inputs[0].output.dtype)

    def backward(self):
        w = self.inputs[0]
        a, b = w.output
        if w.needs_delta:
            w.delta += self.delta * np.array([-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)])


@dataclass
class Problem:
    name: str
    start: tuple[float, float]
    extent: tuple[float, float, float, float]  # x0, x1, y0, y1 of the contour plot
    learning_rates: dict[str, float]
    build: object  # w Variable -> loss layer
    value: object  # (X, Y) grids -> loss values, for the contours
    minimum: tuple[float, float] | None = None  # marked on the figure (None: no minimum, e.g. a saddle)
    minimum_label: str = "minimum"


def ravine(kappa: float) -> Problem:
    scale = np.array([1.0, kappa])
    return Problem(
        f"ravine (kappa={kappa:g})", (-4.0, 1.0), (-4.5, 4.5, -1.5, 1.5),
        dict(SGD=1.8 / (1 + kappa), Momentum=0.3 / kappa, Nesterov=0.3 / kappa, Adagrad=1.0, RMSprop=0.05,
             Adam=0.2, Adadelta=1.0),
        lambda w: L.Multiply(L.Constant(0.5), L.Sum(L.Multiply(L.Constant(scale), L.Square(w)))),
        lambda X, Y: 0.5 * (X**2 + kappa * Y**2),
        (0.0, 0.0),
    )


def saddle(start_y: float = 1e-3) -> Problem:
    return Problem(
        "saddle x^2 - y^2", (1.0, start_y), (-1.5, 1.5, -1.5, 1.5),
        dict(SGD=0.01, Momentum=0.01, Nesterov=0.01, Adagrad=0.01, RMSprop=0.01, Adam=0.01, Adadelta=1.0),
        lambda w: L.Sum(L.Multiply(L.Constant([1.0, -1.0]), L.Square(w))),
        lambda X, Y: X**2 - Y**2,
        (0.0, 0.0), "saddle point (no minimum)",
    )


def rosenbrock() -> Problem:
    return Problem(
        "Rosenbrock valley", (-1.5, 2.0), (-2.0, 2.0, -1.0, 3.0),
        dict(SGD=5e-4, Momentum=2e-4, Nesterov=2e-4, Adagrad=0.3, RMSprop=0.01, Adam=0.05, Adadelta=1.0),
        lambda w: Rosenbrock(w),
        lambda X, Y: (1 - X) ** 2 + 100 * (Y - X**2) ** 2,
        (1.0, 1.0),
    )


def logistic(seed: int) -> Problem:
    """Logistic regression (no bias) on two Gaussian blobs; w is the 2-D weight vector."""
    rng = np.random.default_rng(seed)
    n = 200
    y = rng.choice([-1.0, 1.0], size=(n, 1))
    X = rng.normal(size=(n, 2)) + 1.5 * y * np.array([1.0, 0.3])

    def value(A, B):
        scores = X[:, :1, None] * A[None] + X[:, 1:, None] * B[None]
        return np.logaddexp(0, -y[:, :, None] * scores).mean(axis=0)

    from scipy.optimize import minimize

    best = minimize(lambda w: float(value(np.full((1, 1), w[0]), np.full((1, 1), w[1])).ravel()[0]), np.zeros(2)).x
    return Problem(
        "logistic regression", (-3.0, 3.0), (-4.0, 6.0, -4.0, 6.0),
        dict(SGD=0.5, Momentum=0.1, Nesterov=0.1, Adagrad=0.5, RMSprop=0.05, Adam=0.1, Adadelta=1.0),
        lambda w: L.LogisticLoss(L.MatMul(L.Constant(X), _column(w)), L.Constant(y)),
        value,
        (float(best[0]), float(best[1])),
    )


def _column(w: cg.Layer) -> cg.Layer:
    """(2,) -> (2, 1): a Reshape whose 'batch' axis is the weight's first axis."""
    return L.Reshape(w, (1,))


def make_optimizer(name: str, params, lr: float):
    momentum = {"momentum": 0.9} if name in ("Momentum", "Nesterov") else {}
    return optim.ALL[name](params, lr=lr, **momentum)


def compare_on(problem: Problem, steps: int, stop_below: float | None = None,
               names=tuple(optim.ALL)) -> optim.Comparison:
    """The optimizers ``names`` (default all seven) from ``problem.start``, each with the problem's tuned
    learning rate."""

    def build(rng):
        return cg.Graph(problem.build(L.Variable(np.array(problem.start), name="w")), dtype=np.float64), None

    optimizers = {name: (lambda params, name=name: make_optimizer(name, params, problem.learning_rates[name]))
                  for name in names}
    return optim.compare(build, optimizers, steps, stop_below=stop_below)


def measured_contraction(kappa: float, momentum: bool) -> tuple[float, float]:
    """(measured, predicted) per-step contraction on f = 1/2 (x^2 + kappa y^2) with tuned steps.

    GD: lr = 2/(1+kappa), rate (kappa-1)/(kappa+1). Heavy ball: lr = 4/(1+sqrt(kappa))^2,
    mu = rate^2 with rate = (sqrt(kappa)-1)/(sqrt(kappa)+1). The rate is measured as
    (|w_T| / |w_T/2|)^(2/T) over the second half of a run long enough to fall by 1e-14.
    """
    root = math.sqrt(kappa)
    if momentum:
        predicted = (root - 1) / (root + 1)
        lr, extra = 4 / (1 + root) ** 2, {"momentum": predicted**2}
    else:
        predicted = (kappa - 1) / (kappa + 1)
        lr, extra = 2 / (1 + kappa), {}
    steps = 2 * math.ceil(math.log(1e-14) / math.log(predicted) / 2)
    w = L.Variable(np.array([1.0, 1.0]))
    loss = L.Multiply(L.Constant(0.5), L.Sum(L.Multiply(L.Constant([1.0, kappa]), L.Square(w))))
    graph = cg.Graph(loss, dtype=np.float64)
    opt = optim.Momentum([w], lr=lr, **extra) if momentum else optim.SGD([w], lr=lr)
    norms = [np.linalg.norm(w.output)]
    for _ in range(steps):
        graph.forward()
        graph.backward()
        opt.step()
        norms.append(np.linalg.norm(w.output))
    half = steps // 2
    return (norms[steps] / norms[half]) ** (1 / (steps - half)), predicted


def problems(settings: Settings, seed: int) -> list[Problem]:
    """The four problems; only the logistic regression's data depend on the seed."""
    return [ravine(settings.kappa), saddle(settings.saddle_start_y), rosenbrock(), logistic(seed)]


def compare_run(settings: Settings, seed: int, problem: str) -> dict:
    """All seven optimizers on one problem: their losses and paths."""
    chosen = next(p for p in problems(settings, seed) if p.name == problem)
    comparison = compare_on(chosen, settings.steps, stop_below=-2.0 if problem.startswith("saddle") else None)
    return {"losses": comparison.losses, "paths": comparison.trajectories}


def contraction_run(settings: Settings, seed: int) -> dict:
    """Measured and predicted per-step contraction of GD and tuned momentum for each kappa."""
    return {f"{kappa:g} {'momentum' if momentum else 'GD'}": list(measured_contraction(kappa, momentum))
            for kappa in settings.kappas for momentum in (False, True)}


def saddle_run(settings: Settings, seed: int) -> dict:
    """Steps SGD, Adam and RMSprop take to leave the saddle (loss below -1), with the same learning rate."""
    sp = saddle(settings.saddle_start_y)
    names = ("SGD", "Adam", "RMSprop")
    for name in names:
        sp.learning_rates[name] = settings.saddle_lr
    comparison = compare_on(sp, settings.saddle_max_steps, stop_below=-1.0, names=names)
    return {name: float(len(curve)) if curve[-1] < -1.0 else math.inf for name, curve in comparison.losses.items()}


def plan(settings: Settings) -> list[Run]:
    return ([Run(f"compare {p.name}", compare_run, {"problem": p.name}) for p in problems(settings, 0)]
            + [Run("contraction rates", contraction_run), Run("saddle escape", saddle_run)])


def judge(settings: Settings, runs: dict, seed: int) -> DemoResult:
    result = DemoResult("optimizers", "Optimizers on toy problems")
    for kappa in settings.kappas:
        for momentum in (False, True):
            measured, predicted = runs["contraction rates"][f"{kappa:g} {'momentum' if momentum else 'GD'}"]
            label = "tuned momentum" if momentum else "gradient descent"
            formula = "(sqrt(k)-1)/(sqrt(k)+1)" if momentum else "(k-1)/(k+1)"
            result.check(f"{label} contraction per step, kappa={kappa:g}",
                         f"{formula} = {predicted:.4f}", f"{measured:.4f}",
                         abs(measured - predicted) <= 0.1 * predicted)
    escape = runs["saddle escape"]
    measured = ", ".join(f"{k} {v:.0f} steps" for k, v in escape.items())
    result.check(f"Adam and RMSprop escape the saddle x^2-y^2 (from y={settings.saddle_start_y:g}, "
                 f"lr {settings.saddle_lr:g}) faster than SGD",
                 "adaptive steps are not slowed by the flat direction", measured,
                 escape["Adam"] < escape["SGD"] and escape["RMSprop"] < escape["SGD"])
    final = {name: curve[-1] for name, curve in runs["compare Rosenbrock valley"]["losses"].items()}
    result.notes.append("final Rosenbrock loss after "
                        f"{settings.steps} steps: " + ", ".join(f"{k} {v:.3g}" for k, v in final.items()))
    return result


def figures(settings: Settings, results: dict, out: Path) -> list[Path]:
    seed = next(iter(results))
    shown = problems(settings, seed)
    return [plot_trajectories(shown, results[seed], out), plot_losses(shown, results, out)]


# one style per optimizer, so that a path hidden under another still shows at its ends and bends
STYLES = {"SGD": dict(color="C0", ls="-"), "Momentum": dict(color="C1", ls="--"),
          "Nesterov": dict(color="C2", ls=":"), "Adagrad": dict(color="C3", ls="-."),
          "RMSprop": dict(color="C4", ls="-"), "Adam": dict(color="C5", ls="--"), "Adadelta": dict(color="C6", ls=":")}


def plot_trajectories(problems: list[Problem], runs: dict, out: Path) -> Path:
    """Every optimizer's path over the problem's contours (one seed): one panel per problem in a 2 x 2 grid,
    the start and the minimum marked, one legend for all."""
    columns = 2
    rows = math.ceil(len(problems) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(6.2 * columns, 5 * rows), squeeze=False)
    for ax, problem in zip(axes.flat, problems, strict=False):
        x0, x1, y0, y1 = problem.extent
        X, Y = np.meshgrid(np.linspace(x0, x1, 200), np.linspace(y0, y1, 200))
        Z = problem.value(X, Y)
        levels = np.quantile(Z, np.linspace(0.01, 0.95, 25))
        ax.contour(X, Y, Z, levels=np.unique(levels), cmap="Greys", linewidths=0.7, alpha=0.8)
        for name, path in runs[f"compare {problem.name}"]["paths"].items():
            ax.plot(path[:, 0], path[:, 1], lw=1.6, label=name, **STYLES.get(name, {}))
        ax.plot(*problem.start, "ko", ms=7, label="start")
        if problem.minimum is not None:
            marker = "X" if problem.minimum_label.startswith("saddle") else "*"
            ax.plot(*problem.minimum, marker, color="gold", mec="black", ms=14, label=problem.minimum_label)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_title(problem.name, fontsize=12)
        ax.set_xlabel("w[0]", fontsize=11)
        ax.set_ylabel("w[1]", fontsize=11)
    for ax in axes.flat[len(problems):]:
        ax.set_visible(False)
    handles, labels = {}, {}
    for ax in axes.flat:  # every name once, the minimum and the saddle point included
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    labels = list(handles)
    fig.legend([handles[label] for label in labels], labels, loc="lower center", ncol=5, fontsize=11,
               frameon=False)
    fig.suptitle("Seven optimizers from the same start over each problem's contours", fontsize=13)
    return save_figure(fig, out / "optimizers_trajectories.png", dpi=90, rect=(0, 0.08, 1, 0.97))


def plot_losses(problems: list[Problem], results: dict, out: Path) -> Path:
    fig, axes = plt.subplots(1, len(problems), figsize=(5 * len(problems), 4.4))
    for ax, problem in zip(axes, problems, strict=True):
        for name in optim.ALL:
            curves = [by_key[f"compare {problem.name}"]["losses"][name] for by_key in results.values()]
            plot_band(ax, np.arange(max(map(len, curves))), curves, label=name, lw=1.4, **STYLES.get(name, {}))
        if problem.name.startswith("saddle"):
            ax.set_yscale("symlog", linthresh=1e-3)  # the saddle's loss goes negative
        else:
            ax.set_yscale("log")
        ax.set_title(problem.name)
        ax.set_xlabel("iteration")
        ax.set_ylabel("loss")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=10, frameon=False)
    return save_figure(fig, out / "optimizers_losses.png", dpi=90, rect=(0, 0.1, 1, 1))


def run(quick: bool = False, out: Path = Path("results"), seed: int = 0, show_progress: bool = True,
        **how) -> DemoResult:
    """The demo for one seed (``common.run_demo`` takes several, workers and the cache options)."""
    return run_demo(sys.modules[__name__], quick=quick, out=out, seeds=[seed], show_progress=show_progress, **how)


def main(argv: list[str] | None = None) -> int:
    return run_single(sys.modules[__name__], argv)


if __name__ == "__main__":
    raise SystemExit(main())
