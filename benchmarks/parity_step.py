"""One parity-MLP SGD step (d=30, hidden 300, batch 128, hinge): tinygrad_cg vs hand-written NumPy
(and PyTorch CPU when installed).

Each contender alone in its own process (``common.time_in_processes``: ``--processes`` rounds, in turn, each
the median of ``--steps`` single steps after ``--warmup``), BLAS as the user's NumPy sets it up (2 threads here
unless ``OPENBLAS_NUM_THREADS`` says otherwise), on the kernel set OpenBLAS picks by the CPU and, where this
environment sets one, that one too (``--kernels both``). ``--interleaved`` times them in one process instead,
block by block (as this script did before 2026-12-04).

Run: python benchmarks/parity_step.py [--processes 3] [--steps 2000] [--kernels both|as-set|cpu] [--interleaved]
"""

from common import (child_main, kernel_sets, median_times, pin_threads, time_in_processes,  # noqa: I001
                    torch_or_none, training_step)

pin_threads()

import argparse  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

D, HIDDEN, BATCH, LR = 30, 300, 128, 0.01


def data() -> tuple[np.random.Generator, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.choice([-1.0, 1.0], size=(BATCH, D)).astype(np.float32)
    Y = rng.choice([-1.0, 1.0], size=(BATCH, 1)).astype(np.float32)
    return rng, X, Y


def ours():
    """The graph the parity demo trains."""
    import tinygrad_cg as cg
    from tinygrad_cg import layers as L
    from tinygrad_cg import optim

    _, X, Y = data()
    x_in, y_in = L.Input("x", shape=(None, D)), L.Input("y", shape=(None, 1))
    graph = cg.Graph(L.HingeLoss(cg.nn.mlp(x_in, [HIDDEN, 1], rng=0), y_in), input_grads=False)
    opt = optim.SGD(graph.variables, lr=LR)
    feed = {"x": X, "y": Y}

    return training_step(graph, opt, feed)


def by_hand():
    """The same step with no framework."""
    rng, X, Y = data()
    W1 = (rng.normal(size=(D, HIDDEN)) / np.sqrt(D)).astype(np.float32)
    b1 = np.zeros(HIDDEN, np.float32)
    W2 = (rng.normal(size=(HIDDEN, 1)) / np.sqrt(HIDDEN)).astype(np.float32)
    b2 = np.zeros(1, np.float32)

    def step():
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

    return step


def with_torch():
    torch = torch_or_none()
    _, X, Y = data()
    net = torch.nn.Sequential(torch.nn.Linear(D, HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, 1))
    topt = torch.optim.SGD(net.parameters(), lr=LR)
    tx, ty = torch.from_numpy(X), torch.from_numpy(Y)

    def step():
        topt.zero_grad()
        torch.clamp(1 - ty * net(tx), min=0).mean().backward()
        topt.step()

    return step


CONTENDERS = {"tinygrad_cg": ours, "hand NumPy": by_hand, "PyTorch CPU": with_torch}


def main() -> None:
    if child_main(CONTENDERS, sys.argv[1:]):
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--kernels", choices=["both", "as-set", "cpu"], default="both")
    parser.add_argument("--interleaved", action="store_true", help="all contenders in this one process")
    args = parser.parse_args()
    names = [name for name in CONTENDERS if name != "PyTorch CPU" or torch_or_none() is not None]
    print(f"parity MLP step (d={D}, hidden {HIDDEN}, batch {BATCH})")
    if args.interleaved:
        times = median_times({name: CONTENDERS[name]() for name in names}, rounds=15, block=100, warmup=50)
        print("  interleaved in one process: median of 15 blocks of 100")
        for name, t in times.items():
            print(f"  {name:12s} {1e6 * t:8.1f} us   {t / times['hand NumPy']:5.2f}x hand NumPy")
        return
    for label, drop in kernel_sets(args.kernels):
        times = time_in_processes(Path(__file__), names, processes=args.processes, warmup=args.warmup,
                                  steps=args.steps, drop_kernel_variables=drop)
        base = times["hand NumPy"]
        print(f"  BLAS kernels {label}; each alone in its own process, {args.processes} processes each, each the "
              f"median of {args.steps} steps; the median over processes [range]")
        for name, t in times.items():
            print(f"  {name:12s} {1e6 * t.median:8.1f} us [{1e6 * min(t.medians):.1f}-{1e6 * max(t.medians):.1f}]"
                  f"   {t.median / base.median:5.2f}x hand NumPy [{min(t.medians) / max(base.medians):.2f}-"
                  f"{max(t.medians) / min(base.medians):.2f}]")
        print(f"  NumPy's BLAS: {times['tinygrad_cg'].blas}")


if __name__ == "__main__":
    main()
