"""End-to-end vs decomposition, part 3: the stocks experiment of the extended version.

d one-hot inputs, k stocks, each input with one best stock; a linear model + softmax allocates. End-to-end
maximizes the gain p.z; decomposition is supervised with the best stock, through REPRODUCTION.md's (and the
authors' script's) loss -p_best and through the classifier's log-loss -log p_best.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np

import tinygrad_cg as cg
from tinygrad_cg import data, optim
from tinygrad_cg import layers as L

from .common import plot_band, progress, save_figure
from .e2e_networks import ADAM

if TYPE_CHECKING:
    from .e2e_settings import Settings

STOCK_INPUTS = 1_000       # d [orig]
STOCK_BATCH = 100          # [orig]
STOCK_LR = 0.1             # [orig]
STOCK_EVAL_EXAMPLES = 500  # [orig] fresh examples for each point of the loss curve
# end-to-end maximizes the gain p.z; decomposition is supervised with the best stock through the authors' loss
# -p_best (``--Dec``: its gradient is an unbiased estimate of the same objective's, the extended paper shows),
# and, as an extra curve of ours, through the classifier's log-loss -log p_best
STOCK_APPROACHES = ("end-to-end", "decomposition (-p_best)", "decomposition (-log p_best)")
STOCK_AUTHORS = ("end-to-end", "decomposition (-p_best)")  # the authors' two curves (Figure 4)
STOCK_COLORS = {"end-to-end": "red", "decomposition (-p_best)": "blue",
                "decomposition (-log p_best)": "cornflowerblue"}


def stock_model(approach: str, d: int, k: int, rng: np.random.Generator):
    """Affine(d -> k) logits, softmax: p = the allocation. Returns (logits, p, loss graph).

    "end-to-end":  loss = -(1/N) sum_n p_n . z_n  (minus the mean gain; feed ``v`` = z);
    "decomposition (-p_best)": the same layers fed v = e_best, i.e. -(1/N) sum_n p_n[best_n];
    "decomposition (-log p_best)": SoftmaxCrossEntropy(logits, best) (feed ``best``).
    """
    x = L.Input("x", shape=(None, d))
    logits = cg.nn.affine(x, k, rng=rng, name="allocation")
    p = L.Softmax(logits)
    if approach == "decomposition (-log p_best)":
        loss = L.SoftmaxCrossEntropy(logits, L.Input("best", shape=(None,)))
    else:
        loss = L.Multiply(L.Constant(-float(k)), L.Mean(L.Multiply(p, L.Input("v", shape=(None, k)))))
    return logits, p, cg.Graph(loss, input_grads=False)


def stock_feed(approach: str, x: np.ndarray, z: np.ndarray, best: np.ndarray) -> dict[str, np.ndarray]:
    if approach == "decomposition (-log p_best)":
        return {"x": x, "best": best.astype(float)}
    if approach == "end-to-end":
        return {"x": x, "v": z}
    one_hot = np.zeros_like(z)  # e_best (np.eye(k)[best] would build a k x k matrix every step)
    one_hot[np.arange(len(best)), best] = 1.0
    return {"x": x, "v": one_hot}


def train_stocks(approach: str, k: int, settings: Settings, seed: int, show_progress: bool) -> dict:
    """Adam (lr 0.1) on one approach's loss with k stocks; every ``stock_eval_every`` iterations the loss of
    Figure 4, -z.p averaged over 500 fresh examples [orig], whatever loss the approach trains on."""
    best_stock = np.random.default_rng([seed, 11, k]).integers(k, size=STOCK_INPUTS)
    _, p, graph = stock_model(approach, STOCK_INPUTS, k, np.random.default_rng([seed, k]))
    predict = cg.Graph(p, input_grads=False)
    opt = optim.Adam(graph.variables, lr=STOCK_LR, **ADAM, eps_form=settings.adam_eps_form)
    rng = np.random.default_rng([seed, 12, k])  # the same examples for every approach
    iterations, losses = [], []
    for it in progress(range(settings.stock_iterations + 1), f"stocks k={k} {approach}", enabled=show_progress):
        if it % settings.stock_eval_every == 0 or it == settings.stock_iterations:
            x, z, _ = data.stock_gains(STOCK_EVAL_EXAMPLES, best_stock, k, rng)
            iterations.append(it)
            losses.append(-float(np.mean(np.sum(predict.forward({"x": x}) * z, axis=1))))
        if it < settings.stock_iterations:
            graph.forward(stock_feed(approach, *data.stock_gains(STOCK_BATCH, best_stock, k, rng)))
            graph.backward()
            opt.step()
    return dict(iterations=np.array(iterations), loss=np.array(losses))


def stock_snr(approach: str, k: int, examples: int, seed: int, inputs: int = STOCK_INPUTS,
              chunk: int = 10_000) -> float:
    """SNR of the per-example gradient w.r.t. the allocation weights W (d x k) at initialization.

    x = e_i makes example j's gradient nonzero only in row i_j, where it is r_j = N * delta_logits[j]
    (the library's backward pass for the batch-mean loss). With S_i = (1/m) sum_{j: i_j = i} r_j the
    mean gradient has ||mean||^2 = sum_i ||S_i||^2, and Noi = (sum_j ||r_j||^2 - m ||mean||^2) / (m - 1),
    Sig = ||mean||^2 - Noi / m: gradient_snr's estimator without forming an m x (d k) matrix.
    """
    rng = np.random.default_rng([seed, 13, k])
    best_stock = rng.integers(k, size=inputs)
    logits, _, graph = stock_model(approach, inputs, k, np.random.default_rng(seed))
    graph.set_dtype(np.float64)
    row_sums, squared = np.zeros((inputs, k)), 0.0
    for start in range(0, examples, chunk):
        n = min(chunk, examples - start)
        x, z, best = data.stock_gains(n, best_stock, k, rng)
        graph.forward(stock_feed(approach, x, z, best))
        graph.backward()
        r = n * logits.delta
        np.add.at(row_sums, x.argmax(axis=1), r)
        squared += float(np.square(r).sum())
    mean_sq = float(np.square(row_sums / examples).sum())
    noise = (squared - examples * mean_sq) / (examples - 1)
    return (mean_sq - noise / examples) / noise


def iterations_to(curve: dict, level: float) -> float:
    """The first evaluated iteration at which the loss curve is at or below ``level`` (inf if never)."""
    reached = np.nonzero(curve["loss"] <= level)[0]
    return float(curve["iterations"][reached[0]]) if len(reached) else float("inf")


def plot_stocks(settings, results: dict, out: Path) -> Path:
    """Figure 4: the loss -z.p on fresh examples vs iteration, one panel per k; and the SNR at init vs k."""
    ks = settings.stock_ks
    fig, axes = plt.subplots(1, len(ks) + 1, figsize=(3.6 * (len(ks) + 1), 3.6), squeeze=False)
    for ax, k in zip(axes[0], ks, strict=False):
        for approach in STOCK_APPROACHES:
            runs = [by_key[f"stocks k={k} {approach}"] for by_key in results.values()]
            label = approach if approach in STOCK_AUTHORS else f"{approach} [ours]"
            plot_band(ax, runs[0]["iterations"], [r["loss"] for r in runs], label=label, color=STOCK_COLORS[approach],
                      ls="-" if approach in STOCK_AUTHORS else "--")
        ax.set_title(f"k = {k}")
        ax.set_xlabel("iteration")
        ax.set_ylim(-1.05, 0.1)
    axes[0, 0].set_ylabel(f"loss -z.p on {STOCK_EVAL_EXAMPLES} fresh examples")
    right = axes[0, -1]
    for approach in STOCK_APPROACHES:
        snrs = [[by_key["stock snr"][f"{approach}|{k}"] for k in settings.stock_snr_ks] for by_key in results.values()]
        plot_band(right, settings.stock_snr_ks, snrs, label=approach, color=STOCK_COLORS[approach], marker="o")
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("k (stocks)")
    right.set_ylabel("SNR at init")
    right.set_title(f"d = {STOCK_INPUTS}, Adam lr {STOCK_LR}")
    # one legend for all panels (the SNR panel's curves are the same approaches, same colours), below them
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8, frameon=False)
    return save_figure(fig, out / "e2e_vs_decomposition_stocks.png", rect=(0, 0.07, 1, 1))
