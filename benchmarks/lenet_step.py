"""One LeNet SGD step (batch 40, 1x28x28, 10 classes): tinygrad_cg (fused Conv2D; composed conv with numba
and with numpy kernels) vs PyTorch CPU (2 threads) when installed, plus where the fused step's time goes.
Run: python benchmarks/lenet_step.py"""

from common import median_times, pin_threads, torch_or_none

pin_threads()

import cProfile  # noqa: E402
import os  # noqa: E402
import pstats  # noqa: E402

import numpy as np  # noqa: E402

import tinygrad_cg as cg  # noqa: E402
from tinygrad_cg import layers as L  # noqa: E402
from tinygrad_cg import optim  # noqa: E402

BATCH, LR = 40, 0.01
rng = np.random.default_rng(0)
X = rng.random(size=(BATCH, 1, 28, 28)).astype(np.float32)
labels = rng.integers(0, 10, size=BATCH)


def make_step(backend: str, fused: bool = False):
    x = L.Input("x", shape=(None, 1, 28, 28))
    y = L.Input("labels", shape=(None,))
    graph = cg.Graph(L.SoftmaxCrossEntropy(cg.nn.lenet(x, 10, rng=0, fused=fused), y), input_grads=False)
    opt = optim.SGD(graph.variables, lr=LR)
    feed = {"x": X, "labels": labels}

    def step():
        os.environ["TINYGRAD_CG_KERNELS"] = backend
        graph.forward(feed)
        graph.backward()
        opt.step()

    return step


fns = {"tinygrad_cg fused": make_step("numba", fused=True), "tinygrad_cg numba": make_step("numba"),
       "tinygrad_cg numpy": make_step("numpy")}
torch = torch_or_none() if os.environ.get("NO_TORCH") != "1" else None
if torch is not None:
    nn = torch.nn
    net = nn.Sequential(nn.Conv2d(1, 20, 5), nn.MaxPool2d(2), nn.Conv2d(20, 50, 5), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(800, 500), nn.ReLU(), nn.Linear(500, 10))
    topt = torch.optim.SGD(net.parameters(), lr=LR)
    tx, ty = torch.from_numpy(X), torch.from_numpy(labels)

    def with_torch():
        topt.zero_grad()
        nn.functional.cross_entropy(net(tx), ty).backward()
        topt.step()

    fns["PyTorch CPU"] = with_torch

if __name__ == "__main__":
    times = median_times(fns, rounds=9, block=5, warmup=3)
    base = times.get("PyTorch CPU")
    print(f"LeNet SGD step (batch {BATCH}, 1x28x28), median of 9 blocks of 5, 2 threads")
    for name, t in times.items():
        ratio = f"{t / base:5.2f}x PyTorch" if base else "(torch not installed)"
        print(f"  {name:18s} {1e3 * t:7.2f} ms   {ratio}")
    profile = cProfile.Profile()
    step = fns["tinygrad_cg fused"]
    profile.enable()
    for _ in range(20):
        step()
    profile.disable()
    print("\nwhere tinygrad_cg fused's step goes (cProfile, 20 steps, by own time):")
    pstats.Stats(profile).sort_stats("tottime").print_stats(10)
