"""One training step of the end-to-end vs decomposition demo at paper scale (200 tuples, decomposition
loss, Adam, float32): the demo's own network (fused Conv2D), the same network in PyTorch CPU (2 threads) and,
with ``--composed``, the lecture's composed conv (Im2Col -> Affine -> RowsToImages); then the peak extra
memory of a k = 4 step and where the time goes.

Each contender is timed alone in its own process (``common.time_in_processes``: 3 processes each, in turn,
each the median of 15 steps after 3 warm-up steps), on the BLAS kernel set this environment sets and on the
one OpenBLAS picks by the CPU (``--kernels both``), naming the kernel each ran (threadpoolctl).
``--interleaved`` times them side by side in one process instead, as this script did before issue 25:
they then disturb each other (NumPy's BLAS threads slow PyTorch's step, the composed conv's 1 GB of
allocations slows everyone), so its ratios are not the ones to report.

``--threads 1`` holds every contender to one thread (BLAS, torch, Numba and the library's teams): the Dask
workers' case, where the paper plans run. Two PyTorch contenders: the natural NCHW tensors, and the same net
on channels-last tensors (``torch.channels_last``: what a transliteration of the authors' NHWC TensorFlow
script gets, and oneDNN's faster layout on CPU).

Run: python benchmarks/e2e_step.py  [--ks 1 4] [--threads 2] [--kernels both|as-set|cpu] [--processes 3]
     [--composed] [--interleaved] [--no-profile]
"""

from common import (child_main, kernel_sets, median_times, pin_threads, set_threads_for_children,  # noqa: I001
                    time_in_processes, torch_or_none, training_step)

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

    return training_step(graph, opt, feed)


def pytorch(torch, k: int, channels_last: bool = False):
    """The demo's network in PyTorch; ``channels_last`` keeps the images and conv weights NHWC in memory."""
    nn = torch.nn
    n1 = nn.Sequential(nn.Conv2d(1, 16, 5, padding=2), nn.MaxPool2d(2), nn.Conv2d(16, 16, 5, padding=2),
                       nn.MaxPool2d(2), nn.Flatten(), nn.Linear(784, 50), nn.ReLU(), nn.Linear(50, 100), nn.ReLU(),
                       nn.Linear(100, 1))
    n2 = nn.Sequential(nn.Linear(k, 100), nn.ReLU(), nn.Linear(100, 1))
    params = list(n1.parameters()) + list(n2.parameters())
    opt = torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.99), eps=1e-5)
    feed = {name: torch.from_numpy(np.asarray(value, dtype=np.float32))
            for name, value in e2e_networks.tuple_feed(k, BATCH, np.random.default_rng(1)).items()}
    if channels_last:
        n1 = n1.to(memory_format=torch.channels_last)
        feed["images"] = feed["images"].contiguous(memory_format=torch.channels_last)

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


def contenders() -> dict:
    """Every contender a child process can build, by name: ``fused k=K``, ``composed k=K``, ``PyTorch k=K``."""
    table = {}
    for k in (1, 2, 3, 4):
        table[f"fused k={k}"] = lambda k=k: ours(k)
        table[f"composed k={k}"] = lambda k=k: ours(k, composed_tuple_net)
        table[f"PyTorch k={k}"] = lambda k=k: pytorch(torch_or_none(), k)
        table[f"PyTorch NHWC k={k}"] = lambda k=k: pytorch(torch_or_none(), k, channels_last=True)
    return table


def isolated(args, torch_installed: bool) -> None:
    print(f"end-to-end demo step, {BATCH} tuples, decomposition loss, Adam, float32, {args.threads} thread(s); "
          "each contender "
          f"alone in its own process: {args.processes} processes each, each the median of {args.steps} steps "
          f"after {args.warmup} warm-up steps; the median over processes [range]")
    for label, drop in kernel_sets(args.kernels):
        print(f"\nBLAS kernels {label}")
        for k in args.ks:
            names = [f"fused k={k}"] + ([f"composed k={k}"] if args.composed else [])
            names += [f"PyTorch k={k}", f"PyTorch NHWC k={k}"] if torch_installed else []
            times = time_in_processes(Path(__file__), names, processes=args.processes, warmup=args.warmup,
                                      steps=args.steps, drop_kernel_variables=drop)
            base = times.get(f"PyTorch k={k}")
            print(f"k = {k} ({k * BATCH} images)")
            for name, t in times.items():
                ratio = (f"{t.median / base.median:5.2f}x PyTorch [{min(t.medians) / max(base.medians):.2f}-"
                         f"{max(t.medians) / min(base.medians):.2f}]") if base else "(torch not installed)"
                print(f"  {name:19s} {1e3 * t.median:8.1f} ms [{t.spread()}]  {ratio}")
            print(f"  NumPy's BLAS: {times[f'fused k={k}'].blas}")


def interleaved(args, torch) -> None:
    print(f"end-to-end demo step, {BATCH} tuples, decomposition loss, Adam, float32; median of {args.rounds} "
          "blocks of 2 steps, contenders interleaved in one process")
    for k in args.ks:
        fns = {"tinygrad_cg fused": ours(k)}
        if args.composed:
            fns["tinygrad_cg composed"] = ours(k, composed_tuple_net)
        if torch is not None:
            fns["PyTorch CPU"] = pytorch(torch, k)
        times = median_times(fns, rounds=args.rounds, block=2, warmup=2)
        base = times.get("PyTorch CPU")
        print(f"k = {k} ({k * BATCH} images)")
        for name, t in times.items():
            ratio = f"{t / base:5.2f}x PyTorch" if base else "(torch not installed)"
            print(f"  {name:22s} {1e3 * t:8.1f} ms   {ratio}")


def main() -> None:
    if child_main(contenders(), sys.argv[1:]):
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ks", type=int, nargs="+", default=[1, 4], choices=[1, 2, 3, 4])
    parser.add_argument("--kernels", choices=["both", "as-set", "cpu"], default="both")
    parser.add_argument("--threads", type=int, default=2, help="threads of every pool, every contender")
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--steps", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--composed", action="store_true", help="also time the composed conv")
    parser.add_argument("--interleaved", action="store_true", help="all contenders in this one process")
    parser.add_argument("--rounds", type=int, default=7, help="--interleaved: blocks per contender")
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args()
    set_threads_for_children(args.threads)
    torch = torch_or_none()
    if args.interleaved:
        interleaved(args, torch)
    else:
        isolated(args, torch is not None)
    builds = [("fused", e2e_networks.build_tuple_net)] + ([("composed", composed_tuple_net)] if args.composed else [])
    for label, build in builds:
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
