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
# # 1. Backprop by hand on the lecture's least-squares graph
#
# The lecture's smallest computation graph: a prediction $p = w x$, a residual $r = p - y$ and the
# loss $s = r^2$. We build it from six layers, look at it, run the forward pass, then the backward pass,
# and check every `delta` (the gradient of the loss with respect to that layer's output) against the
# chain rule done by hand.
#
# **Where to put the breakpoint.** In a script (or a cell) that imported `tinygrad_cg as cg`, write
# `breakpoint()` on the line before `graph.backward()`. At the `(Pdb)` prompt type
# `b cg.layers.Square.backward` and then `c`: the debugger stops inside `Square.backward`, from whatever folder
# you run in. Step (`n`) to its one line, `x.delta += 2 * x.output * self.delta`, and print `x.delta` before
# and after it. Every layer **adds** into its inputs' deltas; that is how a layer used twice gets the sum of
# both paths. `b cg.graph.Graph.backward` stops at the loop itself instead. Below, the same walk is shown
# without a debugger: as records, and as an animation.

# %%
import numpy as np

import tinygrad_cg as cg
from tinygrad_cg import layers as L

x, y = L.Input("x"), L.Input("y")            # layers 0 and 1: fed each step
w = L.Variable(0.5, name="w")                 # layer 2: the parameter
p = L.Multiply(w, x, name="p")                # layer 3: p = w x
r = L.Subtract(p, y, name="r")                # layer 4: r = p - y
s = L.Square(r, name="s")                     # layer 5: s = r^2, the loss
graph = cg.Graph(s, dtype=np.float64)
print(graph.summary())

# %% [markdown]
# The picture before any pass: numbers, kinds, names, shapes (scalars here), no values yet.

# %%
cg.viz.draw(graph)

# %% [markdown]
# ## Forward: one loop over the layers in order

# %%
loss = graph.forward({"x": 2.0, "y": 3.0}, trace=print)
print("loss =", loss)

# %% [markdown]
# ## Backward: delta of the loss is 1, then each layer pushes delta to its inputs
#
# By hand, with $x = 2$, $y = 3$, $w = 0.5$: $p = 1$, $r = -2$, $s = 4$ and
#
# - $\delta_s = 1$
# - $\delta_r = \partial s / \partial r \cdot \delta_s = 2 r = -4$
# - $\delta_p = \delta_r = -4$ and $\delta_y = -\delta_r = 4$
# - $\delta_w = x \, \delta_p = -8$ and $\delta_x = w \, \delta_p = -2$

# %%
graph.backward(trace=print)
by_hand = {"s": 1.0, "r": -4.0, "p": -4.0, "y": 4.0, "w": -8.0, "x": -2.0}
for name, expected in by_hand.items():
    print(f"delta of {name:2s} = {float(graph[name].delta):5.1f}   by hand {expected:5.1f}")
    assert float(graph[name].delta) == expected

# %% [markdown]
# The picture again, now with every output and delta:

# %%
cg.viz.draw(graph)

# %% [markdown]
# ## The pass as data: one record per layer
#
# `graph.forward_steps(feed)` and `graph.backward_steps()` walk the same loops and hand you one record per
# layer: its number, what it read, and what it wrote. A backward record holds each input's delta **before and
# after** the layer's `+=`. Iterate, stop anywhere, look at anything: a debugger that cannot get lost.

# %%
for step in graph.forward_steps({"x": 2.0, "y": 3.0}):
    print(step)
for step in graph.backward_steps():
    print(step)
    if step.layer.name == "r":
        before, after = step.deltas[graph.index[id(p)]]
        print(f"    p.delta was {before}, is now {after}")
assert float(w.delta) == -8.0

# %% [markdown]
# ## Watch it happen
#
# `cg.viz.animate` draws the graph once per step: in the forward pass the running layer is outlined and the
# edges it reads are green; then every delta is set to 0 and the loss's to 1; in the backward pass the edges
# along which a layer adds into its inputs' deltas are red, and each box shows its delta as it grows. Press
# play, or drag the slider. (`cg.viz.animate(graph, feed, "backprop.gif")` writes a GIF;
# `tinygrad-cg example --animate backprop.gif` does it from the command line.)

# %%
animation = cg.viz.animate(graph, {"x": 2.0, "y": 3.0})
assert [f.current for f in animation.frames if f.phase == "backward"] == [5, 4, 3]
animation

# %% [markdown]
# ## The same deltas from finite differences
#
# `gradcheck` perturbs each parameter by $\pm\epsilon$ in float64 and compares the slope of the loss
# with `delta`. It returns the relative error per node.

# %%
errors = cg.diagnostics.gradcheck(graph, {"x": 2.0, "y": 3.0})
print(errors)
assert max(errors.values()) < 1e-8

# %% [markdown]
# ## One step of gradient descent
#
# An optimizer reads `w.delta` and moves `w.output`: $w \leftarrow w - \alpha \delta_w$. With
# $\alpha = 0.05$ the new $w$ is $0.5 + 0.4 = 0.9$ and the loss drops from 4 to 1.44.

# %%
from tinygrad_cg import optim

opt = optim.SGD(graph.variables, lr=0.05)
opt.step()
print("w =", float(w.output), " loss =", float(graph.forward({"x": 2.0, "y": 3.0})))
assert abs(float(w.output) - 0.9) < 1e-12
