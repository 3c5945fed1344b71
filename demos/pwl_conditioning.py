"""Demo 3: architecture and conditioning - piecewise-linear curves (extended paper; talk slides 10-19).

Settings (REPRODUCTION.md section 3): n = 100 points, k = 3 pieces; f = p W with W_ij = [j - i + 1]_+ and
p the k-sparse vector of slope changes; 10,000 training and 1,000 validation curves; batch 100.
The four tries of the talk, each decoding a prediction p^ back to a curve f^ = p^ W:
1. a deep autoencoder (500-100-2k | 100-100-n, ReLU), Adam lr 0.001;
2. convex regression p^ = f U (U n x n, init 0): the optimum is W^-1, but W'W is badly conditioned;
   Adam lr 1e-4 [orig], and plain SGD with its largest stable step [ours], to show that diagonal
   adaptivity does not cure the conditioning;
3. a 1-D convolution with a 3-tap filter w (init 0) on patches (f[i-2], f[i-1], f[i]); the answer is
   (1, -2, 1); Adam lr 0.05 [orig];
4. the same convolution with preconditioning: C = F'F / m over the training patches, the filter
   w = C^(-1/2) v with v trained on the whitened patches F C^(-1/2); the paper's figure used Appendix C's
   command: Adam lr 0.99, batch 10, 500 iterations [orig]. 4'. the same problem by preconditioned SGD
   along C^-1 g (equivalently, SGD on F C^(-1/2)), lr 0.01, batch 100 [ours], an extra row.
Then the measured condition numbers as n grows, with fitted exponents.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import tinygrad_cg as cg
from tinygrad_cg import data, diagnostics, optim
from tinygrad_cg import layers as L

from . import runner
from .common import DemoResult, plot_band, progress, run_demo, run_single, save_figure
from .runner import Run, run_rng

ADAM = dict(betas=(0.9, 0.999), eps=1e-8)


@dataclass
class Settings:
    n: int = 100
    k: int = 3
    train_curves: int = 10_000
    valid_curves: int = 1_000
    batch: int = 100
    checkpoints: tuple = (500, 10_000, 50_000)   # [paper] the figure's columns
    condition_ns: tuple = (25, 50, 100, 200)
    # try 4 [orig]: Appendix C's `PWL_fail1.py --FtoKConvCond --batch_size 10 --number_of_iterations 500
    # --learning_rate 0.99` (Adam, TensorFlow's default betas (0.9, 0.999), eps 1e-8)
    precond_lr: float = 0.99
    precond_batch: int = 10
    precond_iterations: int = 500
    # where Adam adds eps: "tensorflow" = PWL_fail1.py's tf.train.AdamOptimizer [orig], "torch" = torch.optim's
    adam_eps_form: str = "tensorflow"


PAPER = Settings()
# [ours] try 4's Adam step 0.1 instead of the authors' 0.99: at 0.99 the iterate leaves the exact filter again
# after reaching it (distance 0 at iteration ~260, 0.02 at 500 on seed 28) and the decoded curves ended 4-27% off
# on 3 of 30 seeds (14, 17, 28; docs/results/quick_sweep.md); at 0.1 the largest of 30 seeds is 0.0014%, at 0.3
# 0.87%. A step size at the edge of stability, so the quick plan checks the method; the paper plan keeps 0.99.
QUICK = Settings(train_curves=2_000, valid_curves=200, checkpoints=(100, 500, 2_000), precond_lr=0.1,
                 adam_eps_form="torch")
# how long a plan takes on the project's 2-core machine (docs/results/README.md; printed before a run starts)
PLAN_TIMES = {"quick": "~5 s", "paper": "~6 min a seed"}


def relative_error(decoded: np.ndarray, f: np.ndarray) -> float:
    """||f^ - f|| / ||f|| over a set of curves."""
    return float(np.linalg.norm(decoded - f) / np.linalg.norm(f))


# --- the four tries: each returns (training graph, optimizer, decode(f) -> f^) ----------------------

def try_autoencoder(s: Settings, rng):
    f_in = L.Input("f", shape=(None, s.n))
    code = cg.nn.mlp(f_in, [500, 100, 2 * s.k], rng=rng)
    decoded = cg.nn.mlp(L.ReLU(code), [100, 100, s.n], rng=rng)
    graph = cg.Graph(L.SquaredLoss(decoded, f_in), input_grads=False)
    decoder = cg.Graph(decoded, input_grads=False)
    opt = optim.Adam(graph.variables, lr=1e-3, **ADAM, eps_form=s.adam_eps_form)
    return graph, opt, lambda f: decoder.forward({"f": f}), "f"


def try_convex(s: Settings, rng, f_train: np.ndarray, optimizer: str = "Adam"):
    W = data.ramp_matrix(s.n)
    f_in, p_in = L.Input("f", shape=(None, s.n)), L.Input("p", shape=(None, s.n))
    U = L.Variable(np.zeros((s.n, s.n)), name="U")
    prediction = L.MatMul(f_in, U)
    graph = cg.Graph(L.SquaredLoss(prediction, p_in), input_grads=False)
    predict = cg.Graph(prediction, input_grads=False)
    if optimizer == "Adam":
        opt = optim.Adam([U], lr=1e-4, **ADAM, eps_form=s.adam_eps_form)
    else:  # the largest stable constant step: 1 / lambda_max of the Hessian 2 F'F / m
        opt = optim.SGD([U], lr=1 / np.linalg.eigvalsh(2 * f_train.T @ f_train / len(f_train))[-1])
    return graph, opt, lambda f: predict.forward({"f": f}) @ W, "fp"


def conv_filter_graph(s: Settings):
    """p^[i] = w . (f[i-2], f[i-1], f[i]) for i >= 2: a 1 x 3 convolution (the fused Conv2D layer) of
    the curve seen as a 1 x n image, with the 3-tap filter w as its (1, 1, 1, 3) kernel and no bias."""
    f_in, p_in = L.Input("f", shape=(None, s.n)), L.Input("p", shape=(None, s.n - 2))
    w = L.Variable(np.zeros((1, 1, 1, 3)), name="w")
    no_bias = L.Constant(np.zeros(1), name="no_bias")
    prediction = L.Flatten(L.Conv2D(L.Reshape(f_in, (1, 1, s.n)), w, no_bias))  # (N, n-2)
    loss = L.Mean(L.Square(L.Subtract(prediction, p_in)))
    return cg.Graph(loss, input_grads=False), cg.Graph(prediction, input_grads=False), w


def decode_conv(predict: cg.Graph, n: int):
    W = data.ramp_matrix(n)
    return lambda f: np.pad(predict.forward({"f": f}), ((0, 0), (2, 0))) @ W


def try_conv(s: Settings, rng):
    graph, predict, w = conv_filter_graph(s)
    return graph, optim.Adam([w], lr=0.05, **ADAM, eps_form=s.adam_eps_form), decode_conv(predict, s.n), "fp2"


def whitening(C: np.ndarray) -> np.ndarray:
    """C^(-1/2) from the eigendecomposition of the symmetric positive definite C."""
    values, vectors = np.linalg.eigh(C)
    return vectors @ np.diag(values**-0.5) @ vectors.T


def patch_covariance(f: np.ndarray) -> np.ndarray:
    """C = F'F / m over every patch (f[i-2], f[i-1], f[i]) of every curve."""
    F = np.stack([f[:, :-2], f[:, 1:-1], f[:, 2:]], axis=-1).reshape(-1, 3)
    return F.T @ F / len(F)


def try_preconditioned(s: Settings, rng, f_train: np.ndarray):
    """Try 4 as the authors ran it (``FtoKConvCondTrainer``): the patches F (rows (f[i-2], f[i-1], f[i])) times
    the constant C^(-1/2), times a trained v (init 0), so the filter is w = C^(-1/2) v and the problem in v has
    the identity as its patch covariance; Adam on v. The graph draws it as the lecture's conv: Im2Col, two
    MatMuls, RowsToImages."""
    f_in, p_in = L.Input("f", shape=(None, s.n)), L.Input("p", shape=(None, s.n - 2))
    patches = L.Im2Col(L.Reshape(f_in, (1, 1, s.n)), 1, 3)                      # (N (n-2), 3)
    whiten = L.Constant(whitening(patch_covariance(f_train)), name="C^-1/2")
    v = L.Variable(np.zeros((3, 1)), name="v")
    prediction = L.Flatten(L.RowsToImages(L.MatMul(L.MatMul(patches, whiten), v), 1, s.n - 2))  # (N, n-2)
    graph = cg.Graph(L.Mean(L.Square(L.Subtract(prediction, p_in))), input_grads=False)
    predict = cg.Graph(prediction, input_grads=False)
    return graph, optim.Adam([v], lr=s.precond_lr, **ADAM, eps_form=s.adam_eps_form), decode_conv(predict, s.n), "fp2"


def try_preconditioned_sgd(s: Settings, rng, f_train: np.ndarray):
    """Try 4' [ours]: the conv filter trained by SGD along C^-1 g (the same as SGD on F C^(-1/2))."""
    graph, predict, w = conv_filter_graph(s)
    C = patch_covariance(f_train)
    return graph, optim.PreconditionedSGD([w], lr=0.01, preconditioner=np.linalg.inv(C)), \
        decode_conv(predict, s.n), "fp2"


def learned_filter(graph: cg.Graph) -> np.ndarray | None:
    """The 3-tap filter a conv try has learned: w, or C^(-1/2) v for try 4; None for the other tries."""
    names = {layer.name for layer in graph.layers}
    if "v" in names:
        return (graph["C^-1/2"].output @ graph["v"].output).reshape(3)
    return graph["w"].output.reshape(3) if "w" in names else None


def distance_to_answer(graph: cg.Graph, n: int) -> float | None:
    """Relative distance of the learned map to the exact answer: U to W^-1 (try 2), w to (1, -2, 1)
    (tries 3, 4); None for the autoencoder, which has no single right answer."""
    if "U" in {v.name for v in graph.variables}:
        exact = np.linalg.inv(data.ramp_matrix(n))
        return float(np.linalg.norm(graph["U"].output - exact) / np.linalg.norm(exact))
    if (w := learned_filter(graph)) is not None:
        exact = np.array([1.0, -2.0, 1.0])
        return float(np.linalg.norm(w - exact) / np.linalg.norm(exact))
    return None


def train(graph, opt, feeds: str, f_train, p_train, checkpoints, decode, f_valid, rng, desc, show_progress,
          batch: int = 100, iterations: int | None = None):
    """Train on batches drawn with replacement, for ``iterations`` (default: the last checkpoint). Returns the
    decoded validation curves at each checkpoint (a checkpoint past the budget shows the final state) and the
    distance to the exact answer at log-spaced iterations."""
    snapshots, distances = {}, {}
    iterations = max(checkpoints) if iterations is None else iterations
    logged = set(np.unique(np.geomspace(1, iterations, 40).astype(int)))
    for t in progress(range(1, iterations + 1), desc, enabled=show_progress):
        rows = rng.integers(len(f_train), size=batch)
        feed = {"f": f_train[rows]}
        if feeds == "fp":
            feed["p"] = p_train[rows]
        elif feeds == "fp2":
            feed["p"] = p_train[rows][:, 2:]
        graph.forward(feed)
        graph.backward()
        opt.step()
        if t in checkpoints:
            snapshots[t] = decode(f_valid)
        if t in logged and (distance := distance_to_answer(graph, f_train.shape[1])) is not None:
            distances[t] = distance
    final = decode(f_valid)
    return {t: snapshots.get(t, final) for t in checkpoints}, distances


# --- condition numbers -------------------------------------------------------------------------------

def condition_numbers(ns, rng, curves: int = 2_000) -> dict[str, list[float]]:
    """cond(W'W) (try 2), cond(E F'F) (try 3) and cond of the preconditioned problem C^-1/2 C' C^-1/2 with C
    from one sample and C' from a fresh one (try 4), for each n."""
    out = {"convex W'W": [], "conv E[F'F]": [], "preconditioned": []}
    for n in ns:
        W = data.ramp_matrix(n)
        out["convex W'W"].append(diagnostics.condition_number(W.T @ W))
        f_a, _ = data.pwl_curves(n, 3, curves, rng)
        f_b, _ = data.pwl_curves(n, 3, curves, rng)
        C, C_fresh = patch_covariance(f_a), patch_covariance(f_b)
        out["conv E[F'F]"].append(diagnostics.condition_number(C))
        inv_sqrt = whitening(C)
        out["preconditioned"].append(diagnostics.condition_number(inv_sqrt @ C_fresh @ inv_sqrt))
    return out


TRIES = ("1. autoencoder", "2. convex (Adam)", "2'. convex (SGD)", "3. conv", "4. conv + precond.",
         "4'. conv + precond. (SGD) [ours]")


def curve_sets(s: Settings, seed: int) -> dict[str, np.ndarray]:
    """The seed's training and validation curves: regression tries (f, p) and the autoencoder's (a)."""
    rng = run_rng(seed, 0)
    f_train, p_train = data.pwl_curves(s.n, s.k, s.train_curves, rng)
    f_valid, _ = data.pwl_curves(s.n, s.k, s.valid_curves, rng)
    a_train, _ = data.pwl_curves(s.n, s.k, s.train_curves, rng, random_pieces=True)
    a_valid, _ = data.pwl_curves(s.n, s.k, s.valid_curves, rng, random_pieces=True)
    return dict(f_train=f_train, p_train=p_train, f_valid=f_valid, a_train=a_train, a_valid=a_valid)


def build_try(name: str, s: Settings, rng, f_train: np.ndarray):
    if name == "1. autoencoder":
        return try_autoencoder(s, rng)
    if name.startswith("2"):
        return try_convex(s, rng, f_train, "SGD" if "SGD" in name else "Adam")
    if name == "3. conv":
        return try_conv(s, rng)
    if name == TRIES[4]:
        return try_preconditioned(s, rng, f_train)
    return try_preconditioned_sgd(s, rng, f_train)


def try_run(s: Settings, seed: int, name: str) -> dict:
    """Train one try; its relative validation error and two decoded validation curves at each checkpoint,
    its distance to the exact answer over time, and (conv tries) the learned filter."""
    sets = curve_sets(s, seed)
    f_train, f_valid = (sets["a_train"], sets["a_valid"]) if name == "1. autoencoder" else (sets["f_train"],
                                                                                             sets["f_valid"])
    rng = run_rng(seed, 1, TRIES.index(name))
    graph, opt, decode, feeds = build_try(name, s, rng, sets["f_train"])
    budget = dict(batch=s.precond_batch, iterations=s.precond_iterations) if name == TRIES[4] else {}
    snapshots, distances = train(graph, opt, feeds, f_train, sets["p_train"], s.checkpoints, decode, f_valid, rng,
                                 name, runner.inner_progress(), **budget)
    return dict(errors=[relative_error(snapshots[t], f_valid) for t in s.checkpoints],
                shown=[snapshots[t][:2] for t in s.checkpoints], truth=f_valid[:2],
                distance_steps=np.array(list(distances), dtype=int), distances=np.array(list(distances.values())),
                w=learned_filter(graph))


def conditioning_run(s: Settings, seed: int) -> dict:
    return condition_numbers(s.condition_ns, run_rng(seed, 2))


def plan(s: Settings) -> list[Run]:
    return [Run(name, try_run, {"name": name}) for name in TRIES] + [Run("condition numbers", conditioning_run)]


def judge(s: Settings, runs: dict, seed: int) -> DemoResult:
    result = DemoResult("pwl_conditioning", "Architecture and conditioning: piecewise-linear curves")
    budget = min(s.precond_iterations, s.checkpoints[-1])
    w4 = runs["4. conv + precond."]["w"]
    result.check("try 4 recovers the filter (1, -2, 1)", "it works",
                 f"w = ({w4[0]:.4f}, {w4[1]:.4f}, {w4[2]:.4f}), max error {np.abs(w4 - [1, -2, 1]).max():.2g}",
                 np.abs(w4 - [1, -2, 1]).max() < 1e-2)
    e4 = runs["4. conv + precond."]["errors"][-1]
    result.check(f"try 4 decodes validation curves after its {budget} iterations (Adam lr {s.precond_lr}, batch "
                 f"{s.precond_batch})", "relative error < 1%",
                 f"{100 * e4:.3f}%", e4 < 0.01)
    # "the same budget" is try 4's own (Appendix C: 500 iterations), the first of the figure's columns at or past
    # it. A later column measures whether a slow try has caught up by then, which is not the claim (and try 3's
    # error there is erratic: 0.01% to 190% over seeds at 50,000 iterations; see the note).
    column = next(i for i, t in enumerate(s.checkpoints) if t >= budget or t == s.checkpoints[-1])
    same_budget, e4_then = s.checkpoints[column], runs[TRIES[4]]["errors"][column]
    for name in TRIES[:4]:
        e = runs[name]["errors"][column]
        result.check(f"{name} is several times worse at try 4's budget", "fails or is slow",
                     f"at {same_budget} iterations: {100 * e:.2f}% ({e / e4_then:.0f}x try 4's "
                     f"{100 * e4_then:.3f}%)", e >= 3 * e4_then)
    result.notes.append(f"'the same budget' is {same_budget} iterations, try 4's own. Given far longer, try 3 "
                        "may catch up (its filter approaches "
                        "(1, -2, 1) ~60x more slowly than try 4's, see the distance figure), but its error at a late "
                        "column is erratic: the decoding integrates the predicted second differences twice, "
                        "magnifying what is left of the filter's error and of Adam's jitter around it")
    w4b = runs[TRIES[5]]["w"]
    result.remark("[ours] try 4 by preconditioned SGD (lr 0.01, batch 100) recovers the filter", "it works",
                  f"w = ({w4b[0]:.4f}, {w4b[1]:.4f}, {w4b[2]:.4f}) after {s.checkpoints[-1]} iterations, "
                  f"validation error {100 * runs[TRIES[5]]['errors'][-1]:.3f}%")
    result.notes.append(f"try 4 trains {s.precond_iterations} iterations (Appendix C); in the figure its columns "
                        "past that show its final state")
    result.notes.append("relative validation error at " + ", ".join(map(str, s.checkpoints)) + " iterations: "
                        + "; ".join(f"{k}: " + " / ".join(f"{100 * v:.2f}%" for v in runs[k]["errors"])
                                    for k in TRIES))
    conds = runs["condition numbers"]
    fits = {name: float(np.polyfit(np.log(s.condition_ns), np.log(v), 1)[0]) for name, v in conds.items()}
    result.check("try 4's condition number stays near 1 for every n", "close to 1",
                 ", ".join(f"n={n}: {c:.2f}" for n, c in zip(s.condition_ns, conds["preconditioned"], strict=True)),
                 max(conds["preconditioned"]) < 10)
    convex, conv, pre = (fits[name] for name in conds)
    result.notes.append(f"fitted growth exponents: cond(W'W) ~ n^{convex:.2f} (talk: SGD needs n^3.5 "
                        f"iterations); cond(E F'F) ~ n^{conv:.2f} (talk: n^3); preconditioned ~ n^{pre:.2f} "
                        "(talk: ~1)")
    return result


def figures(s: Settings, results: dict, out: Path) -> list[Path]:
    seed = next(iter(results))
    return [plot_curves(results[seed], s.checkpoints, out), plot_distances(results, out),
            plot_conditioning(s.condition_ns, results, out)]


def plot_curves(runs: dict, checkpoints, out: Path) -> Path:
    """One row per try: two validation curves (blue) and their decoded predictions (red), the first seed."""
    fig, axes = plt.subplots(len(TRIES), len(checkpoints), figsize=(4 * len(checkpoints), 2.2 * len(TRIES)),
                             squeeze=False)
    for r, name in enumerate(TRIES):
        for c, t in enumerate(checkpoints):
            ax = axes[r, c]
            for curve in (0, 1):
                ax.plot(runs[name]["truth"][curve], "b-", lw=1.5)
                ax.plot(runs[name]["shown"][c][curve], "r--", lw=1.2)
            if r == 0:
                ax.set_title(f"{t} iterations")
            if c == 0:
                ax.set_ylabel(name, fontsize=8)
            ax.set_xticks([])
    return save_figure(fig, out / "pwl_curves.png", dpi=80)


def plot_distances(results: dict, out: Path) -> Path:
    """Relative distance to the exact answer (W^-1 for try 2, (1, -2, 1) for tries 3 and 4) vs iteration."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for name in TRIES[1:]:
        runs = [by_key[name] for by_key in results.values()]
        plot_band(ax, runs[0]["distance_steps"], [r["distances"] for r in runs], label=name, marker="o", ms=3)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("||learned - exact|| / ||exact||")
    ax.legend(fontsize=8)
    return save_figure(fig, out / "pwl_distance_to_answer.png")


def plot_conditioning(ns, results: dict, out: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6, 4))
    for name in next(iter(results.values()))["condition numbers"]:
        curves = [by_key["condition numbers"][name] for by_key in results.values()]
        slope = float(np.polyfit(np.log(ns), np.log(np.median(curves, axis=0)), 1)[0])
        plot_band(ax, ns, curves, label=f"{name} (slope {slope:.2f})", marker="o")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("n")
    ax.set_ylabel("condition number")
    ax.legend(fontsize=8)
    return save_figure(fig, out / "pwl_condition_numbers.png", dpi=90)


def run(quick: bool = False, out: Path = Path("results"), seed: int = 0, show_progress: bool = True,
        **how) -> DemoResult:
    """The demo for one seed (``common.run_demo`` takes several, workers and the cache options)."""
    return run_demo(sys.modules[__name__], quick=quick, out=out, seeds=[seed], show_progress=show_progress, **how)


def main(argv: list[str] | None = None) -> int:
    return run_single(sys.modules[__name__], argv)


if __name__ == "__main__":
    raise SystemExit(main())
