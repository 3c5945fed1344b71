"""Demo 6: depth. Signals that vanish or explode through many layers, and the fixes the lectures teach.

The lectures (seeds/003, 004): in a deep network "both forwardprop and backprop will suffer from
explosion/attenuation to zero" unless the weights are initialised to keep magnitudes (Glorot & Bengio 2010,
"Xavier", for tanh; He et al. 2015 for ReLU) or normalisation layers keep them (Ioffe & Szegedy 2015); and a
deeper plain network, even well initialised, trains worse than a shallower one (the degradation problem),
which residual connections fix (He et al. 2016). He et al.'s plain networks have BatchNorm after every layer
("we argue that this optimization difficulty is unlikely to be caused by vanishing gradients. These plain
networks are trained with BN"), so the degradation claim is judged on the plain net with BatchNorm.

The task needs no download: inputs x ~ N(0, I_16), labels the argmax of a random ReLU teacher's 10 outputs
(16 -> 64 -> 10). A small network fits its 2,048 training examples, so a deeper one that does not is failing
at optimisation, not at the task, which is what the degradation problem is about.

Two parts, every network an MLP of width 64 (input layer 16 -> 64, L hidden layers 64 -> 64, output 64 -> 10,
softmax log-loss):
1. at initialisation (float64, one batch of 256): for depths L = 2..50, each hidden layer's output std
   (forward) and the norm of its delta (backward), for six set-ups: tanh with a small std (0.05), ReLU with a
   large one (0.5), tanh with Xavier's std 1/sqrt(fan_in), ReLU with He's sqrt(2/fan_in), He + BatchNorm
   after every hidden layer, and residual blocks h <- h + W ReLU(h) (W drawn with std sqrt(2/fan_in) / sqrt(L));
   the ratio of the last hidden layer's output std to the first's, and of the first hidden layer's delta norm
   to the last's, measure what depth does to each direction;
2. training (float32, SGD with momentum 0.9, batch 64): depth 8 and 32, plain with BatchNorm (He et al.'s
   plain nets) vs residual, and (paper plan) plain without BatchNorm, the loss and accuracy on the whole
   training set. Each network trains
   at every step size of a small fixed set and is judged at its best one (the lowest final training loss), as
   the papers compare architectures: a deep plain net that *diverges* at a step size too large for it is not
   the degradation problem, which is a deeper net that trains stably and still ends higher (He et al. 2016).
   A run that diverged is never a network's best; a network whose every step size diverged failed to train.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import tinygrad_cg as cg
from tinygrad_cg import diagnostics, optim
from tinygrad_cg import layers as L

from .common import DemoResult, plot_band, run_demo, run_single, save_figure
from .runner import Run, run_rng

# Yang et al. (2019, "A mean field theory of batch normalization"): at initialisation a deep ReLU network with
# BatchNorm has gradients that explode with depth, the squared norm growing by pi / (pi - 1) per layer.
BATCHNORM_GROWTH = math.sqrt(math.pi / (math.pi - 1))  # ~1.211 per layer, for the norm


@dataclass
class Settings:
    inputs: int = 16             # x ~ N(0, I_inputs)
    width: int = 64              # every hidden layer
    classes: int = 10            # the teacher's outputs; label = argmax
    teacher_width: int = 64
    init_batch: int = 256        # examples in the batch measured at initialisation
    depths: tuple = (2, 5, 10, 20, 50)  # hidden layers, at initialisation
    small_std: float = 0.05      # the naive small init (tanh)
    large_std: float = 0.5       # the naive large init (ReLU)
    train_depths: tuple = (8, 32)
    # trained at each depth. "BatchNorm" is He et al.'s plain net (the degradation claim's); "plain" (He init, no
    # BatchNorm) is shown, not judged: at its best step size it fits the task at depth 32 too given 10,000 steps
    # (paper plan, seeds 0-2: 0.000-0.004 nats), slower than depth 8 (3,000 steps: 0.18-0.79 against <= 0.002)
    train_kinds: tuple = ("plain", "residual", "BatchNorm")
    train_examples: int = 2048   # the training set: the loss is measured on all of it
    batch: int = 64
    steps: int = 10_000
    # step sizes, each network trained at every one and judged at its best: a factor ~3 apart around the
    # lectures' 0.01. Measured (2026-12-04): the BatchNorm depth-32 net is best at 0.01 (seed 0, 10,000 steps:
    # 0.64 at 0.003, 0.33 at 0.01, 0.98 at 0.03; seed 1, 3,000 steps: 1.31 at 0.03, 1.43 at 0.1); without
    # BatchNorm depth 32 is best at 0.001 or 0.003 and diverges on most seeds at 0.03; depth 8 and the residual
    # net are best at 0.003 or 0.01
    lrs: tuple = (0.001, 0.003, 0.01)
    momentum: float = 0.9
    eval_every: int = 250
    vanish_depth: int = 20       # the claims on vanishing/exploding are judged at depths >= this
    vanish_factor: float = 1e-3  # "orders of magnitude": a ratio below this vanished (its inverse: exploded)
    keep_factor: float = 20.0    # "within a small factor": a ratio between 1/this and this
    degradation_margin: float = 0.1  # nats: the deeper plain (BatchNorm) net ends at least this far above the
                                     # shallower
    residual_slack: float = 0.02     # nats: the deeper residual net ends at most this far above the shallower


PAPER = Settings()  # 10,000 steps; the judged depths as in the quick plan
# 3,000 steps: at 2,000 the deep residual net was still falling fast on some seeds (seed 3: 0.048 against the
# shallow plain net's 0.022). The judged kinds only (the plain net without BatchNorm in the paper plan), at two
# step sizes: 0.001 was measured too (seeds 0-7, 37) and was never the best for depth 8 or the residual net
QUICK = Settings(steps=3_000, train_kinds=("BatchNorm", "residual"), lrs=(0.003, 0.01))
# how long a plan takes on the project's 2-core machine (docs/results/README.md; printed before a run starts)
PLAN_TIMES = {"quick": "~30 s", "paper": "~2.5 min a seed with --workers 2 (~5 min of one core)"}

# name: (activation, hidden std as a function of fan-in, BatchNorm after each hidden layer, residual blocks)
SETUPS = {
    "tanh, small std": ("tanh", "small", False, False),
    "ReLU, large std": ("relu", "large", False, False),
    "tanh, Xavier": ("tanh", "xavier", False, False),
    "ReLU, He": ("relu", "he", False, False),
    "ReLU, He + BatchNorm": ("relu", "he", True, False),
    "ReLU, residual": ("relu", "he", False, True),
}
KINDS = {"plain": "ReLU, He", "BatchNorm": "ReLU, He + BatchNorm", "residual": "ReLU, residual"}
COLORS = {"plain": "tab:red", "BatchNorm": "tab:green", "residual": "tab:blue"}
LABELS = {"plain": "plain, no BatchNorm", "BatchNorm": "plain + BatchNorm (He et al.'s plain net)",
          "residual": "residual"}


def teacher_task(settings: Settings, seed: int, n: int, part: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` examples of the seed's teacher: the teacher from the seed alone, the inputs from ``part``."""
    teacher = run_rng(seed, 0)
    W1 = teacher.normal(size=(settings.inputs, settings.teacher_width)) / np.sqrt(settings.inputs)
    W2 = teacher.normal(size=(settings.teacher_width, settings.classes)) / np.sqrt(settings.teacher_width)
    X = run_rng(seed, 1, part).normal(size=(n, settings.inputs))
    return X, np.argmax(np.maximum(X @ W1, 0) @ W2, axis=1).astype(np.float64)


def hidden_std(settings: Settings, rule: str, fan_in: int) -> float:
    return {"small": settings.small_std, "large": settings.large_std, "xavier": 1 / math.sqrt(fan_in),
            "he": math.sqrt(2 / fan_in)}[rule]


def build(settings: Settings, setup: str, depth: int, rng: np.random.Generator, dtype=np.float32) -> cg.Graph:
    """The MLP of ``setup`` with ``depth`` hidden layers (residual: ``depth`` blocks of one affine layer each)."""
    activation_name, rule, batch_norm, residual = SETUPS[setup]
    activation = L.Tanh if activation_name == "tanh" else L.ReLU

    def normal(std):
        return lambda shape, rng: rng.normal(0.0, std, size=shape)

    x, y = L.Input("x", shape=(None, settings.inputs)), L.Input("y", shape=(None,))
    first_std = 1 / math.sqrt(settings.inputs) if activation is L.Tanh else math.sqrt(2 / settings.inputs)
    h = activation(cg.nn.affine(x, settings.width, rng=rng, init=normal(first_std), name="input"))
    std = hidden_std(settings, rule, settings.width)
    for i in range(depth):
        if residual:  # the branch scaled by 1/sqrt(depth): the sum's variance grows to e at most, not 2^depth
            h = cg.nn.residual(h, lambda t, i=i: cg.nn.affine(L.ReLU(t), settings.width, rng=rng,
                                                              init=normal(std / math.sqrt(depth)), name=f"hidden{i}"))
            continue
        h = cg.nn.affine(h, settings.width, rng=rng, init=normal(std), name=f"hidden{i}")
        if batch_norm:
            h = cg.nn.batch_norm(h)
        h = activation(h)
    if residual:
        h = L.ReLU(h)
    logits = cg.nn.affine(h, settings.classes, rng=rng, init=normal(1 / math.sqrt(settings.width)), name="output")
    return cg.Graph(L.SoftmaxCrossEntropy(logits, y), dtype=dtype)


def hidden_rows(graph: cg.Graph) -> list:
    """``layer_norms`` of the hidden affine layers, the first one first."""
    return [row for row in diagnostics.layer_norms(graph, kinds=("Affine",)) if row.name.startswith("hidden")]


def init_run(settings: Settings, seed: int, setup: str) -> dict:
    """Per-layer forward std and delta norm at initialisation, at every depth (one batch, float64)."""
    X, Y = teacher_task(settings, seed, settings.init_batch, part=0)
    per_depth = {}
    for depth in settings.depths:
        graph = build(settings, setup, depth, run_rng(seed, 2, list(SETUPS).index(setup), depth), np.float64)
        graph.forward({"x": X, "y": Y})
        graph.backward()
        rows = hidden_rows(graph)
        per_depth[f"depth={depth}"] = {"output_std": np.array([r.output_std for r in rows]),
                                       "delta_norm": np.array([r.delta_norm for r in rows]),
                                       "weight_grad_norm": np.array([r.weight_grad_norm for r in rows])}
    return per_depth


def train_run(settings: Settings, seed: int, kind: str, depth: int, lr: float) -> dict:
    """Train one network at step size ``lr``; the loss and accuracy on the whole training set every
    ``eval_every`` steps. The initial weights and the batches depend on (seed, kind, depth) only, so the runs of
    one network at different step sizes differ in the step size alone."""
    X, Y = teacher_task(settings, seed, settings.train_examples, part=1)
    setup = KINDS[kind]
    graph = build(settings, setup, depth, run_rng(seed, 3, list(KINDS).index(kind), depth))
    opt = optim.Momentum(graph.variables, lr=lr, momentum=settings.momentum)
    batches = run_rng(seed, 4, list(KINDS).index(kind), depth)
    logits = graph.outputs[0].inputs[0]
    steps, losses, accuracies = [], [], []

    def evaluate(step: int) -> None:
        graph.eval()  # BatchNorm with its running statistics (so not before a first step): the network as used
        losses.append(float(graph.forward({"x": X, "y": Y})))
        accuracies.append(float(np.mean(np.argmax(logits.output, axis=1) == Y)))
        steps.append(step)
        graph.train()

    start = time.perf_counter()
    # a step size too large for a deep plain net overflows float32 on the way to diverging: the run reports
    # that itself (the loss not finite), so NumPy's overflow warnings would only say it twice, less clearly
    with np.errstate(over="ignore", invalid="ignore"):
        for step in range(1, settings.steps + 1):
            batch = batches.integers(0, len(X), settings.batch)
            graph.forward({"x": X[batch], "y": Y[batch]})
            graph.backward()
            opt.step()
            if step % settings.eval_every == 0:
                evaluate(step)
                if not np.isfinite(losses[-1]):  # diverged: nothing more to learn from this run
                    break
    every = np.arange(settings.eval_every, settings.steps + 1, settings.eval_every)
    pad = len(every) - len(steps)  # a diverged run's curve is NaN from there on, so curves keep one length
    return {"steps": every, "loss": np.array(losses + [np.nan] * pad),
            "accuracy": np.array(accuracies + [np.nan] * pad), "seconds": time.perf_counter() - start}


def train_key(kind: str, depth: int, lr: float) -> str:
    return f"train {kind} depth={depth} lr={lr:g}"


def plan(settings: Settings) -> list[Run]:
    trains = [Run(train_key(kind, depth, lr), train_run, {"kind": kind, "depth": depth, "lr": lr})
              for depth in sorted(settings.train_depths, reverse=True) for kind in settings.train_kinds
              for lr in settings.lrs]
    return trains + [Run(f"init {setup}", init_run, {"setup": setup}) for setup in SETUPS]


def ratios(per_depth: dict, depth: int) -> tuple[float, float]:
    """(forward, backward) at ``depth``: the last hidden layer's output std over the first's, and the first
    hidden layer's delta norm over the last's. Both 1 when depth leaves magnitudes alone; both below 1 when
    the signal vanishes on its way (forward up, backward down), above 1 when it explodes."""
    layers = per_depth[f"depth={depth}"]
    std, delta = layers["output_std"], layers["delta_norm"]
    return float(std[-1] / std[0]), float(delta[0] / delta[-1])


def growth_per_layer(per_depth: dict, depth: int) -> float:
    """The backward ratio's geometric rate: (first / last delta norm) ** (1 / (depth - 1))."""
    return ratios(per_depth, depth)[1] ** (1 / (depth - 1))


def diverged_at(run: dict) -> int | None:
    """The first evaluated step whose training loss was not finite (the run diverged), or None."""
    bad = np.flatnonzero(~np.isfinite(run["loss"]))
    return int(run["steps"][bad[0]]) if bad.size else None


def final(run: dict, key: str = "loss") -> float:
    """Where a training curve ended: the median of its last three evaluations (one noisy evaluation aside);
    a run that diverged ended at an infinite loss (and its accuracy is not defined: NaN)."""
    if diverged_at(run) is not None:
        return math.inf if key == "loss" else math.nan
    return float(np.median(run[key][-3:]))


def describe_final(run: dict) -> str:
    step = diverged_at(run)
    return f"{final(run):.3f}" if step is None else f"diverged (loss not finite) by step {step:,}"


@dataclass(frozen=True)
class Best:
    """A network (kind, depth) at the step size where it ended lowest; ``lr`` is None if every one diverged."""
    kind: str
    depth: int
    lr: float | None
    loss: float  # final training loss at that step size; inf if every step size diverged

    @property
    def trained(self) -> bool:
        return self.lr is not None

    def describe(self) -> str:
        return f"{self.loss:.3f} (lr {self.lr:g})" if self.trained else "diverged at every step size"


def best(settings: Settings, runs: dict, kind: str, depth: int) -> Best:
    """The step size of ``settings.lrs`` at which the network ended with the lowest final training loss (a
    diverged run ends at an infinite loss, so it is never the best unless all are)."""
    finals = {lr: final(runs[train_key(kind, depth, lr)]) for lr in settings.lrs}
    lr = min(finals, key=finals.get)
    return Best(kind, depth, lr if math.isfinite(finals[lr]) else None, finals[lr])


def judge(settings: Settings, runs: dict, seed: int) -> DemoResult:
    result = DemoResult("depth", "Depth: vanishing and exploding signals, and their fixes")
    deep = [d for d in settings.depths if d >= settings.vanish_depth]
    per = {setup: runs[f"init {setup}"] for setup in SETUPS}

    def at(setup, depths):
        return {d: ratios(per[setup], d) for d in depths}

    def show(values):
        return ", ".join(f"L={d}: fwd {f:.1e}, bwd {b:.1e}" for d, (f, b) in values.items())

    small, large = at("tanh, small std", deep), at("ReLU, large std", deep)
    result.check(f"a small init (tanh, std {settings.small_std}) makes both signals vanish at depth >= "
                 f"{settings.vanish_depth}", "attenuation to zero, forward and backward (lecture)", show(small),
                 all(f < settings.vanish_factor and b < settings.vanish_factor for f, b in small.values()))
    result.check(f"a large init (ReLU, std {settings.large_std}) makes both explode at depth >= "
                 f"{settings.vanish_depth}", "explosion, forward and backward (lecture)", show(large),
                 all(f > 1 / settings.vanish_factor and b > 1 / settings.vanish_factor for f, b in large.values()))
    k = settings.keep_factor
    for setup, source in (("tanh, Xavier", "Glorot & Bengio 2010"), ("ReLU, He", "He et al. 2015"),
                          ("ReLU, residual", "He et al. 2016")):
        kept = at(setup, settings.depths)
        result.check(f"{setup}: both ratios stay within a factor {k:g} at every depth up to {max(settings.depths)}",
                     f"magnitudes kept ({source})", show({d: kept[d] for d in (min(kept), max(kept))}),
                     all(1 / k < f < k and 1 / k < b < k for f, b in kept.values()))
    bn = at("ReLU, He + BatchNorm", settings.depths)
    result.check(f"BatchNorm keeps the forward signal within a factor 2 at every depth up to {max(settings.depths)}",
                 "normalisation keeps magnitudes (Ioffe & Szegedy 2015; lecture)",
                 ", ".join(f"L={d}: {f:.2f}" for d, (f, _) in bn.items()), all(0.5 < f < 2 for f, _ in bn.values()))
    rates = {d: growth_per_layer(per["ReLU, He + BatchNorm"], d) for d in deep}
    result.check("but with BatchNorm the backward signal grows geometrically, by ~sqrt(pi/(pi-1)) per layer",
                 f"gradient explosion, {BATCHNORM_GROWTH:.3f}x per layer (Yang et al. 2019)",
                 ", ".join(f"L={d}: x{bn[d][1]:.2g} in all, {r:.3f} per layer" for d, r in rates.items()),
                 all(1.1 < r < 1.35 for r in rates.values()))
    shallow, deepest = min(settings.train_depths), max(settings.train_depths)
    plain_shallow, plain_deep = best(settings, runs, "BatchNorm", shallow), best(settings, runs, "BatchNorm", deepest)
    residual_deep = best(settings, runs, "residual", deepest)
    result.check(f"degradation: at its best step size the plain net (with BatchNorm, as He et al.'s) of depth "
                 f"{deepest} trains stably and still ends with a higher training loss than the one of depth {shallow} "
                 f"(by > {settings.degradation_margin} nats; a net that diverged at every step size is a failed "
                 "run, not degradation)", "deeper plain nets train worse (He et al. 2016)",
                 f"{plain_deep.describe()} vs {plain_shallow.describe()}",
                 plain_deep.trained and plain_shallow.trained
                 and plain_deep.loss > plain_shallow.loss + settings.degradation_margin)
    result.check(f"residual connections fix it: at its best step size the residual net of depth {deepest} ends at "
                 f"or below the plain (BatchNorm) net of depth {shallow} (+{settings.residual_slack} nats)",
                 "He et al. 2016", f"{residual_deep.describe()} vs {plain_shallow.describe()}",
                 residual_deep.trained and plain_shallow.trained
                 and residual_deep.loss <= plain_shallow.loss + settings.residual_slack)
    bests = {(b.kind, b.depth): b.lr for b in (best(settings, runs, kind, depth) for kind in settings.train_kinds
                                                for depth in settings.train_depths)}
    result.tables.append("\n".join(
        ["| network | lr | final training loss | final training accuracy | wall time |",
         "| --- | --- | --- | --- | --- |"]
        + [f"| {kind} depth={depth} | {lr:g}{' (best)' if bests[kind, depth] == lr else ''} | "
           f"{describe_final(r)} | {final(r, 'accuracy'):.3f} | {r['seconds']:.0f} s |"
           for depth in sorted(settings.train_depths) for kind in settings.train_kinds for lr in settings.lrs
           for r in [runs[train_key(kind, depth, lr)]]]))
    if "plain" in settings.train_kinds:
        no_bn = {d: best(settings, runs, "plain", d).describe() for d in (shallow, deepest)}
        result.notes.append(f"without BatchNorm (not a claim): the He-initialised plain net at its best step size "
                            f"ends at {no_bn[deepest]} at depth {deepest} and {no_bn[shallow]} at depth {shallow}. "
                            "With BatchNorm the backward signal grows with depth (measured at initialisation "
                            "above): Yang et al. 2019's mean-field explanation of why deep BatchNorm nets without "
                            "residual connections train badly")
    result.notes.append(f"ratios: forward = last hidden layer's output std / first's, backward = first hidden "
                        f"layer's delta norm / last's; at initialisation, one batch of {settings.init_batch}, float64. "
                        f"Training: {settings.steps:,} steps of SGD with momentum {settings.momentum}, batch "
                        f"{settings.batch}, on {settings.train_examples:,} examples, each network at every lr of "
                        f"{', '.join(f'{lr:g}' for lr in settings.lrs)} and judged at its best (the lowest final "
                        "training loss; final = median of the last three evaluations)")
    return result


def figures(settings: Settings, results: dict, out: Path) -> list[Path]:
    """Per-layer norms at the largest depth (one panel per set-up), the ratios against depth, and the
    training curves (median and min-max band over seeds)."""
    seeds = list(results)
    deepest = max(settings.depths)
    fig, axes = plt.subplots(2, 3, figsize=(14, 7.5), sharey=True)
    for ax, setup in zip(axes.flat, SETUPS, strict=True):
        for quantity, style in (("output_std", dict(color="tab:orange", ls="--")),
                                ("delta_norm", dict(color="tab:blue"))):
            curves = [results[s][f"init {setup}"][f"depth={deepest}"][quantity] for s in seeds]
            plot_band(ax, np.arange(1, len(curves[0]) + 1), curves,
                      label="forward: output std" if quantity == "output_std" else "backward: ||delta||", **style)
        ax.set_yscale("log")
        ax.set_title(f"{setup} (L = {deepest})", fontsize=10)
        ax.set_xlabel("hidden layer")
    axes.flat[0].legend(fontsize=8)
    for row in axes:
        row[0].set_ylabel("output std and ||delta|| of each\nhidden layer, at initialisation")
    per_layer = save_figure(fig, out / "depth_per_layer.png")

    fig, (forward, backward) = plt.subplots(1, 2, figsize=(12, 4.2), sharey=True)
    for setup in SETUPS:
        for ax, which in ((forward, 0), (backward, 1)):
            curves = [[ratios(results[s][f"init {setup}"], d)[which] for d in settings.depths] for s in seeds]
            plot_band(ax, settings.depths, curves, label=setup, marker="o", ms=3)
    for ax, title in ((forward, "forward: last / first hidden output std"),
                      (backward, "backward: first / last hidden ||delta||")):
        ax.set_xscale("log")
        ax.set_xticks(settings.depths, [str(d) for d in settings.depths])
        ax.minorticks_off()
        ax.set_yscale("log")
        ax.axhspan(1 / settings.keep_factor, settings.keep_factor, color="0.9", zorder=0)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("depth L (hidden layers)")
    backward.plot(settings.depths, [BATCHNORM_GROWTH ** (d - 1) for d in settings.depths], "k:", lw=1,
                  label="sqrt(pi/(pi-1))^(L-1) (Yang et al. 2019)")
    backward.legend(fontsize=7)
    ratio_path = save_figure(fig, out / "depth_ratios.png")

    fig, axes = plt.subplots(2, len(settings.train_depths), figsize=(6 * len(settings.train_depths), 7), sharey="row")
    failed = []  # networks that diverged at every step size: no curve to draw
    for column, depth in enumerate(sorted(settings.train_depths)):
        for kind in settings.train_kinds:
            runs = []
            for s in seeds:
                chosen = best(settings, results[s], kind, depth)
                if chosen.trained:
                    runs.append(results[s][train_key(kind, depth, chosen.lr)])
                else:
                    failed.append(f"{kind} depth={depth} (seed {s})")
            for row, key in enumerate(("loss", "accuracy")):
                if runs:
                    plot_band(axes[row, column], runs[0]["steps"], [r[key] for r in runs], label=LABELS[kind],
                              color=COLORS[kind])
        axes[0, column].set_title(f"depth {depth}, each network at its best step size", fontsize=10)
        axes[0, column].set_yscale("log")
        axes[1, column].set_xlabel("SGD step")
    axes[0, 0].set_ylabel("training loss (whole training set)")
    axes[1, 0].set_ylabel("training accuracy")
    axes[0, 0].legend(fontsize=9)
    if failed:
        fig.suptitle("diverged at every step size (not drawn): " + ", ".join(failed), fontsize=9)
    training = save_figure(fig, out / "depth_training.png")
    return [per_layer, ratio_path, training]


def run(quick: bool = False, out: Path = Path("results"), seed: int = 0, show_progress: bool = True,
        **how) -> DemoResult:
    """The demo for one seed (``common.run_demo`` takes several, workers and the cache options)."""
    return run_demo(sys.modules[__name__], quick=quick, out=out, seeds=[seed], show_progress=show_progress, **how)


def main(argv: list[str] | None = None) -> int:
    return run_single(sys.modules[__name__], argv)


if __name__ == "__main__":
    raise SystemExit(main())
