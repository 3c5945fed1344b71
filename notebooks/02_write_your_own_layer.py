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
# # 2. Write your own layer, and check it with `gradcheck`
#
# A layer is a small class with three methods:
#
# - `infer_shape(*input_shapes)`: the output shape from the inputs' shapes (`None` for the batch), and a
#   `ShapeError` when they do not fit. It runs when the layer is built and again on every fed array.
# - `forward()`: compute `self.output` from the inputs' `output`.
# - `backward()`: **add** the vector-Jacobian product into each input's `delta`, for the inputs with
#   `needs_delta` (the others have no trainable parameter upstream).
#
# We write the softplus activation $o = \log(1 + e^x)$, whose derivative is the sigmoid
# $\sigma(x) = 1 / (1 + e^{-x})$, so its backward pass is $\delta_x \mathrel{+}= \sigma(x)\,\delta$.

# %%
import numpy as np

import tinygrad_cg as cg
from tinygrad_cg import layers as L
from tinygrad_cg.layers.activations import stable_sigmoid


class Softplus(cg.Layer):
    """o = log(1 + exp(x)), elementwise.   do/dx = sigmoid(x), so delta_x += sigmoid(x) * delta."""

    def __init__(self, x: cg.Layer, name: str | None = None):
        super().__init__(x, name=name)

    def infer_shape(self, x):
        return x                                    # elementwise: the output has the input's shape

    def forward(self):
        self.output = np.logaddexp(0, self.inputs[0].output)   # stable for any x

    def backward(self):
        x = self.inputs[0]
        if x.needs_delta:
            x.delta += stable_sigmoid(x.output) * self.delta


# %% [markdown]
# Use it in a small network like any built-in layer:

# %%
rng = np.random.default_rng(0)
x_in, y_in = L.Input("x", shape=(None, 3)), L.Input("y", shape=(None, 1))
hidden = Softplus(cg.nn.affine(x_in, 4, rng=rng), name="softplus")
loss = L.SquaredLoss(cg.nn.affine(hidden, 1, rng=rng), y_in)
graph = cg.Graph(loss, dtype=np.float64)
feed = {"x": rng.normal(size=(8, 3)), "y": rng.normal(size=(8, 1))}
print(graph.summary())
print("loss =", graph.forward(feed))

# %% [markdown]
# ## Check the backward pass against finite differences
#
# `gradcheck` compares every parameter's `delta` with float64 central differences
# $(L(\theta + \epsilon e_j) - L(\theta - \epsilon e_j)) / 2\epsilon$. Passing `inputs=["x"]` checks
# the delta that reaches the input too.

# %%
errors = cg.diagnostics.gradcheck(graph, feed, inputs=["x"])
print({name: f"{error:.1e}" for name, error in errors.items()})
assert max(errors.values()) < 1e-6

# %% [markdown]
# ## A wrong backward pass is caught
#
# A classic slip: the derivative written as $\sigma(-x)$ instead of $\sigma(x)$. The check fails with a
# `GradientCheckError` naming the parameter whose gradient disagrees.


# %%
class WrongSoftplus(Softplus):
    def backward(self):
        x = self.inputs[0]
        if x.needs_delta:
            x.delta += stable_sigmoid(-x.output) * self.delta


wrong = cg.Graph(L.SquaredLoss(cg.nn.affine(WrongSoftplus(cg.nn.affine(x_in, 4, rng=1)), 1, rng=2), y_in),
                 dtype=np.float64)
try:
    cg.diagnostics.gradcheck(wrong, feed)
    raise AssertionError("the wrong backward pass was not caught")
except cg.GradientCheckError as error:
    print("caught:", error)

# %% [markdown]
# ## The shape rule guards the wiring
#
# Because `infer_shape` runs at construction, a misfit is found where it is made, not three layers later:

# %%
try:
    L.Add(Softplus(L.Input("a", shape=(None, 3))), L.Input("b", shape=(None, 4)), name="sum")
except cg.ShapeError as error:
    print("caught:", error)

# %%
cg.viz.draw(graph)
