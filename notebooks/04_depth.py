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
# # 4. Depth: signals that vanish or explode, and three fixes
#
# The lectures' argument: a layer multiplies the signal going forward by its weights, and the delta going
# backward by their transpose. If each layer scales magnitudes by a factor $a$, then after $L$ layers the
# signal is scaled by $a^L$: it vanishes when $a < 1$ and explodes when $a > 1$, **in both directions**.
# The fixes keep $a \approx 1$: an initialisation that preserves the variance (Xavier for tanh, He for ReLU),
# a normalisation layer, or a residual connection $h \leftarrow h + F(h)$ whose identity path carries the
# delta back unchanged.
#
# We measure it with `cg.diagnostics.layer_norms`, which reads each layer's output std and delta norm after a
# forward and a backward pass. (The full experiment, judged over seeds: `python -m demos depth --quick`.)

# %%
import matplotlib.pyplot as plt
import numpy as np

import tinygrad_cg as cg
from tinygrad_cg import layers as L


def deep_mlp(depth, std, activation, width=32, residual=False, seed=0):
    """An MLP of `depth` hidden layers of `width` units, weights drawn with standard deviation `std`."""
    rng = np.random.default_rng(seed)
    x, y = L.Input("x", shape=(None, width)), L.Input("y", shape=(None,))

    def normal(shape, rng):
        return rng.normal(0.0, std, size=shape)

    h = x
    for _ in range(depth):
        if residual:  # h + W relu(h): the branch added to the identity
            h = cg.nn.residual(h, lambda t: cg.nn.affine(L.ReLU(t), width, rng=rng, init=normal))
        else:
            h = activation(cg.nn.affine(h, width, rng=rng, init=normal))
    graph = cg.Graph(L.SoftmaxCrossEntropy(cg.nn.affine(h, 10, rng=rng), y), dtype=np.float64)
    feed = {"x": rng.normal(size=(128, width)), "y": rng.integers(0, 10, size=128).astype(float)}
    graph.forward(feed)
    graph.backward()
    return graph


# %% [markdown]
# ## Vanishing: 30 tanh layers with a small init
#
# With weights of std 0.05 and 32 inputs per unit, each layer scales the signal by about
# $0.05 \sqrt{32} \approx 0.28$: forward, the output std falls layer after layer; backward, the delta falls
# from the last layer to the first. Both by about $0.28^{30} \approx 10^{-17}$.

# %%
small = cg.diagnostics.layer_norms(deep_mlp(30, 0.05, L.Tanh), kinds=("Affine",))
print(f"first hidden layer: output std {small[0].output_std:.2e}, delta {small[0].delta_norm:.2e}")
print(f"last hidden layer:  output std {small[-2].output_std:.2e}, delta {small[-2].delta_norm:.2e}")
cg.diagnostics.plot_layer_norms(small, quantities=("output_std", "delta_norm"), label="tanh, std 0.05")
plt.title("a small init: both directions vanish")
plt.show()

# %% [markdown]
# ## The fix by initialisation: Xavier's std $1/\sqrt{\text{fan-in}}$
#
# Glorot & Bengio (2010) choose the std so that a layer keeps the variance: for tanh (slope 1 at 0),
# $\mathrm{Var}(W) = 1/\text{fan-in}$. The same 30 layers now keep both signals within a small factor.

# %%
xavier = cg.diagnostics.layer_norms(deep_mlp(30, 1 / np.sqrt(32), L.Tanh), kinds=("Affine",))
ax = cg.diagnostics.plot_layer_norms(small, quantities=("delta_norm",), label="std 0.05")
cg.diagnostics.plot_layer_norms(xavier, ax=ax, quantities=("delta_norm",), label="Xavier")
plt.title("backward: the delta of each layer")
plt.show()
print(f"Xavier: first / last hidden delta = {xavier[0].delta_norm / xavier[-2].delta_norm:.2f}")

# %% [markdown]
# ## Exploding, and the residual fix
#
# ReLU zeroes half of its inputs, so it needs twice the variance (He et al. 2015: $2/\text{fan-in}$); with
# std 0.5 each layer multiplies by about $0.5 \sqrt{32/2} = 2$ and 30 layers by $2^{30} \approx 10^9$.
# A residual block adds its branch to the identity: the delta reaching $h$ is the incoming delta **plus** the
# branch's share, so it cannot vanish, and with the branch scaled down it does not explode either.
# `cg.nn.residual` builds the block as an ordinary `Add` layer: the summary shows it.

# %%
large = cg.diagnostics.layer_norms(deep_mlp(30, 0.5, L.ReLU), kinds=("Affine",))
residual = cg.diagnostics.layer_norms(deep_mlp(30, np.sqrt(2 / 32) / np.sqrt(30), L.ReLU, residual=True),
                                      kinds=("Affine",))
print(f"ReLU std 0.5:  first / last hidden delta = {large[0].delta_norm / large[-2].delta_norm:.1e}")
print(f"residual:      first / last hidden delta = {residual[0].delta_norm / residual[-2].delta_norm:.2f}")
print(deep_mlp(2, 0.1, L.ReLU, residual=True).summary())

# %% [markdown]
# ## What the demo adds
#
# `python -m demos depth` measures all of this for depths 2 to 50 (and BatchNorm, whose backward signal, it
# turns out, still grows by about 1.2x a layer at initialisation, as Yang et al. 2019 predict), then trains
# plain networks with BatchNorm (He et al.'s plain nets have it after every layer) and residual networks of
# depth 8 and 32, each at the best of a few step sizes: the deeper plain network trains stably and still ends
# with a far higher training loss than the shallower one (the degradation problem), and the residual one does
# not. At a step size too large for it a deep plain network diverges instead; that is a failed run, not
# degradation, which is why each network gets its best step size. And without BatchNorm, He's init alone lets
# the 32-layer network fit this small task too, given 10,000 steps (the paper plan): slower, not worse.
