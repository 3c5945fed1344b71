"""One parity-MLP SGD step (d=30, hidden 300, batch 128, hinge): tinygrad_cg vs hand-written NumPy
(and PyTorch CPU when installed). Run: python benchmarks/parity_step.py"""

from common import median_times, pin_threads, torch_or_none

pin_threads()

import numpy as np  # noqa: E402

import tinygrad_cg as cg  # noqa: E402
from tinygrad_cg import layers as L  # noqa: E402
from tinygrad_cg import optim  # noqa: E402

D, HIDDEN, BATCH, LR = 30, 300, 128, 0.01
rng = np.random.default_rng(0)
X = rng.choice([-1.0, 1.0], size=(BATCH, D)).astype(np.float32)
Y = rng.choice([-1.0, 1.0], size=(BATCH, 1)).astype(np.float32)

# tinygrad_cg: the graph the parity demo trains
x_in, y_in = L.Input("x", shape=(None, D)), L.Input("y", shape=(None, 1))
graph = cg.Graph(L.HingeLoss(cg.nn.mlp(x_in, [HIDDEN, 1], rng=0), y_in), input_grads=False)
opt = optim.SGD(graph.variables, lr=LR)
feed = {"x": X, "y": Y}


def ours():
    graph.forward(feed)
    graph.backward()
    opt.step()


# hand-written NumPy: the same step with no framework
W1 = (rng.normal(size=(D, HIDDEN)) / np.sqrt(D)).astype(np.float32)
b1 = np.zeros(HIDDEN, np.float32)
W2 = (rng.normal(size=(HIDDEN, 1)) / np.sqrt(HIDDEN)).astype(np.float32)
b2 = np.zeros(1, np.float32)


def by_hand():
    h = X @ W1 + b1
    a = np.maximum(h, 0)
    s = a @ W2 + b2
    active = (1 - Y * s) > 0
    ds = -(Y * active) / BATCH
    dW2, db2 = a.T @ ds, ds.sum(0)
    dh = (ds @ W2.T) * (h > 0)
    dW1, db1 = X.T @ dh, dh.sum(0)
    for p, g in ((W1, dW1), (b1, db1), (W2, dW2), (b2, db2)):
        p -= LR * g


fns = {"tinygrad_cg": ours, "hand NumPy": by_hand}
torch = torch_or_none()
if torch is not None:
    net = torch.nn.Sequential(torch.nn.Linear(D, HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, 1))
    topt = torch.optim.SGD(net.parameters(), lr=LR)
    tx, ty = torch.from_numpy(X), torch.from_numpy(Y)

    def with_torch():
        topt.zero_grad()
        torch.clamp(1 - ty * net(tx), min=0).mean().backward()
        topt.step()

    fns["PyTorch CPU"] = with_torch

if __name__ == "__main__":
    times = median_times(fns, rounds=15, block=100, warmup=50)
    base = times["hand NumPy"]
    print(f"parity MLP step (d={D}, hidden {HIDDEN}, batch {BATCH}), median of 15 blocks of 100, 2 threads")
    for name, t in times.items():
        print(f"  {name:12s} {1e6 * t:8.1f} us   {t / base:5.2f}x hand NumPy")
