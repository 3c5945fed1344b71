"""One training step of the end-to-end vs decomposition demo at paper scale (200 tuples, decomposition
loss, Adam, float32): the demo's own network (fused Conv2D), the same network with the lecture's composed
conv (Im2Col -> Affine -> RowsToImages), and the same network in PyTorch CPU (2 threads), interleaved in
one process; then the peak extra memory of a k = 4 step and where the time goes.

Run: python benchmarks/e2e_step.py  [--ks 1 4] [--rounds 7] [--no-profile]
"""

from common import median_times, pin_threads, torch_or_none

pin_threads()

import argparse  # noqa: E402
import cProfile  # noqa: E402
import pstats  # noqa: E402
import sys  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tinygrad_cg as cg  # noqa: E402
from demos import e2e_networks  # noqa: E402
from tinygrad_cg import layers as L  # noqa: E402
from tinygrad_cg import optim  # noqa: E402

BATCH = 200  # tuples a step [orig]


def composed_tuple_net(k: int, rng: np.random.Generator) -> e2e_networks.TupleNet:
    """The demo's TupleNet with the lecture's composed conv instead of the fused one."""
    images = L.Input("images", shape=(None, 1, 28, 28))
    labels, target = L.Input("labels", shape=(None, 1)), L.Input("target", shape=(None, 1))
    h = L.MaxPool2D(cg.nn.conv2d(images, 16, 5, padding=2, rng=rng, name="conv1"), 2)
    h = L.MaxPool2D(cg.nn.conv2d(h, 16, 5, padding=2, rng=rng, name="conv2"), 2)
    h = L.ReLU(cg.nn.affine(L.Flatten(h), 50, rng=rng, name="fc1"))
    features = L.ReLU(cg.nn.affine(h, 100, rng=rng, name="fc2"))
    score, tuple_score = e2e_networks.tuple_head(features, k, rng)
    return e2e_networks.TupleNet(k, score, tuple_score, L.HingeLoss(tuple_score, target), L.HingeLoss(score, labels))


def ours(k: int, build=e2e_networks.build_tuple_net):
    net = build(k, np.random.default_rng(0))
    graph = net.loss_graph("decomposition")
    opt = optim.Adam(graph.variables, lr=1e-3, **e2e_networks.ADAM)
    feed = e2e_networks.tuple_feed(k, BATCH, np.random.default_rng(1))

    def step():
        graph.forward(feed)
        graph.backward()
        opt.step()

    return step


def pytorch(torch, k: int):
    nn = torch.nn
    n1 = nn.Sequential(nn.Conv2d(1, 16, 5, padding=2), nn.MaxPool2d(2), nn.Conv2d(16, 16, 5, padding=2),
                       nn.MaxPool2d(2), nn.Flatten(), nn.Linear(784, 50), nn.ReLU(), nn.Linear(50, 100), nn.ReLU(),
                       nn.Linear(100, 1))
    n2 = nn.Sequential(nn.Linear(k, 100), nn.ReLU(), nn.Linear(100, 1))
    params = list(n1.parameters()) + list(n2.parameters())
    opt = torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.99), eps=1e-5)
    feed = {name: torch.from_numpy(np.asarray(value, dtype=np.float32))
            for name, value in e2e_networks.tuple_feed(k, BATCH, np.random.default_rng(1)).items()}

    def step():
        opt.zero_grad()
        score = n1(feed["images"])
        tuple_score = n2(torch.sigmoid(score).view(-1, k))
        primary = torch.relu(1 - feed["target"] * tuple_score).mean()
        secondary = torch.relu(1 - feed["labels"] * score).mean()
        (primary + secondary).backward()
        opt.step()

    return step


def peak_extra_memory_mb(k: int, build) -> float:
    """Peak memory the first k-tuple step allocates beyond the built network and its feed: the layers'
    outputs and deltas, the optimizer's state and every temporary (NumPy reports its arrays to
    tracemalloc)."""
    step = ours(k, build)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    step()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return (peak - before) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ks", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args()
    torch = torch_or_none()
    print(f"end-to-end demo step, {BATCH} tuples, decomposition loss, Adam, float32; median of {args.rounds} "
          "blocks of 2 steps, contenders interleaved")
    for k in args.ks:
        fns = {"tinygrad_cg fused": ours(k), "tinygrad_cg composed": ours(k, composed_tuple_net)}
        if torch is not None:
            fns["PyTorch CPU"] = pytorch(torch, k)
        times = median_times(fns, rounds=args.rounds, block=2, warmup=2)
        base = times.get("PyTorch CPU")
        print(f"k = {k} ({k * BATCH} images)")
        for name, t in times.items():
            ratio = f"{t / base:5.2f}x PyTorch" if base else "(torch not installed)"
            print(f"  {name:22s} {1e3 * t:8.1f} ms   {ratio}")
    for label, build in (("fused", e2e_networks.build_tuple_net), ("composed", composed_tuple_net)):
        print(f"peak extra memory of a k = 4 step ({label}): {peak_extra_memory_mb(4, build):.0f} MB")
    if not args.no_profile:
        step = ours(max(args.ks))
        step()
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(5):
            step()
        profile.disable()
        print(f"\nwhere the fused step goes (k = {max(args.ks)}, cProfile, 5 steps, by own time):")
        pstats.Stats(profile).sort_stats("tottime").print_stats(12)


if __name__ == "__main__":
    main()
