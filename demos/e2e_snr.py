"""End-to-end vs decomposition, part 2: the SNR of the stochastic gradient at initialization (paper Sec. 3.2).

For the weights of N1's last layer (the 100 -> 1 score layer), with g the per-tuple gradient of a loss:
Sig = ||E g||^2, Noi = E ||g - E g||^2, SNR = Sig / Noi; estimated by ``crossfit_snr`` (images reused across
tuples inside disjoint groups), for end-to-end (the primary loss, in float64 and float32) and decomposition.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np

import tinygrad_cg as cg
from tinygrad_cg import data
from tinygrad_cg import layers as L

from .common import save_figure
from .e2e_networks import n1_features, n2_head

if TYPE_CHECKING:
    from .e2e_settings import Settings


def image_features(n: int, seed: int, dtype, rng: np.random.Generator, conv_init: str = "orig", chunk: int = 1_000):
    """N1's last hidden layer (N, 100) at initialization (weights from ``seed``, conv kernels drawn as
    ``conv_init`` says) on n fresh line images, computed in ``dtype``; also the images' labels."""
    images = L.Input("images", shape=(None, 1, 28, 28))
    graph = cg.Graph(n1_features(images, np.random.default_rng(seed), conv_init), dtype=dtype, input_grads=False)
    features, labels = [], []
    for start in range(0, n, chunk):
        images, lab = data.line_images(min(chunk, n - start), rng)
        features.append(graph.forward({"images": images}).copy())
        labels.append(lab)
    return np.concatenate(features), np.concatenate(labels)


SNR_LOSSES = ("end-to-end", "decomposition", "decomposition objective")


def score_gradients(features: np.ndarray, labels: np.ndarray, tuples: np.ndarray, loss_name: str, seed: int,
                    dtype) -> np.ndarray:
    """Per-tuple gradients g (T, 100) of a loss w.r.t. the score layer's weights W, at initialization.

    ``tuples`` (T, k) indexes rows of ``features`` (N1's last hidden layer) and ``labels``. The library's
    backward pass gives delta at the score (T*k, 1) for the batch-mean loss, so tuple i's own gradient is
    T * sum over its images l of features_l * delta_l (W enters only through the scores). Losses:
    "end-to-end": the primary (tuple) loss; "decomposition": the secondary loss of the tuple's first
    image (the paper's protocol: one image per tuple); "decomposition objective": what decomposition
    trains on, primary + the secondary loss averaged over the tuple's k images. Weights from ``seed``,
    drawn as ``tuple_head`` draws them: the score layer is the same for every k (N2, drawn after it, is
    fresh for each k). Everything runs in ``dtype``.

    An image's score features @ W + b does not depend on the tuple it is in, so it is computed once per
    image and handed to the tuples (an input of the N2 graph): the same products as scoring the gathered
    (T*k, 100) rows, without gathering them (bit for bit in float64; float32 BLAS may round a last bit
    differently), and 3x faster in float64.
    """
    if loss_name == "decomposition":
        tuples = tuples[:, :1]
    count, k = tuples.shape
    rng = np.random.default_rng(seed)
    score_layer = cg.nn.affine(L.Input("features", shape=(None, 100)), 1, rng=rng, name="score")
    scores = L.Input("scores", shape=(None, 1))
    tuple_score = n2_head(scores, k, rng)
    images, rows = np.unique(tuples, return_inverse=True)  # the tuples' images, and each row's image among them
    image_scores = cg.Graph(score_layer, dtype=dtype).forward({"features": features[images].astype(dtype)})
    feed = {"scores": image_scores[rows.reshape(-1)]}
    secondary = L.HingeLoss(scores, L.Input("labels", shape=(None, 1)))
    primary = L.HingeLoss(tuple_score, L.Input("target", shape=(None, 1)))
    loss = {"end-to-end": primary, "decomposition": secondary,
            "decomposition objective": L.Add(primary, secondary)}[loss_name]
    if loss_name != "decomposition":
        feed["target"] = np.prod(labels[tuples], axis=1)[:, None]
    if loss_name != "end-to-end":
        feed["labels"] = labels[tuples.reshape(-1), None]
    graph = cg.Graph(loss, dtype=dtype)  # input gradients on: delta at the scores is what we need
    graph.forward(feed)
    graph.backward()
    # sum over the tuple's images, one image position at a time: never a float64 copy of all k*T rows
    delta = count * scores.delta.astype(np.float64).reshape(count, k)
    gradients = np.zeros((count, features.shape[1]))
    for position in range(k):
        gradients += features[tuples[:, position]] * delta[:, position, None]
    return gradients


def distinct_tuples(rng: np.random.Generator, count: int, size: int, k: int) -> np.ndarray:
    """``count`` rows of k distinct indices from range(size), each row uniform over such k-tuples: rows are
    drawn with replacement and the (rare, for k << size) rows with a repeat are drawn again. O(count k),
    where shuffling every row (argsort of a (count, size) matrix) was O(count size log size)."""
    if k > size:
        raise ValueError(f"cannot draw {k} distinct images from a group of {size}")
    tuples = rng.integers(size, size=(count, k))
    while True:
        ordered = np.sort(tuples, axis=1)
        repeated = np.any(ordered[:, 1:] == ordered[:, :-1], axis=1)
        if not repeated.any():
            return tuples
        tuples[repeated] = rng.integers(size, size=(int(repeated.sum()), k))


def original_snr(gradients: np.ndarray, batch: int) -> dict:
    """The estimator of the authors' ``tuple_rect_SNR.py``, on per-tuple gradients g (T, D) of independent
    tuples (T rounded down to a multiple of ``batch``).

    The script averages g over batches of 100 tuples (g_b), then forms S = ||mean_b g_b||^2,
    V = batch * mean_b ||g_b||^2 and Noise = V - S^2 (S squared once more), and reports S / Noise. Since
    E||g_b||^2 = ||E g||^2 + Noi / batch, V estimates Noi + batch Sig, so Noise ~ Noi + batch Sig; and S
    estimates Sig + Noi / T (the mean of T gradients is never exactly E g). So the script reads about
    (Sig + Noi / T) / (Noi + batch Sig): ~1/T whenever the true SNR is below 1/T (its floor: 2e-6 for its
    500,000 tuples), and never more than ~1/batch. Returns the script's ``snr``, its ``floor`` 1/T, ``tuples``
    T, and ``paper_definition``: the paper's SNR from the same gradients with the Noi / T bias removed."""
    count = len(gradients) - len(gradients) % batch
    gradients = gradients[:count]
    g_b = gradients.reshape(count // batch, batch, -1).mean(axis=1)
    signal = float(np.square(g_b.mean(axis=0)).sum())
    spread = batch * float(np.square(g_b).sum(axis=1).mean())
    noise = float(np.square(gradients - gradients.mean(axis=0)).sum(axis=1).mean())
    return dict(snr=signal / (spread - signal**2), floor=1 / count, tuples=count,
                paper_definition=(signal - noise / count) / noise)


def crossfit_snr(features: np.ndarray, labels: np.ndarray, k: int, loss_name: str, seed: int, dtype,
                 groups: int, tuples_per_group: int, tuple_seed: int) -> tuple[float, float, np.ndarray]:
    """SNR of the per-tuple gradient, with images reused across tuples but never across groups.

    The images are split into ``groups`` disjoint groups; each group forms many random k-tuples of its
    own images (distinct within a tuple) and yields a mean gradient mu_s. Tuples of one group share
    images, so their gradients are dependent, but different groups are independent: the cross products
    mu_s . mu_t (s != t) estimate ||E g||^2 without bias, which is gradient_snr's signal term applied to
    the group means. Reusing images this way resolves far smaller signals than cutting the same images
    into disjoint tuples. Noi = E||g||^2 - ||E g||^2 over all tuples (each tuple is a fresh draw).
    Returns (snr, its standard error, the first group's gradients).
    """
    rng = np.random.default_rng(tuple_seed)
    size = len(labels) // groups
    means, squared, first = [], 0.0, None
    count = min(tuples_per_group, math.comb(size, k))  # k = 1: each image once; repeats add nothing
    for s in range(groups):
        tuples = s * size + distinct_tuples(rng, count, size, k)
        g = score_gradients(features, labels, tuples, loss_name, seed, dtype)
        first = g if first is None else first
        means.append(g.mean(axis=0))
        squared += float(np.square(g).sum())
    between = cg.diagnostics.gradient_snr(means)
    mean = np.mean(means, axis=0)
    noise = squared / (groups * count) - float(mean @ mean)
    return between.signal / noise, between.snr_se * between.noise / noise, first


def snr_key(loss_name: str, k: int, dtype: str) -> str:
    return f"{loss_name}|{k}|{dtype}"


def snr_table(settings: Settings, seed: int) -> dict:
    """SNR at initialization for every k: end-to-end (in float64 and float32) and decomposition; keys
    ``snr_key(loss, k, dtype)``, ``"rounding|k"``, and ``"original|loss|k"``: the authors' estimator
    (``original_snr``, float64) on disjoint tuples of the same images (snr_images / k of them)."""
    features, labels = image_features(settings.snr_images, seed, np.float32,
                                      np.random.default_rng([seed, 7]), settings.conv_init)
    table = {}
    for k in settings.snr_ks:
        disjoint = np.arange(len(labels) // k * k).reshape(-1, k)  # independent tuples, as the script's
        for loss_name in SNR_LOSSES[:2]:
            g = score_gradients(features, labels, disjoint, loss_name, seed, np.float64)
            table[f"original|{loss_name}|{k}"] = original_snr(g, settings.snr_original_batch)
        first = {}
        for loss_name in SNR_LOSSES:
            dtypes = (np.float64, np.float32) if loss_name == "end-to-end" else (np.float64,)
            for dtype in dtypes:
                snr, se, g = crossfit_snr(features, labels, k, loss_name, seed, dtype, settings.snr_groups,
                                          settings.snr_tuples_per_group, tuple_seed=seed + 100 * k)
                table[snr_key(loss_name, k, np.dtype(dtype).name)] = dict(snr=snr, se=se, upper=snr + 2 * se)
                first[(loss_name, np.dtype(dtype).name)] = g
        # float32's own resolution: the power of the rounding error g32 - g64 in a per-tuple gradient,
        # relative to the noise. A signal below it is lost in the arithmetic, whatever the sample size.
        g64, g32 = first[("end-to-end", "float64")], first[("end-to-end", "float32")]
        noise = float(np.square(g64 - g64.mean(axis=0)).sum(axis=1).mean())
        table[f"rounding|{k}"] = float(np.square(g32 - g64).sum(axis=1).mean()) / noise
    return table


def resolved(estimate: dict) -> str:
    """An SNR estimate as a table cell: the number where it is resolved from 0 (above 2 standard errors), else
    "not resolved from 0" with the raw estimate (which may be negative: an unbiased estimate of a tiny SNR)."""
    if "se" not in estimate or estimate["snr"] > 2 * estimate["se"]:
        return f"{estimate['snr']:.2e}"
    return f"not resolved from 0 (estimate {estimate['snr']:.1e})"


def snr_markdown(snr: dict, ks) -> str:
    lines = ["| k | gradient of | SNR (float64) | standard error | upper bound | SNR (float32) | float32 rounding |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for k in ks:
        for loss_name in SNR_LOSSES:
            r = snr[snr_key(loss_name, k, "float64")]
            f32 = snr.get(snr_key(loss_name, k, "float32"))
            extra = f"{resolved(f32)} | {snr[f'rounding|{k}']:.1e}" if f32 else " | "
            lines.append(f"| {k} | {loss_name} | {resolved(r)} | {r['se']:.1e} | {r['upper']:.1e} | {extra} |")
    lines += ["", "The authors' estimator (`tuple_rect_SNR.py`, float64) on disjoint tuples of the same images:", "",
              "| k | gradient of | tuples T | its SNR | its floor 1/T | paper's SNR of the same gradients |",
              "| --- | --- | --- | --- | --- | --- |"]
    for k in ks:
        for loss_name in SNR_LOSSES[:2]:
            o = snr[f"original|{loss_name}|{k}"]
            lines.append(f"| {k} | {loss_name} | {o['tuples']:,} | {o['snr']:.2e} | {o['floor']:.1e} | "
                         f"{o['paper_definition']:.2e} |")
    return "\n".join(lines)


def plot_snr(results: dict, ks, out: Path) -> Path:
    """log SNR vs k for each loss: one line per seed through its estimates, an open triangle (and a dashed
    line to it) where an estimate is not resolved from 0 and only its upper bound is drawn; the authors'
    estimator, float32 and the float32 lines beside them; one legend outside the axes."""
    fig, ax = plt.subplots(figsize=(9.5, 4.8))
    styles = {"end-to-end": ("red", "o"), "decomposition": ("blue", "o"),
              "decomposition objective": ("cornflowerblue", "s")}
    for number, by_key in enumerate(results.values()):
        snr = by_key["snr"]
        first = number == 0
        for loss_name, (color, marker) in styles.items():
            rows = [snr[snr_key(loss_name, k, "float64")] for k in ks]
            points = [(k, r["snr"] if r["snr"] > 2 * r["se"] else r["upper"], r["snr"] > 2 * r["se"])
                      for k, r in zip(ks, rows, strict=True)]
            last_resolved = max((i for i, (_, _, ok) in enumerate(points) if ok), default=-1)
            solid = points[:last_resolved + 1]
            ax.plot([k for k, _, _ in solid], [v for _, v, _ in solid], "-", marker=marker, color=color,
                    lw=1.5, label=loss_name if first else None)
            tail = points[max(last_resolved, 0):]
            if any(not ok for _, _, ok in tail):  # the fall continues below what the estimate resolves
                ax.plot([k for k, _, _ in tail], [v for _, v, _ in tail], "--", color=color, lw=1.2)
                bounds = [(k, v) for k, v, ok in tail if not ok]
                ax.plot(*zip(*bounds, strict=True), "v", color=color, mfc="white", ms=9,
                        label=f"{loss_name}: upper bound (not resolved from 0)" if first else None)
        for loss_name, marker in (("end-to-end", "^"), ("decomposition", "s")):
            ax.plot(ks, [snr[f"original|{loss_name}|{k}"]["snr"] for k in ks], marker, ls=":", mfc="none",
                    color=styles[loss_name][0], label=f"{loss_name}, the authors' estimator" if first else None)
        f32 = [(k, snr[snr_key("end-to-end", k, "float32")]["snr"]) for k in ks]
        f32 = [(k, v) for k, v in f32 if v > 0]
        if f32:
            ax.plot(*zip(*f32, strict=True), "x", color="black", ms=8,
                    label="end-to-end, float32 (where > 0)" if first else None)
    ax.axhline(float(np.finfo(np.float32).eps), color="black", ls="--", lw=1, label="float32 epsilon")
    rounding = max(by_key["snr"][f"rounding|{k}"] for by_key in results.values() for k in ks)
    ax.axhline(rounding, color="black", ls=":", lw=1, label="float32 rounding of g (measured)")
    ax.set_yscale("log")
    ax.set_xticks(list(ks))
    ax.set_xlabel("k (images per tuple)")
    ax.set_ylabel("SNR of the gradient w.r.t.\nN1's last layer, at init")
    ax.set_title(f"SNR vs k, {len(results)} seed(s)")
    ax.legend(fontsize=9, loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
    return save_figure(fig, out / "e2e_vs_decomposition_snr.png")
