# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 3. The failures in miniature
#
# Three of the paper's lessons at toy scale, each in seconds (the demos in `demos/` run them at full
# scale: `python -m demos all --quick`).
#
# 1. **Parities**: plain SGD learns the parity of a few bits and makes no progress at all on many bits,
#    because the gradient barely depends on which parity is the target.
# 2. **Flat activations**: through a step function the true gradient is zero, so nothing moves; the
#    forward-only update (pass delta through as if the step were the identity) learns.
# 3. **Conditioning**: on a ravine, plain gradient descent crawls along the flat direction; compare
#    optimizers from the same start with `optim.compare`.

# %%
import matplotlib.pyplot as plt
import numpy as np

import tinygrad_cg as cg
from tinygrad_cg import data, optim
from tinygrad_cg import layers as L

# %% [markdown]
# ## 1. Parities: SGD on d = 5 and d = 20 bits
#
# The paper's network: Affine(d, 10d), ReLU, Affine(10d, 1), hinge loss, plain SGD, batches of 128 fresh
# examples. The target is the product of the bits in a hidden random subset.


# %%
def train_parity(d: int, steps: int = 3000, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    x, y = L.Input("x", shape=(None, d)), L.Input("y", shape=(None, 1))
    score = cg.nn.mlp(x, [10 * d, 1], rng=rng)
    graph, predict = cg.Graph(L.HingeLoss(score, y), input_grads=False), cg.Graph(score)
    opt = optim.SGD(graph.variables, lr=0.05)
    subset = data.random_subset(d, rng)
    for _ in range(steps):
        X, Y, _ = data.parity(d, subset, 128, rng)
        graph.forward({"x": X, "y": Y})
        graph.backward()
        opt.step()
    X, Y, _ = data.parity(d, subset, 5000, rng)
    return float(np.mean(np.sign(predict.forward({"x": X})) == Y))


accuracy = {d: train_parity(d) for d in (5, 20)}
print(accuracy)
assert accuracy[5] > 0.95 and abs(accuracy[20] - 0.5) < 0.05

# %% [markdown]
# Why: Theorem 1 of the paper. At a fixed point w, the full gradient of the loss for target parity h
# varies across the $2^d$ parities by at most $G^2 / 2^d$. Measure it exactly, over every point of the
# cube, for a small network at its initialization:


# %%
def parity_gradient_variance(d: int, targets: int = 40, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    x, y = L.Input("x", shape=(None, d)), L.Input("y", shape=(None, 1))
    graph = cg.Graph(L.HingeLoss(cg.nn.mlp(x, [20, 1], rng=rng), y), dtype=np.float64, input_grads=False)
    cube = data.hypercube(d)
    gradients = []
    for _ in range(targets):
        labels = data.parity_labels(cube, data.random_subset(d, rng))
        gradients.append(cg.diagnostics.full_gradient(graph, [{"x": cube, "y": labels}]))
    return cg.diagnostics.gradient_variance(gradients)[0]


ds = list(range(2, 11))
variance = [parity_gradient_variance(d) for d in ds]
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.semilogy(ds, variance, "o-", label="measured variance across parities")
ax.semilogy(ds, variance[0] * 2.0 ** (ds[0] - np.array(ds)), "k--", label="$2^{-d}$ (scaled)")
ax.set(xlabel="d", ylabel="Var(H, F, w)")
ax.legend()
assert variance[-1] < variance[0] / 20  # exponentially small in d
fig

# %% [markdown]
# ## 2. A flat activation: the true gradient never moves, forward-only learns
#
# The target is $y = u(w^* \cdot x)$ with $u$ a staircase. The model is the same staircase of a linear
# function, $u(w \cdot x)$. `L.Step` takes the backward policy: `"gradient"` (the true derivative, 0) or
# `"identity"` (the paper's forward-only update: delta passes through unchanged).

# %%
thresholds, values = np.linspace(-2, 2, 9), np.arange(10.0)
rng = np.random.default_rng(1)
w_star = rng.normal(size=(5, 1))


def train_step_model(policy: str, steps: int = 1500) -> tuple[list[float], np.ndarray]:
    rng = np.random.default_rng(2)
    x, y = L.Input("x", shape=(None, 5)), L.Input("y", shape=(None, 1))
    w = L.Variable(np.zeros((5, 1)), name="w")
    prediction = L.Step(L.MatMul(x, w), thresholds, values, backward=policy)
    graph = cg.Graph(L.SquaredLoss(prediction, y), input_grads=False)
    opt = optim.Adam([w], lr=0.01)
    losses = []
    for _ in range(steps):
        X = rng.normal(size=(64, 5))
        Y = values[np.searchsorted(thresholds, X @ w_star, side="right")]
        losses.append(float(graph.forward({"x": X, "y": Y})))
        graph.backward()
        opt.step()
    return losses, w.output


runs = {policy: train_step_model(policy) for policy in ("gradient", "identity")}
curves = {policy: losses for policy, (losses, _) in runs.items()}
fig, ax = plt.subplots(figsize=(5, 3.5))
for policy, losses in curves.items():
    ax.semilogy(losses, label=f'backward="{policy}"')
ax.set(xlabel="step", ylabel="squared loss")
ax.legend()
print({policy: (round(c[0], 2), round(float(np.mean(c[-100:])), 3)) for policy, c in curves.items()})
print("w after the true gradient:", runs["gradient"][1].ravel())  # never moved: every delta was 0
assert np.all(runs["gradient"][1] == 0)
assert np.mean(curves["identity"][-100:]) < 0.05 * curves["identity"][0]
fig

# %% [markdown]
# ## 3. Compare optimizers on a ravine with `optim.compare`
#
# $F(w) = \frac12 (w_1^2 + \kappa w_2^2)$ with $\kappa = 50$: the Hessian's condition number is 50. Each
# optimizer starts from the same point; `compare` returns the loss curves and, for two parameters, the
# paths, and plots both.

# %%
KAPPA = 50.0


def ravine(rng):
    w = L.Variable(np.array([-4.0, 1.0]), name="w")
    loss = L.Multiply(L.Constant(0.5), L.Sum(L.Multiply(L.Constant([1.0, KAPPA]), L.Square(w))))
    return cg.Graph(loss, dtype=np.float64), None


result = optim.compare(ravine, {
    "SGD": lambda p: optim.SGD(p, lr=1.8 / (1 + KAPPA)),
    "Momentum": lambda p: optim.Momentum(p, lr=0.3 / KAPPA, mu=0.9),
    "Adam": lambda p: optim.Adam(p, lr=0.2),
}, steps=200)
print({name: f"{losses[-1]:.2e}" for name, losses in result.losses.items()})
assert result.losses["Momentum"][-1] < result.losses["SGD"][-1]
result.plot()
