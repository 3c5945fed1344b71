"""Demo 4: flat activations and the forward-only update (extended paper; talk slides 21-27).

Settings (REPRODUCTION.md section 4): x ~ N(0, I_100) / 100, y = u(<w*, x> + b*) with u rounding down
to a grid of steps around b*; squared loss; batch 256; fresh samples each step; Adam (0.9, 0.99, 1e-5).
Four approaches:
1. non-flat approximation: p = w.x + b through a smooth sum of sigmoids u~ (lr 0.01), with two bias
   initialisations to show its sensitivity;
2. end-to-end: a ReLU net 100-100-100-1 regressing y (lr 0.001);
3. multiclass: a ReLU net 100-100 with one logit per step, softmax cross-entropy on the step index;
4. forward-only: p = w.x + b, output u(p), backward passes delta through u unchanged (lr 0.001).
Plus approach 4 with the true (zero) gradient, which never moves.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import tinygrad_cg as cg
from tinygrad_cg import data, optim
from tinygrad_cg import layers as L

from . import runner
from .common import DemoResult, plot_band, progress, run_demo, run_single, save_figure
from .runner import Run, run_rng

ADAM = dict(betas=(0.9, 0.99), eps=1e-5)  # [orig]


@dataclass
class Settings:
    dim: int = 100
    batch: int = 256
    iterations: int = 10_000          # approaches 1-3 [orig]
    forward_only_iterations: int = 5_000  # approach 4 [orig]
    # [ours] test points: errors concentrate in the few points near a step boundary (~0.3% of them), so 5,000
    # test points let evaluation noise decide close comparisons (on seed 0 it ranked multiclass first)
    test_samples: int = 50_000
    boundary_margin: float = 0.01     # "near a step boundary": |p* - z| below this, for some z in Z
    # [ours] the test error an approach ended at: the median of its test MSE at the last 11 evaluations, 100
    # iterations apart (its last 1,000 iterations). With Adam's constant step the iterate jitters around the
    # answer, and one final iterate's error varies by 2x (forward-only on seed 19: 4.5e-4 at 5,000 iterations,
    # 8.3e-4 at 10,000, 2.5e-4 to 5e-4 in between; multiclass's too, 4e-4 to 1e-3), enough to reorder two
    # approaches whose errors are within 2x (the original: the final iterate)
    final_evaluations: int = 11
    final_every: int = 100
    # [orig] step_learn.py's multiclass net has 100 logits; only the first len(Z) = 52 are ever a label
    multiclass_logits: int = 100
    # where Adam adds eps: "tensorflow" = step_learn.py's tf.train.AdamOptimizer [orig], "torch" = torch.optim's
    adam_eps_form: str = "tensorflow"


PAPER = Settings()
# The paper's budgets are already small (~40 s a seed), except forward-only's 5,000 [orig]: Adam at lr 0.001 moves
# w and b by ~0.001 a step from w ~ 0.1, b = 0, so a seed whose |b*| or largest |w*_i| is large has not
# converged by then (seed 20: test MSE 1.1e-3 at 5,000, 2.9e-4 from 6,000 on; 3,000 iterations left 2 of seeds
# 0..4 unconverged). [ours] The quick plan gives forward-only the other approaches' 10,000, so that "forward-only
# reaches the lowest test error" compares converged runs on every seed; the paper plan keeps the authors' 5,000.
QUICK = Settings(forward_only_iterations=10_000, adam_eps_form="torch")
# how long a plan takes on the project's 2-core machine (docs/results/README.md; printed before a run starts)
PLAN_TIMES = {"quick": "~25 s", "paper": "~2 min a seed"}


def smooth_step(p: cg.Layer, grid: np.ndarray) -> cg.Layer:
    """u~(p) = Z_1 + sum_j dZ_j sigma(5 (p - m_j) / (dZ_j / 10)), m_j = Z_{j+1} - dZ_j / 20, from library
    layers: a constant Affine (1 -> K) makes the K sigmoid arguments, a constant MatMul sums them."""
    dz = np.diff(grid)
    scale = 5 / (dz / 10)
    centres = grid[1:] - dz / 20
    arguments = L.Affine(p, L.Constant(scale[None, :]), L.Constant(-scale * centres))
    return L.Add(L.MatMul(L.Sigmoid(arguments), L.Constant(dz[:, None])), L.Constant(grid[0]))


def linear_unit(x: cg.Layer, dim: int, rng, bias: float = 0.0):
    """p = x @ w + b with w (dim, 1) truncated-normal and the given bias."""
    p = cg.nn.affine(x, 1, rng=rng, name="p")
    p.inputs[2].output[:] = bias
    return p


@dataclass
class Approach:
    name: str
    train: cg.Graph          # loss graph
    predict: cg.Graph        # prediction graph (output: predicted y)
    lr: float
    iterations: int
    target: str = "y"        # which target the loss is fed: "y" or the step "index"


APPROACHES = ("1. smooth approximation (b = 0)", "1. smooth approximation (b = b* + 2)", "2. end-to-end ReLU net",
              "3. multiclass", "4. forward-only", "4'. true gradient (zero)")


def build_approach(name: str, settings: Settings, grid: np.ndarray, b_star: float, rng) -> Approach:
    """One of ``APPROACHES``: its loss graph, prediction graph, learning rate and iteration budget."""
    dim = settings.dim
    x, y = L.Input("x", shape=(None, dim)), L.Input("y", shape=(None, 1))

    def regression(prediction, lr, iterations):
        return Approach(name, cg.Graph(L.SquaredLoss(prediction, y), input_grads=False),
                        cg.Graph(prediction, input_grads=False), lr, iterations)

    if name.startswith("1."):
        bias = 0.0 if "b = 0" in name else b_star + 2.0
        return regression(smooth_step(linear_unit(x, dim, rng, bias), grid), 0.01, settings.iterations)
    if name.startswith("2."):
        return regression(cg.nn.mlp(x, [100, 100, 100, 1], rng=rng), 0.001, settings.iterations)
    if name.startswith("3."):
        index = L.Input("index", shape=(None,))
        logits = cg.nn.mlp(x, [100, 100, max(settings.multiclass_logits, len(grid))], rng=rng)
        return Approach(name, cg.Graph(L.SoftmaxCrossEntropy(logits, index), input_grads=False),
                        cg.Graph(logits, input_grads=False), 0.001, settings.iterations, "index")
    policy = "identity" if name == "4. forward-only" else "gradient"
    step = L.Step(linear_unit(x, dim, rng), grid, np.concatenate([grid[:1], grid]), backward=policy)
    return regression(step, 0.001, settings.forward_only_iterations)


def predict(approach: Approach, X: np.ndarray, grid: np.ndarray) -> np.ndarray:
    out = approach.predict.forward({"x": X})
    if approach.target == "index":  # a logit past the grid (never a label) maps to the top step
        return grid[np.minimum(np.argmax(out, axis=1), len(grid) - 1)][:, None]
    return out


def train(approach: Approach, w_star, b_star, grid, settings: Settings, rng, show_progress: bool,
          evaluate=lambda: None):
    """Adam on fresh batches; calls ``evaluate()`` after each of the last ``final_evaluations`` evaluation
    points (``final_every`` apart, the last at the end). Returns the training losses, the seconds spent in
    training steps, and the evaluations."""
    opt = optim.Adam(approach.train.variables, lr=approach.lr, **ADAM, eps_form=settings.adam_eps_form)
    losses, evaluations, seconds = [], [], 0.0
    for it in progress(range(1, approach.iterations + 1), approach.name, enabled=show_progress):
        start = time.perf_counter()
        X, y, _ = data.step_targets(settings.batch, w_star, b_star, rng)
        if approach.target == "index":
            y = np.searchsorted(grid, y[:, 0], side="right") - 1  # the class: which step
        losses.append(float(approach.train.forward({"x": X, approach.target: y})))
        approach.train.backward()
        opt.step()
        seconds += time.perf_counter() - start
        left = approach.iterations - it
        if left % settings.final_every == 0 and left // settings.final_every < settings.final_evaluations:
            evaluations.append(evaluate())
    return np.array(losses), seconds, evaluations


def target(settings: Settings, seed: int):
    """The seed's target u(<w*, x> + b*) and its test set: (w*, b*, grid, X_test, y_test, p_test)."""
    rng = run_rng(seed, 0)
    w_star, b_star = rng.standard_normal(settings.dim), float(rng.standard_normal())
    X_test, y_test, p_test = data.step_targets(settings.test_samples, w_star, b_star, rng)
    return w_star, b_star, data.step_grid(b_star), X_test, y_test, p_test


def approach_run(settings: Settings, seed: int, name: str) -> dict:
    """Train one approach on the seed's target; its losses, test predictions and errors near and away from
    the step boundaries, wall times, and how far its parameters moved."""
    w_star, b_star, grid, X_test, y_test, p_test = target(settings, seed)
    rng = run_rng(seed, 1, APPROACHES.index(name))
    approach = build_approach(name, settings, grid, b_star, rng)
    before = [v.output.copy() for v in approach.train.variables]
    near = np.min(np.abs(p_test - grid[None, :]), axis=1) < settings.boundary_margin

    def evaluate():
        start = time.perf_counter()
        prediction = predict(approach, X_test, grid)
        squared = (prediction - y_test)[:, 0] ** 2
        return dict(prediction=prediction, mse=float(squared.mean()), test_s=time.perf_counter() - start,
                    near=float(squared[near].mean()), away=float(squared[~near].mean()))

    losses, seconds, evaluations = train(approach, w_star, b_star, grid, settings, rng, runner.inner_progress(),
                                         evaluate)
    median = sorted(evaluations, key=lambda e: e["mse"])[len(evaluations) // 2]  # the evaluation at the median
    variables = approach.train.variables
    return dict(losses=losses, prediction=median["prediction"], mse=median["mse"], train_s=seconds,
                test_s=median["test_s"], near=median["near"], away=median["away"],
                final_mses=np.array([e["mse"] for e in evaluations]), near_fraction=float(near.mean()),
                moved=max(float(np.abs(v.output - b).max()) for v, b in zip(variables, before, strict=True)),
                max_delta=max(float(np.abs(v.delta).max()) for v in variables),
                w=approach.train["p.W"].output[:, 0] if name.startswith(("1.", "4")) else None)


def plan(settings: Settings) -> list[Run]:
    return [Run(name, approach_run, {"name": name}) for name in APPROACHES]


def judge(settings: Settings, runs: dict, seed: int) -> DemoResult:
    result = DemoResult("flat_activations", "Flat activations and the forward-only update")
    w_star = target(settings, seed)[0]
    fo, true_grad = runs["4. forward-only"], runs["4'. true gradient (zero)"]
    others = {k: r["mse"] for k, r in runs.items() if not k.startswith("4")}
    result.check("forward-only reaches the lowest test error of the four approaches",
                 "best results", f"{fo['mse']:.3g} vs " + ", ".join(f"{k} {v:.3g}" for k, v in others.items()),
                 fo["mse"] < min(others.values()))
    w = fo["w"]
    cosine = float(w @ w_star / np.linalg.norm(w) / np.linalg.norm(w_star))
    result.check("forward-only recovers the direction of w*", "provably (Kalai & Sastry 2009)",
                 f"cos(w, w*) = {cosine:.4f}", cosine > 0.99)
    result.check("with the true gradient of u the weights never move",
                 "u' = 0 almost everywhere",
                 f"max |delta| = {true_grad['max_delta']:g}, max change {true_grad['moved']:g}",
                 true_grad["max_delta"] == 0 and true_grad["moved"] == 0)
    for key in ("2. end-to-end ReLU net", "3. multiclass"):
        r = runs[key]
        result.check(f"{key[3:]}: errors concentrate at the step boundaries",
                     "the steps are not captured well at their edges",
                     f"MSE within {settings.boundary_margin} of a boundary {r['near']:.3g} vs away {r['away']:.3g}",
                     r["near"] > 2 * r["away"])
    smooth = [r["mse"] for k, r in runs.items() if k.startswith("1.")]
    result.notes.append(f"smooth approximation: test MSE {smooth[0]:.3g} with b = 0 vs {smooth[1]:.3g} with "
                        "b = b* + 2 (sensitivity to the bias initialisation)")
    result.tables.append("\n".join(
        ["| approach | iterations | train wall time | test wall time (all test points) | test MSE |",
         "| --- | --- | --- | --- | --- |"]
        + [f"| {k} | {len(r['losses'])} | {r['train_s']:.1f} s | {1e3 * r['test_s']:.1f} ms | {r['mse']:.3g} |"
           for k, r in runs.items()]))
    result.notes.append(f"{fo['near_fraction']:.1%} of test points lie within {settings.boundary_margin} of a "
                        f"boundary; an approach's test MSE is the median of its last {settings.final_evaluations} "
                        f"evaluations, {settings.final_every} iterations apart (the prediction figure shows that "
                        "evaluation); " + budgets_sentence(settings))
    return result


def budgets_sentence(settings: Settings) -> str:
    """How long each approach trains, in words (one number when the plan gives all the same budget)."""
    if settings.forward_only_iterations == settings.iterations:
        return f"every approach trains {settings.iterations:,} iterations"
    return (f"forward-only trains {settings.forward_only_iterations:,} iterations [orig], the others "
            f"{settings.iterations:,}")


def figures(settings: Settings, results: dict, out: Path) -> list[Path]:
    """Predicted vs true u along the sorted p* (the first seed), and the training losses (all seeds)."""
    seed = next(iter(results))
    _, _, _, _, y_true, p_star = target(settings, seed)
    order = np.argsort(p_star[:, 0])
    fig, axes = plt.subplots(2, 3, figsize=(14, 7))
    for ax, (name, r) in zip(axes.flat, results[seed].items(), strict=False):
        ax.plot(p_star[order, 0], y_true[order, 0], "b-", lw=2, label="true u(p*)")
        ax.plot(p_star[order, 0], r["prediction"][order, 0], "r.", ms=2, label="predicted")
        ax.set_title(f"{name}\ntest MSE {r['mse']:.3g} (seed {seed})", fontsize=9)
        ax.set_xlabel("p* = <w*, x> + b*")
    axes.flat[0].legend(fontsize=8)
    path = save_figure(fig, out / "flat_activations_predictions.png", dpi=90)
    fig, ax = plt.subplots(figsize=(6, 4))
    for name in APPROACHES:
        if "multiclass" not in name:  # cross-entropy is on another scale
            curves = [np.convolve(by_key[name]["losses"], np.ones(50) / 50, mode="valid")
                      for by_key in results.values()]
            plot_band(ax, np.arange(len(curves[0])), curves, label=name)
    ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("training squared loss (moving average)")
    ax.legend(fontsize=7)
    path2 = save_figure(fig, out / "flat_activations_losses.png", dpi=90)
    return [path, path2]


def run(quick: bool = False, out: Path = Path("results"), seed: int = 0, show_progress: bool = True,
        **how) -> DemoResult:
    """The demo for one seed (``common.run_demo`` takes several, workers and the cache options)."""
    return run_demo(sys.modules[__name__], quick=quick, out=out, seeds=[seed], show_progress=show_progress, **how)


def main(argv: list[str] | None = None) -> int:
    return run_single(sys.modules[__name__], argv)


if __name__ == "__main__":
    raise SystemExit(main())
