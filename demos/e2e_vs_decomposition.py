"""Demo 2: end-to-end vs decomposition, with the SNR analysis (paper Section 3; extended version's stocks).

Settings (REPRODUCTION.md section 2): k-tuples of 28x28 line images, target = parity of the k
"slopes up" labels. N1 (conv 5x5x16 'same' + max-pool 2, twice, Affine 50 + ReLU, Affine 100 + ReLU,
Affine 1) scores every image with shared weights; sigmoid; N2 (Affine k -> 100 + ReLU, Affine 1) scores
the tuple. End-to-end minimizes the hinge loss on the tuple score; decomposition adds the hinge loss of
each image's score against its own label. Adam (lr 1e-3, betas (0.9, 0.99), eps 1e-5).
Then the SNR of the stochastic gradient w.r.t. N1's last layer at initialization, k = 1..4, and the
synthetic "stocks" experiment (end-to-end allocation vs a supervised best-stock estimator).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import tinygrad_cg as cg
from demos.common import DemoResult, progress, run_single, save_figure
from tinygrad_cg import data, optim
from tinygrad_cg import layers as L

ADAM = dict(betas=(0.9, 0.99), eps=1e-5)  # [orig]
APPROACHES = ("end-to-end", "decomposition")
COLORS = {"end-to-end": "red", "decomposition": "blue"}


@dataclass
class Settings:
    ks: tuple[int, ...] = (1, 2, 3, 4)
    batch: int = 200                  # tuples per step [orig]
    iterations: int = 20_000          # [orig]
    eval_every: int = 100             # [orig]
    test_tuples: int = 2_000          # [orig]
    lr: float = 1e-3                  # [orig]
    snr_ks: tuple[int, ...] = (1, 2, 3, 4)
    snr_images: int = 200_000         # images through N1 per SNR estimate (split into k-tuples)
    stock_ks: tuple[int, ...] = (10, 30, 100, 300)
    stock_snr_examples: int = 200_000
    stock_iterations: int = 2_500     # [orig]
    e2e_fails_below: float = 0.60     # "near chance" for the end-to-end failure claim
    timing_iterations: int = 5        # steps timed per k for the paper-scale projection


PAPER = Settings()
QUICK = Settings(ks=(1, 4), batch=32, iterations=400, eval_every=50, test_tuples=500, snr_images=24_000,
                 stock_snr_examples=100_000, timing_iterations=3)


# --- the networks -------------------------------------------------------------------------------

def n1_features(images: cg.Layer, rng: np.random.Generator) -> cg.Layer:
    """N1 up to its last hidden layer: (N, 1, 28, 28) -> (N, 100). 'Same' padding is padding = 2 for 5x5."""
    h = L.MaxPool2D(cg.nn.conv2d(images, 16, 5, padding=2, rng=rng, name="conv1"), 2)   # 16 x 14 x 14
    h = L.MaxPool2D(cg.nn.conv2d(h, 16, 5, padding=2, rng=rng, name="conv2"), 2)        # 16 x 7 x 7
    h = L.ReLU(cg.nn.affine(L.Flatten(h), 50, rng=rng, name="fc1"))
    return L.ReLU(cg.nn.affine(h, 100, rng=rng, name="fc2"))


@dataclass
class TupleNet:
    """N1 applied to every image of a tuple (shared weights), then N2; the graphs the demo runs.

    Feeds: ``images`` (N*k, 1, 28, 28) tuple-major, ``labels`` (N*k, 1) per image, ``target`` (N, 1).
    """

    k: int
    score: cg.Layer          # N1's output, one score per image (N*k, 1): its W is "the last layer of N1"
    tuple_score: cg.Layer    # N2's output (N, 1)
    primary: cg.Layer        # hinge(tuple score, target)
    secondary: cg.Layer      # hinge(image score, image label)
    graphs: dict[str, cg.Graph] = field(default_factory=dict)

    def loss_graph(self, approach: str) -> cg.Graph:
        if approach not in self.graphs:
            loss = self.primary if approach == "end-to-end" else L.Add(self.primary, self.secondary, name="loss")
            self.graphs[approach] = cg.Graph(loss, input_grads=False)
        return self.graphs[approach]

    def predictor(self) -> cg.Graph:
        if "predict" not in self.graphs:
            self.graphs["predict"] = cg.Graph(self.tuple_score, input_grads=False)
        return self.graphs["predict"]


def tuple_head(features: cg.Layer, k: int, rng: np.random.Generator):
    """N1's last layer (100 -> 1 score), the sigmoid link, grouping per tuple, and N2 (k -> 100 -> 1)."""
    score = cg.nn.affine(features, 1, rng=rng, name="score")
    links = L.GroupRows(L.Sigmoid(score), k, name="tuple_links")             # (N, k)
    hidden = L.ReLU(cg.nn.affine(links, 100, rng=rng, name="n2_hidden"))
    return score, cg.nn.affine(hidden, 1, rng=rng, name="tuple_score")


def build_tuple_net(k: int, rng: np.random.Generator) -> TupleNet:
    images = L.Input("images", shape=(None, 1, 28, 28))
    labels, target = L.Input("labels", shape=(None, 1)), L.Input("target", shape=(None, 1))
    score, tuple_score = tuple_head(n1_features(images, rng), k, rng)
    return TupleNet(k, score, tuple_score, L.HingeLoss(tuple_score, target, name="primary"),
                    L.HingeLoss(score, labels, name="secondary"))


def tuple_feed(k: int, n: int, rng: np.random.Generator, with_labels: bool = True) -> dict[str, np.ndarray]:
    images, labels, target = data.line_tuples(k, n, rng)
    feed = {"images": images.reshape(n * k, 1, 28, 28), "target": target}
    if with_labels:
        feed["labels"] = labels.reshape(n * k, 1)
    return feed


def tuple_accuracy(net: TupleNet, test: dict[str, np.ndarray], chunk: int = 250) -> float:
    """0-1 accuracy of sign(tuple score) against the parity target on held-out tuples."""
    predictor, k = net.predictor(), net.k
    correct = 0
    for start in range(0, len(test["target"]), chunk):
        images = test["images"][start * k:(start + chunk) * k]
        score = predictor.forward({"images": images})
        correct += int(np.sum(np.where(score >= 0, 1.0, -1.0) == test["target"][start:start + chunk]))
    return correct / len(test["target"])


# --- training -----------------------------------------------------------------------------------

def train(approach: str, k: int, settings: Settings, seed: int, test: dict, show_progress: bool) -> dict:
    """Train a fresh TupleNet (same initial weights for both approaches: same seed) and return the
    held-out accuracy every ``eval_every`` iterations and the seconds spent in training steps."""
    net = build_tuple_net(k, np.random.default_rng(seed))
    graph = net.loss_graph(approach)
    opt = optim.Adam(graph.variables, lr=settings.lr, **ADAM)
    rng = np.random.default_rng([seed, k, APPROACHES.index(approach)])
    iterations, accuracy, step_seconds = [0], [tuple_accuracy(net, test)], 0.0
    for it in progress(range(1, settings.iterations + 1), f"k={k} {approach}", enabled=show_progress):
        feed = tuple_feed(k, settings.batch, rng, with_labels=approach == "decomposition")
        start = time.perf_counter()
        graph.forward(feed)
        graph.backward()
        opt.step()
        step_seconds += time.perf_counter() - start
        if it % settings.eval_every == 0:
            iterations.append(it)
            accuracy.append(tuple_accuracy(net, test))
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


# --- SNR at initialization ----------------------------------------------------------------------

def image_features(n: int, seed: int, dtype, rng: np.random.Generator, chunk: int = 1_000):
    """N1's last hidden layer (N, 100) at initialization (weights from ``seed``) on n fresh line images,
    computed in ``dtype``; also the images' labels."""
    graph = cg.Graph(n1_features(L.Input("images", shape=(None, 1, 28, 28)), np.random.default_rng(seed)),
                     dtype=dtype, input_grads=False)
    features, labels = [], []
    for start in range(0, n, chunk):
        images, lab = data.line_images(min(chunk, n - start), rng)
        features.append(graph.forward({"images": images}).copy())
        labels.append(lab)
    return np.concatenate(features), np.concatenate(labels)


def per_example_score_gradients(features: np.ndarray, labels: np.ndarray, k: int, approach: str, seed: int,
                                dtype) -> np.ndarray:
    """Per-example gradients of the loss w.r.t. the score layer's weights W (100,), one row per tuple.

    The library's backward pass gives delta at the score (N*k, 1) for the batch-mean loss, so tuple i's
    own gradient is N * sum over its images l of features_l * delta_l (W enters only through the scores).
    End-to-end: the primary (tuple) loss on consecutive k-tuples. Decomposition: the secondary loss on
    one image per tuple (the paper's choice), the same for every k.
    """
    rng = np.random.default_rng(seed)
    features_in = L.Input("features", shape=(None, 100))
    if approach == "end-to-end":
        score, tuple_score = tuple_head(features_in, k, rng)
        target = L.Input("target", shape=(None, 1))
        graph = cg.Graph(L.HingeLoss(tuple_score, target), dtype=dtype, input_grads=False)
        n = len(labels) // k
        feed = {"features": features[:n * k], "target": np.prod(labels[:n * k].reshape(n, k), axis=1)[:, None]}
    else:
        score, _ = tuple_head(features_in, 1, rng)
        label = L.Input("labels", shape=(None, 1))
        graph = cg.Graph(L.HingeLoss(score, label), dtype=dtype, input_grads=False)
        n, k = len(labels) // k, 1   # one image per tuple: as many samples as the end-to-end estimate has
        feed = {"features": features[:n], "labels": labels[:n, None]}
    graph.forward(feed)
    graph.backward()
    contributions = feed["features"].astype(np.float64) * (n * score.delta.astype(np.float64))
    return contributions.reshape(n, k, -1).sum(axis=1)


def snr_table(settings: Settings, seed: int) -> dict:
    """SNR at initialization for every k and both approaches, from N1 features in float32 and float64."""
    images_seed = int(np.random.default_rng([seed, 7]).integers(2**32))
    out = {"float64": {}, "float32": {}, "rounding": {}, "samples": {}}
    # the same images and the same initial weights, computed once in each dtype
    features64, labels = image_features(settings.snr_images, seed, np.float64, np.random.default_rng(images_seed))
    features32, _ = image_features(settings.snr_images, seed, np.float32, np.random.default_rng(images_seed))
    for k in settings.snr_ks:
        for approach in APPROACHES:
            g64 = per_example_score_gradients(features64, labels, k, approach, seed + k, np.float64)
            g32 = per_example_score_gradients(features32, labels, k, approach, seed + k, np.float32)
            est64 = cg.diagnostics.gradient_snr(g64)
            out["float64"][(approach, k)] = est64
            out["float32"][(approach, k)] = cg.diagnostics.gradient_snr(g32)
            # float32's own resolution: the power of the rounding error in a per-example gradient, relative
            # to the noise: a signal below this is lost in the arithmetic, whatever the sample size
            out["rounding"][(approach, k)] = float(np.square(g32 - g64).sum(axis=1).mean()) / est64.noise
            out["samples"][(approach, k)] = len(g64)
    return out


# --- the stocks experiment (extended version) ----------------------------------------------------

STOCK_INPUTS = 1_000       # d [orig]
STOCKS = 100               # k [orig]
STOCK_BATCH = 100          # [orig]
STOCK_LR = 0.1             # [orig]


def stock_allocation(d: int, k: int, rng: np.random.Generator):
    """Affine(d -> k), softmax: p = the allocation; loss = -(1/N) sum_n p_n . v_n.

    Feeding v = z (the gains) makes the loss minus the mean gain: the end-to-end objective. Feeding
    v = e_best (one-hot of the best stock) makes it -E[p_best]: the decomposition (supervised) one.
    """
    x, v = L.Input("x", shape=(None, d)), L.Input("v", shape=(None, k))
    logits = cg.nn.affine(x, k, rng=rng, name="allocation")
    p = L.Softmax(logits)
    loss = L.Multiply(L.Constant(-float(k)), L.Mean(L.Multiply(p, v)), name="minus_gain")
    return logits, p, cg.Graph(loss, input_grads=False)


def stock_targets(approach: str, z: np.ndarray, best: np.ndarray) -> np.ndarray:
    return z if approach == "end-to-end" else np.eye(z.shape[1])[best]


def train_stocks(approach: str, settings: Settings, seed: int, show_progress: bool) -> dict:
    rng = np.random.default_rng([seed, 11])
    best_stock = rng.integers(STOCKS, size=STOCK_INPUTS)
    _, p, graph = stock_allocation(STOCK_INPUTS, STOCKS, np.random.default_rng(seed))
    predict = cg.Graph(p, input_grads=False)
    opt = optim.Adam(graph.variables, lr=STOCK_LR, **ADAM)
    data_rng = np.random.default_rng([seed, 12, APPROACHES.index(approach)])
    iterations, gains = [], []
    for it in progress(range(settings.stock_iterations + 1), f"stocks {approach}", enabled=show_progress):
        if it % 100 == 0:  # the end-to-end gain on 500 fresh examples [orig]
            x, z, _ = data.stock_gains(500, best_stock, STOCKS, data_rng)
            iterations.append(it)
            gains.append(float(np.mean(np.sum(predict.forward({"x": x}) * z, axis=1))))
        if it == settings.stock_iterations:
            break
        x, z, best = data.stock_gains(STOCK_BATCH, best_stock, STOCKS, data_rng)
        graph.forward({"x": x, "v": stock_targets(approach, z, best)})
        graph.backward()
        opt.step()
    return dict(iterations=np.array(iterations), gain=np.array(gains))


def stock_snr(approach: str, k: int, examples: int, seed: int, chunk: int = 10_000) -> float:
    """SNR of the per-example gradient w.r.t. the allocation weights W (d x k) at initialization.

    x = e_i makes example j's gradient nonzero only in row i_j, equal to r_j = N * delta_logits[j] (the
    library's backward pass for the batch-mean loss). So the mean gradient is row-wise sums and, with
    S_i = (1/m) sum_{j: i_j = i} r_j:  ||mean||^2 = sum_i ||S_i||^2,  Noi = (sum_j ||r_j||^2 - m ||mean||^2)
    / (m - 1), Sig = ||mean||^2 - Noi / m: gradient_snr's estimator without forming m x d k matrices.
    """
    rng = np.random.default_rng([seed, 13, k])
    best_stock = rng.integers(k, size=STOCK_INPUTS)
    logits, _, graph = stock_allocation(STOCK_INPUTS, k, np.random.default_rng(seed))
    graph.set_dtype(np.float64)
    row_sums = np.zeros((STOCK_INPUTS, k))
    squared = 0.0
    for start in range(0, examples, chunk):
        n = min(chunk, examples - start)
        x, z, best = data.stock_gains(n, best_stock, k, rng)
        graph.forward({"x": x, "v": stock_targets(approach, z, best)})
        graph.backward()
        r = n * logits.delta
        np.add.at(row_sums, x.argmax(axis=1), r)
        squared += float(np.square(r).sum())
    mean_sq = float(np.square(row_sums / examples).sum())
    noise = (squared - examples * mean_sq) / (examples - 1)
    return (mean_sq - noise / examples) / noise


# --- figures ------------------------------------------------------------------------------------

def plot_accuracy(curves: dict, attainable: dict, out: Path) -> Path:
    ks = sorted({k for _, k in curves})
    fig, axes = plt.subplots(1, len(ks), figsize=(3.6 * len(ks), 3.2), sharey=True, squeeze=False)
    for ax, k in zip(axes[0], ks, strict=True):
        for approach in APPROACHES:
            c = curves[(approach, k)]
            ax.plot(c["iterations"], c["accuracy"], color=COLORS[approach], label=approach)
        ax.axhline(attainable[k], color="gray", ls="--", lw=1, label="best attainable")
        ax.axhline(0.5, color="gray", ls=":", lw=1)
        ax.set_title(f"k = {k}")
        ax.set_xlabel("iteration")
        ax.set_ylim(0.3, 1.0)
    axes[0, 0].set_ylabel("held-out tuple accuracy")
    axes[0, 0].legend(fontsize=7, loc="lower right")
    return save_figure(fig, out / "e2e_vs_decomposition_accuracy.png")


def plot_snr(snr: dict, ks, out: Path) -> Path:
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for approach in APPROACHES:
        est = [snr["float64"][(approach, k)] for k in ks]
        resolved = [e.snr > 2 * e.snr_se for e in est]
        ax.plot([k for k, r in zip(ks, resolved, strict=True) if r], [e.snr for e, r in zip(est, resolved,
                strict=True) if r], "o-", color=COLORS[approach], label=f"{approach} (float64)")
        ax.plot([k for k, r in zip(ks, resolved, strict=True) if not r],
                [e.upper() for e, r in zip(est, resolved, strict=True) if not r], "v", color=COLORS[approach],
                label=f"{approach}: upper bound (not resolved)")
        ax.plot(ks, [max(snr["float32"][(approach, k)].snr, 1e-30) for k in ks], "x", color=COLORS[approach],
                ms=9, label=f"{approach} (float32)")
    ax.axhline(float(np.finfo(np.float32).eps), color="black", ls="--", lw=1, label="float32 epsilon")
    floor = max(snr["rounding"].values())
    ax.axhline(floor, color="black", ls=":", lw=1, label="float32 rounding of g (measured)")
    ax.set_yscale("log")
    ax.set_xticks(list(ks))
    ax.set_xlabel("k (images per tuple)")
    ax.set_ylabel("SNR of the gradient w.r.t. N1's last layer, at init")
    ax.legend(fontsize=6)
    return save_figure(fig, out / "e2e_vs_decomposition_snr.png")


def plot_stocks(stocks: dict, stock_snrs: dict, stock_ks, out: Path) -> Path:
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    for approach in APPROACHES:
        s = stocks[approach]
        left.plot(s["iterations"], s["gain"], color=COLORS[approach], label=approach)
        right.plot(stock_ks, [stock_snrs[(approach, k)] for k in stock_ks], "o-", color=COLORS[approach],
                   label=approach)
    left.set_xlabel("iteration")
    left.set_ylabel("gain p.z on 500 fresh examples")
    left.set_title(f"stocks: d = {STOCK_INPUTS}, k = {STOCKS}")
    left.legend(fontsize=8)
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("k (stocks)")
    right.set_ylabel("SNR at init")
    right.legend(fontsize=8)
    return save_figure(fig, out / "e2e_vs_decomposition_stocks.png")


# --- the demo -----------------------------------------------------------------------------------

def run(quick: bool = False, out: Path = Path("results"), seed: int = 0, show_progress: bool = True) -> DemoResult:
    settings = QUICK if quick else PAPER
    out.mkdir(parents=True, exist_ok=True)
    result = DemoResult("e2e_vs_decomposition", "End-to-end vs decomposition (Section 3)")
    ambiguous = ambiguous_fraction(200_000, np.random.default_rng([seed, 5]))
    attainable = {k: attainable_accuracy(k, 1 - ambiguous / 2) for k in settings.ks}

    curves = {}
    for k in settings.ks:
        test = tuple_feed(k, settings.test_tuples, np.random.default_rng([seed, 3, k]), with_labels=False)
        for approach in APPROACHES:
            curves[(approach, k)] = train(approach, k, settings, seed, test, show_progress)
    result.figures.append(plot_accuracy(curves, attainable, out))

    def final(approach, k):  # the mean of the last three evaluations: less noisy than the last one
        return float(np.mean(curves[(approach, k)]["accuracy"][-3:]))

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
    result.notes.append(
        f"best attainable accuracy: {ambiguous:.1%} of line images lie in one row or column, where an up- and a "
        "down-sloping line draw the same pixels, so no classifier beats (1 + (1 - that fraction)^k) / 2 on "
        f"k-tuples: {', '.join(f'k={k}: {a:.3f}' for k, a in attainable.items())}. The issue's '>= 90% for "
        "every k' is therefore out of reach for k >= 3 (and needs a perfect N1 at k = 2); the claim is "
        "stated against this bound instead")
    if quick:
        result.notes.append(f"quick plan: k in {list(settings.ks)}, batch {settings.batch} tuples, "
                            f"{settings.iterations} iterations, Adam lr {settings.lr} (paper: k = 1..4, batch 200, "
                            "20,000 iterations, lr 0.001); held-out accuracy on "
                            f"{settings.test_tuples} tuples every {settings.eval_every} iterations")

    # SNR at initialization
    snr = snr_table(settings, seed)
    result.figures.append(plot_snr(snr, settings.snr_ks, out))
    e2e = {k: snr["float64"][("end-to-end", k)] for k in settings.snr_ks}
    dec = {k: snr["float64"][("decomposition", k)].snr for k in settings.snr_ks}
    s_min, s_max = min(settings.snr_ks), max(settings.snr_ks)
    drop = e2e[s_min].snr / max(e2e[s_max].upper(), 1e-300)
    result.check(f"end-to-end's SNR falls by orders of magnitude from k = {s_min} to k = {s_max}",
                 "falls steeply with k",
                 f"{e2e[s_min].snr:.2e} -> {e2e[s_max].snr:.1e} (upper bound {e2e[s_max].upper():.1e}): "
                 f">= {drop:.0f}x", drop >= 100)
    spread = max(dec.values()) / min(dec.values())
    result.check("decomposition's SNR stays flat in k", "roughly constant",
                 f"{min(dec.values()):.3f} .. {max(dec.values()):.3f} (max/min {spread:.2f})", spread <= 2)
    result.tables.append(snr_markdown(snr, settings.snr_ks))
    result.notes.append(
        "SNR = ||E g||^2 / E||g - E g||^2 of the per-example gradient g w.r.t. the 100 weights of N1's score "
        f"layer at initialization, from {settings.snr_images:,} fresh images per estimate (end-to-end: "
        f"{settings.snr_images:,}/k tuples, primary loss; decomposition: as many single images, secondary loss); "
        "'upper' = estimate + 2 standard errors. The estimate resolves SNRs down to about 1 / (number of "
        "samples): below that only the bound is measured. float32 vs float64: the same images and weights in "
        "both dtypes; 'float32 rounding' is the measured power of g32 - g64 relative to the noise, i.e. the "
        "smallest SNR float32 arithmetic itself can carry")

    # stocks
    stocks = {approach: train_stocks(approach, settings, seed, show_progress) for approach in APPROACHES}
    stock_snrs = {(a, k): stock_snr(a, k, settings.stock_snr_examples, seed) for a in APPROACHES
                  for k in settings.stock_ks}
    result.figures.append(plot_stocks(stocks, stock_snrs, settings.stock_ks, out))
    gain = {a: float(np.mean(stocks[a]["gain"][-3:])) for a in APPROACHES}
    result.check("stocks: training on the decomposition loss earns more than training on the gain itself",
                 "decomposition's curve is much better",
                 f"gain after {settings.stock_iterations} iterations: decomposition {gain['decomposition']:.3f}, "
                 f"end-to-end {gain['end-to-end']:.3f} (best possible 1)",
                 gain["decomposition"] > gain["end-to-end"] + 0.05)
    ks = settings.stock_ks
    e2e_fall = stock_snrs[("end-to-end", ks[0])] / stock_snrs[("end-to-end", ks[-1])]
    dec_spread = max(stock_snrs[("decomposition", k)] for k in ks) / min(stock_snrs[("decomposition", k)] for k in ks)
    result.check(f"stocks: end-to-end's SNR falls with k ({ks[0]} -> {ks[-1]}), decomposition's does not",
                 "end-to-end's falls with k; decomposition's does not depend on k",
                 f"end-to-end falls {e2e_fall:.1f}x; decomposition varies {dec_spread:.2f}x",
                 e2e_fall >= 5 and dec_spread <= 1.5)

    # how long the paper-scale plan takes
    step = time_paper_steps(settings, seed)
    # (the decomposition step is timed; end-to-end's differs only by the tiny secondary loss)
    projected = sum(2 * PAPER.iterations * step[k] for k in step)
    result.tables.append(timing_markdown(step, projected, curves))
    return result


def snr_markdown(snr: dict, ks) -> str:
    lines = ["| k | approach | SNR (float64) | upper bound | SNR (float32) | float32 rounding | samples |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for k in ks:
        for approach in APPROACHES:
            e64, e32 = snr["float64"][(approach, k)], snr["float32"][(approach, k)]
            lines.append(f"| {k} | {approach} | {e64.snr:.3e} | {e64.upper():.2e} | {e32.snr:.3e} | "
                         f"{snr['rounding'][(approach, k)]:.1e} | {snr['samples'][(approach, k)]:,} |")
    return "\n".join(lines)


def timing_markdown(step: dict, projected: float, curves: dict) -> str:
    lines = ["| k | paper-scale step (200 tuples) | 20,000 steps |", "| --- | --- | --- |"]
    lines += [f"| {k} | {1e3 * s:.0f} ms | {20_000 * s / 3600:.1f} h |" for k, s in step.items()]
    measured = sum(c["step_seconds"] for c in curves.values())
    lines.append(f"\nProjected paper-scale training (k = 1..4, both approaches, 20,000 steps each; evaluation "
                 f"not included): **{projected / 3600:.0f} h** on this machine. This run's training steps took "
                 f"{measured:.0f} s in all.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    return run_single(sys.modules[__name__], argv)


if __name__ == "__main__":
    raise SystemExit(main())
