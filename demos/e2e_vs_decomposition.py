"""Demo 2: end-to-end vs decomposition, with the SNR analysis (paper Section 3; extended version's stocks).

Settings (REPRODUCTION.md section 2): k-tuples of 28x28 line images, target = parity of the k
"slopes up" labels. N1 (conv 5x5x16 'same' + max-pool 2, twice, Affine 50 + ReLU, Affine 100 + ReLU,
Affine 1) scores every image with shared weights; sigmoid; N2 (Affine k -> 100 + ReLU, Affine 1) scores
the tuple. End-to-end minimizes the hinge loss on the tuple score; decomposition adds the hinge loss of
each image's score against its own label. Adam (lr 1e-3, betas (0.9, 0.99), eps 1e-5).
Then the SNR of the stochastic gradient w.r.t. N1's last layer at initialization, k = 1..4, and the
synthetic "stocks" experiment (end-to-end allocation vs a supervised best-stock estimator).

This module holds the settings, the training, the plan and the claims; the networks, the SNR estimators and
the stocks experiment live in ``e2e_networks.py``, ``e2e_snr.py`` and ``e2e_stocks.py``.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from demos import runner
from demos.common import DemoResult, plot_band, progress, run_demo, run_single, save_figure
from demos.e2e_networks import ADAM, APPROACHES, COLORS, build_tuple_net, tuple_accuracy, tuple_feed
from demos.e2e_snr import plot_snr, snr_key, snr_markdown, snr_table
from demos.e2e_stocks import STOCK_APPROACHES, iterations_to, plot_stocks, stock_snr, train_stocks
from demos.runner import NO_CHECKPOINT, Checkpoint, Run
from tinygrad_cg import data, optim


@dataclass
class Settings:
    ks: tuple[int, ...] = (1, 2, 3, 4)
    batch: int = 200                  # tuples per step [orig]
    iterations: int = 20_000          # [orig]
    eval_every: int = 100             # [orig]
    test_tuples: int = 2_000          # [orig]
    lr: float = 1e-3                  # [orig]
    snr_ks: tuple[int, ...] = (1, 2, 3, 4)
    snr_images: int = 60_000          # fresh images through N1 for the SNR estimates
    snr_groups: int = 50              # disjoint groups of images (see crossfit_snr)
    # [ours] tuples per group (at most the group's distinct k-tuples). The estimate's standard error is
    # about 1.4 / (groups x tuples): the original's 500,000 tuples resolve an SNR of ~3e-6, too coarse to
    # show end-to-end's fall at k = 4 on every seed; 50 x 40,000 = 2M tuples resolve ~7e-7.
    snr_tuples_per_group: int = 40_000
    stock_ks: tuple[int, ...] = (10, 30, 100, 300)
    stock_snr_examples: int = 200_000
    stock_iterations: int = 2_500     # [orig]
    e2e_fails_below: float = 0.60     # "near chance" for the end-to-end failure claim
    timing_iterations: int = 5        # steps timed per k for the paper-scale projection


PAPER = Settings()
# [ours] the paper's batch, data, network, optimizer and evaluation, with 1,000 instead of 20,000 iterations:
# about an hour for three seeds on 2 cores (two single-threaded workers; a one-core step of 200 tuples takes
# ~0.1 s per image of the tuple). Decomposition learns every k within it (k = 4: 0.83 after 500 iterations in
# a pilot); the end-to-end failure at larger k must show within this budget, and the report says it is 1/20
# of the paper's (in the pilot, end-to-end learned k = 2 abruptly at iteration ~800).
MEDIUM = Settings(iterations=1_000, timing_iterations=3)
# [ours] minutes: k = 1 and 4, 16 tuples a step. Decomposition learns 4-bit parity abruptly, its curve first
# at or above 0.8 at iteration 600-900 on seeds 0..8; 1,200 iterations leave 300 for a late seed (with 800,
# seed 5 was still rising at the end: 0.73 against the bound 0.825). End-to-end stays at chance throughout.
# Evaluated every 200 iterations: an evaluation of 2,000 tuples costs as much as ~40 training steps at k = 4,
# and the final accuracy (median of the evaluations at 800, 1,000, 1,200) needs the curve learned by 1,000.
QUICK = Settings(ks=(1, 4), batch=16, iterations=1_200, eval_every=200, lr=2e-3, test_tuples=2_000, snr_ks=(1, 4),
                 snr_images=30_000, snr_groups=30, snr_tuples_per_group=40_000, stock_ks=(10, 30, 100),
                 stock_snr_examples=50_000, stock_iterations=600, timing_iterations=1)


# --- training -----------------------------------------------------------------------------------

def train(approach: str, k: int, settings: Settings, seed: int, test: dict, show_progress: bool,
          checkpoint: Checkpoint = NO_CHECKPOINT) -> dict:
    """Train a fresh TupleNet (same initial weights for both approaches: same seed) and return the
    held-out accuracy every ``eval_every`` iterations and the seconds spent in training steps.

    Every few minutes (``checkpoint``) the parameters, Adam's state, the batch generator's state and the
    curve so far are saved; a restarted run continues from there and ends with the same numbers."""
    net = build_tuple_net(k, np.random.default_rng(seed))
    graph = net.loss_graph(approach)
    opt = optim.Adam(graph.variables, lr=settings.lr, **ADAM)
    rng = np.random.default_rng([seed, k, APPROACHES.index(approach)])
    iterations, accuracy, step_seconds, first = [0], [tuple_accuracy(net, test)], 0.0, 1
    if (state := checkpoint.load()) is not None:
        for variable, value in zip(graph.variables, state["parameters"], strict=True):
            variable.output = value
        opt.load_state_dict(state["optimizer"])
        rng.bit_generator.state = state["rng"]
        iterations, accuracy, step_seconds = list(state["iterations"]), list(state["accuracy"]), state["seconds"]
        first = state["iteration"] + 1

    def snapshot(it: int) -> dict:
        return dict(parameters=[v.output for v in graph.variables], optimizer=opt.state_dict(),
                    rng=rng.bit_generator.state, iterations=iterations, accuracy=accuracy, seconds=step_seconds,
                    iteration=it)

    for it in progress(range(first, settings.iterations + 1), f"k={k} {approach}", enabled=show_progress):
        feed = tuple_feed(k, settings.batch, rng, with_labels=approach == "decomposition")
        start = time.perf_counter()
        graph.forward(feed)
        graph.backward()
        opt.step()
        step_seconds += time.perf_counter() - start
        if it % settings.eval_every == 0:
            iterations.append(it)
            accuracy.append(tuple_accuracy(net, test))
        checkpoint.maybe_save(lambda it=it: snapshot(it))
    return dict(iterations=np.array(iterations), accuracy=np.array(accuracy), step_seconds=step_seconds)


def attainable_accuracy(k: int, image_accuracy: float) -> float:
    """Tuple accuracy of the exact parity of k image predictions that are each right with probability p,
    independently: P(an even number of mistakes) = (1 + (2p - 1)^k) / 2."""
    return (1 + (2 * image_accuracy - 1) ** k) / 2


def ambiguous_fraction(n: int, rng: np.random.Generator) -> float:
    """The fraction of line images whose pixels lie in one row or one column. Such an image is drawn
    just as often from an up-sloping as from a down-sloping line, so no classifier beats a coin on it:
    the per-image accuracy is at most 1 - fraction / 2 (the Bayes bound of this data)."""
    images, _ = data.line_images(n, rng)
    rows = images[:, 0].any(axis=2).sum(axis=1)
    cols = images[:, 0].any(axis=1).sum(axis=1)
    return float(np.mean((rows <= 1) | (cols <= 1)))


def time_paper_steps(settings: Settings, seed: int) -> dict[int, float]:
    """Median seconds of one paper-scale step (batch 200 tuples, decomposition loss) for each k."""
    seconds = {}
    for k in (1, 2, 3, 4):
        net = build_tuple_net(k, np.random.default_rng(seed))
        graph = net.loss_graph("decomposition")
        opt = optim.Adam(graph.variables, lr=PAPER.lr, **ADAM)
        rng = np.random.default_rng(seed)
        times = []
        for _ in range(settings.timing_iterations + 1):  # the first call compiles / warms the caches
            feed = tuple_feed(k, PAPER.batch, rng)
            start = time.perf_counter()
            graph.forward(feed)
            graph.backward()
            opt.step()
            times.append(time.perf_counter() - start)
        seconds[k] = float(np.median(times[1:]))
    return seconds


# --- figures ------------------------------------------------------------------------------------

def plot_accuracy(settings: Settings, results: dict, out: Path) -> Path:
    seeds = list(results)
    attainable = {k: np.median([attainable_accuracy(k, 1 - results[s]["ambiguous images"]["fraction"] / 2)
                                for s in seeds]) for k in settings.ks}
    fig, axes = plt.subplots(1, len(settings.ks), figsize=(3.6 * len(settings.ks), 3.2), sharey=True, squeeze=False)
    for ax, k in zip(axes[0], settings.ks, strict=True):
        for approach in APPROACHES:
            runs = [results[s][f"train k={k} {approach}"] for s in seeds]
            plot_band(ax, runs[0]["iterations"], [r["accuracy"] for r in runs], label=approach,
                      color=COLORS[approach])
        ax.axhline(attainable[k], color="gray", ls="--", lw=1, label="best attainable")
        ax.axhline(0.5, color="gray", ls=":", lw=1)
        ax.set_title(f"k = {k}")
        ax.set_xlabel("iteration")
        ax.set_ylim(0.3, 1.0)
    axes[0, 0].set_ylabel("held-out tuple accuracy")
    axes[0, 0].legend(fontsize=7, loc="lower right")
    return save_figure(fig, out / "e2e_vs_decomposition_accuracy.png")


# --- the plan: runs, then one seed's claims, then the figures over seeds -------------------------

def train_run(settings: Settings, seed: int, k: int, approach: str, checkpoint: Checkpoint = NO_CHECKPOINT) -> dict:
    test = tuple_feed(k, settings.test_tuples, np.random.default_rng([seed, 3, k]), with_labels=False)
    return train(approach, k, settings, seed, test, runner.inner_progress(), checkpoint)


def ambiguity_run(settings: Settings, seed: int) -> dict:
    return {"fraction": ambiguous_fraction(200_000, np.random.default_rng([seed, 5]))}


def snr_run(settings: Settings, seed: int) -> dict:
    return snr_table(settings, seed)


def stocks_run(settings: Settings, seed: int, approach: str) -> dict:
    return train_stocks(approach, settings, seed, runner.inner_progress())


def stock_snr_run(settings: Settings, seed: int) -> dict:
    return {f"{a}|{k}": stock_snr(a, k, settings.stock_snr_examples, seed)
            for a in STOCK_APPROACHES for k in settings.stock_ks}


def timing_run(settings: Settings, seed: int) -> dict:
    """Seconds of one paper-scale step per k, measured wherever this run executes (a Dask worker has one
    thread: its times are a one-core projection)."""
    return {str(k): seconds for k, seconds in time_paper_steps(settings, seed).items()}


def plan(settings: Settings) -> list[Run]:
    # the long runs first (a training run costs ~k): the runner hands them out in this order
    return ([Run(f"train k={k} {a}", train_run, {"k": k, "approach": a})
             for k in sorted(settings.ks, reverse=True) for a in APPROACHES]
            + [Run("ambiguous images", ambiguity_run), Run("snr", snr_run)]
            + [Run(f"stocks {a}", stocks_run, {"approach": a}) for a in STOCK_APPROACHES]
            + [Run("stock snr", stock_snr_run), Run("paper-scale step timing", timing_run)])


def final_accuracy(curve) -> float:
    """The accuracy a training curve ended at: the median of its last three evaluations.

    With 16 tuples a step (the quick plan) Adam's iterate makes short excursions: one evaluation of a learned
    k = 1 net can read 0.87 between two of 0.94. The median ignores one such outlier, where the mean of the
    last two (used before) moved by half of it; a curve that learns only at its last evaluation does not count
    as learned."""
    return float(np.median(np.asarray(curve)[-3:]))


def judge(settings: Settings, runs: dict, seed: int) -> DemoResult:
    result = DemoResult("e2e_vs_decomposition", "End-to-end vs decomposition (Section 3)")
    ambiguous = runs["ambiguous images"]["fraction"]
    attainable = {k: attainable_accuracy(k, 1 - ambiguous / 2) for k in settings.ks}

    def final(approach, k):  # the level a curve ended at: see final_accuracy
        return final_accuracy(runs[f"train k={k} {approach}"]["accuracy"])

    shortfall = {k: attainable[k] - final("decomposition", k) for k in settings.ks}
    result.check("decomposition reaches (within 0.05) the best attainable tuple accuracy at every k",
                 "quickly reaches a good solution for every k",
                 ", ".join(f"k={k}: {final('decomposition', k):.3f} of {attainable[k]:.3f}" for k in settings.ks),
                 max(shortfall.values()) <= 0.05)
    k_min, k_max = min(settings.ks), max(settings.ks)
    result.check(f"end-to-end reaches >= 0.90 at k = {k_min}", "works for the smallest k",
                 f"{final('end-to-end', k_min):.3f}", final("end-to-end", k_min) >= 0.90)
    result.check(f"end-to-end stays near chance (<= {settings.e2e_fails_below}) at k = {k_max}",
                 "completely fails for larger k", f"{final('end-to-end', k_max):.3f}",
                 final("end-to-end", k_max) <= settings.e2e_fails_below)
    failing = [k for k in settings.ks if final("end-to-end", k) <= settings.e2e_fails_below]
    result.notes.append(
        f"smallest k (of {list(settings.ks)}) at which end-to-end fails (<= {settings.e2e_fails_below} after "
        f"{settings.iterations} iterations of {settings.batch} tuples): "
        f"{min(failing) if failing else 'none'}")

    def first_above(approach, k, level=0.8):  # learning is abrupt: when did the curve first pass `level`?
        run = runs[f"train k={k} {approach}"]
        above = np.flatnonzero(np.asarray(run["accuracy"]) >= level)
        return f"{int(run['iterations'][above[0]])}" if above.size else "never"

    result.notes.append("first evaluation at or above 0.8, end-to-end / decomposition: " + ", ".join(
        f"k={k}: {first_above('end-to-end', k)} / {first_above('decomposition', k)}" for k in settings.ks)
        + f" (of {settings.iterations} iterations; a failing k may still learn later, abruptly)")
    result.notes.append(
        f"best attainable accuracy: {ambiguous:.1%} of line images lie in one row or column, where an up- and a "
        "down-sloping line draw the same pixels, so no classifier beats (1 + (1 - that fraction)^k) / 2 on "
        f"k-tuples: {', '.join(f'k={k}: {a:.3f}' for k, a in attainable.items())}. The issue's '>= 90% for "
        "every k' is therefore out of reach for k >= 3 (and needs a perfect N1 at k = 2); the claim is "
        "stated against this bound instead")
    result.notes.append(f"plan: k in {list(settings.ks)}, batch {settings.batch} tuples, {settings.iterations} "
                        f"iterations, Adam lr {settings.lr} (paper: k = 1..4, batch 200, 20,000 iterations, "
                        f"lr 0.001); held-out accuracy on {settings.test_tuples} tuples every "
                        f"{settings.eval_every} iterations; a curve's final accuracy is the median of its "
                        "last three evaluations")

    # SNR at initialization
    snr, ks = runs["snr"], settings.snr_ks
    e2e = {k: snr[snr_key("end-to-end", k, "float64")] for k in ks}
    dec = {k: snr[snr_key("decomposition", k, "float64")]["snr"] for k in ks}
    drop = e2e[ks[0]]["snr"] / max(e2e[ks[-1]]["upper"], 1e-300)
    result.check(f"end-to-end's SNR falls by orders of magnitude from k = {ks[0]} to k = {ks[-1]}",
                 "falls steeply with k",
                 f"{e2e[ks[0]]['snr']:.1e} -> {e2e[ks[-1]]['snr']:.1e} (upper bound {e2e[ks[-1]]['upper']:.1e}): "
                 f"a fall of >= {drop:.0f}x", drop >= 100)
    spread = max(dec.values()) / min(dec.values())
    result.check("decomposition's SNR stays flat in k", "roughly constant",
                 f"{min(dec.values()):.1e} .. {max(dec.values()):.1e} (max/min {spread:.2f})", spread <= 2)
    rounding = max(snr[f"rounding|{k}"] for k in ks)
    result.remark("end-to-end's SNR at the largest k is below what float32 can resolve (we find float32's rounding "
                  "far below it: the estimate's sample size is what hides the signal)",
                  "[talk] for k >= 3 below float32 precision",
                  f"float32 rounding {rounding:.1e} of the noise; SNR at k = {ks[-1]}: {e2e[ks[-1]]['snr']:.1e} "
                  f"(upper {e2e[ks[-1]]['upper']:.1e}) in float64, "
                  f"{snr[snr_key('end-to-end', ks[-1], 'float32')]['snr']:.1e} in float32")
    result.tables.append(snr_markdown(snr, ks))
    result.notes.append(
        "SNR = ||E g||^2 / E||g - E g||^2 of the per-tuple gradient g w.r.t. the 100 weights of N1's score layer "
        f"at initialization: {settings.snr_images:,} fresh images in {settings.snr_groups} disjoint groups, "
        f"{settings.snr_tuples_per_group:,} random tuples per group (`crossfit_snr`); 'upper' = estimate + 2 "
        "standard errors, shown where the estimate is not resolved from 0. 'decomposition' follows the paper "
        "(the secondary loss of one image per tuple, so it cannot depend on k); 'decomposition objective' is "
        "the full loss decomposition trains on, whose SNR grows with k (it averages k labelled images). "
        "float32 vs float64: N1's features computed once (float32, the training dtype), then the same tuples "
        "through the head (score layer, N2, loss: where g is formed) in float32 and in float64; "
        "'float32 rounding' = the power of g32 - g64 relative to the noise, the smallest SNR float32 itself "
        "carries")

    # stocks
    stocks = {a: runs[f"stocks {a}"] for a in STOCK_APPROACHES}
    stock_snrs = runs["stock snr"]
    reach = {a: iterations_to(stocks[a], 0.9) for a in STOCK_APPROACHES}
    area = {a: float(np.mean(stocks[a]["gain"])) for a in STOCK_APPROACHES}
    supervised = "decomposition (-log p_best)"
    result.check("stocks: supervised with the best stock (log-loss), the gain curve lies above the curve of "
                 "training on the gain itself", "decomposition's curve is much better",
                 f"mean gain over the {settings.stock_iterations} iterations: "
                 + ", ".join(f"{a} {v:.3f}" for a, v in area.items())
                 + "; iterations to gain 0.9: " + ", ".join(f"{a} {v:.0f}" for a, v in reach.items()),
                 area[supervised] > area["end-to-end"])
    result.remark("stocks: supervised with the original script's loss -p_best, the gain curve lies above the "
                  "curve of training on the gain itself (we find it below with Adam lr 0.1; the counted claim uses "
                  "the classifier's log-loss, the extended paper's 'a network that outputs the best stock')",
                  "decomposition's curve is much better",
                  f"mean gain {area['decomposition (-p_best)']:.3f} vs end-to-end {area['end-to-end']:.3f}")
    sk = settings.stock_ks
    e2e_fall = stock_snrs[f"end-to-end|{sk[0]}"] / stock_snrs[f"end-to-end|{sk[-1]}"]
    dec_values = [stock_snrs[f"{supervised}|{k}"] for k in sk]
    dec_spread = max(dec_values) / min(dec_values)
    result.check(f"stocks: end-to-end's SNR falls with k ({sk[0]} -> {sk[-1]}), decomposition's does not",
                 "end-to-end's falls with k; decomposition's does not depend on k",
                 f"end-to-end falls {e2e_fall:.1f}x; decomposition (-log p_best) varies {dec_spread:.2f}x",
                 e2e_fall >= 5 and dec_spread <= 1.5)
    result.tables.append("\n".join(
        ["| stocks k | " + " | ".join(f"SNR {a}" for a in STOCK_APPROACHES) + " |",
         "| --- | " + " | ".join("---" for _ in STOCK_APPROACHES) + " |"]
        + [f"| {k} | " + " | ".join(f"{stock_snrs[f'{a}|{k}']:.2e}" for a in STOCK_APPROACHES) + " |"
           for k in sk]))
    result.notes.append(
        "stocks: with Adam (lr 0.1) the -p_best loss of REPRODUCTION.md trains *slower* than the end-to-end gain "
        f"(gain 0.9 at iteration {reach['decomposition (-p_best)']:.0f} vs {reach['end-to-end']:.0f}): its "
        "gradient p_best (e_best - p) vanishes as p_best -> 0 or 1 and Adam's per-coordinate scaling "
        "undoes its clean direction; the classifier's log-loss (gradient p - e_best) shows the paper's "
        "advantage. Both supervised losses have an SNR that does not depend on k")

    # how long the paper-scale plan takes (the decomposition step is timed; end-to-end's differs only by
    # the tiny secondary loss)
    step = {int(k): seconds for k, seconds in runs["paper-scale step timing"].items()}
    projected = sum(2 * PAPER.iterations * step[k] for k in step)
    trained = sum(runs[f"train k={k} {a}"]["step_seconds"] for k in settings.ks for a in APPROACHES)
    result.tables.append(timing_markdown(step, projected, trained))
    return result


def figures(settings: Settings, results: dict, out: Path) -> list[Path]:
    return [plot_accuracy(settings, results, out), plot_snr(results, settings.snr_ks, out),
            plot_stocks(settings, results, out)]


def run(quick: bool = False, out: Path = Path("results"), seed: int = 0, show_progress: bool = True,
        **how) -> DemoResult:
    """The demo for one seed (``common.run_demo`` takes several, workers and the cache options)."""
    return run_demo(sys.modules[__name__], quick=quick, out=out, seeds=[seed], show_progress=show_progress, **how)


def timing_markdown(step: dict, projected: float, trained: float) -> str:
    lines = ["| k | paper-scale step (200 tuples) | 20,000 steps |", "| --- | --- | --- |"]
    lines += [f"| {k} | {1e3 * s:.0f} ms | {20_000 * s / 3600:.1f} h |" for k, s in step.items()]
    lines.append(f"\nProjected paper-scale training (k = 1..4, both approaches, 20,000 steps each; evaluation "
                 f"not included): **{projected / 3600:.1f} h** where the timing run executed. This plan's training "
                 f"steps took {trained:.0f} s in all.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    return run_single(sys.modules[__name__], argv)


if __name__ == "__main__":
    raise SystemExit(main())
