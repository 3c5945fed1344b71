"""The MLP steps on a busy machine: each step quiet and beside a load this script starts and stops itself.

    python benchmarks/busy_mlp.py                  # every load, every step, both BLAS rules
    python benchmarks/busy_mlp.py --seconds 4

Steps (one process each, BLAS as the user's NumPy sets it up, 2 threads here): the parity MLP (d = 30, 300
hidden, batch 128, SGD), the flat-activations end-to-end MLP (Affine 100 + ReLU x3, Affine 1, batch 256,
Adam), the depth demo's plain MLP (32 hidden layers of 64, batch 64, momentum). Loads: none; a pure-Python
spinner process; a NumPy matmul loop on 2 BLAS threads; a PyTorch matmul loop on 2 threads (where torch is
installed). Rules: "one thread" is the library's (``kernels.threads.ONE_THREAD_BELOW``: a graph whose matrix
products are all small holds BLAS to one thread for its passes), "BLAS's threads" the rule before 2026-12-04
(``ONE_THREAD_BELOW = 0``). Each child runs its step for ``--seconds`` (at most 3,000 steps) after 100 warm-up
steps and reports the median step and the mean (wall time / steps, which shows a collapse the median can hide).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOADS = {
    "spinner": "import time\nend = time.time() + {seconds}\nwhile time.time() < end: pass",
    "NumPy matmul, 2 threads": ("import os, time\nos.environ['OPENBLAS_NUM_THREADS'] = '2'\nimport numpy as np\n"
                                "a = np.random.rand(512, 512).astype(np.float32)\nend = time.time() + {seconds}\n"
                                "while time.time() < end: a @ a"),
    "PyTorch matmul, 2 threads": ("import time, torch\ntorch.set_num_threads(2)\na = torch.randn(512, 512)\n"
                                  "end = time.time() + {seconds}\nwhile time.time() < end: a @ a"),
}
STEPS = ("parity", "flat activations", "depth")
RULES = {"one thread (the library's rule)": "new", "BLAS's threads (before)": "old"}


def build(which: str):
    import numpy as np

    import tinygrad_cg as cg
    from tinygrad_cg import layers as L
    from tinygrad_cg import optim

    rng = np.random.default_rng(0)
    if which == "parity":
        x, y = L.Input("x", shape=(None, 30)), L.Input("y", shape=(None, 1))
        graph = cg.Graph(L.HingeLoss(cg.nn.mlp(x, [300, 1], rng=0), y), input_grads=False)
        opt = optim.SGD(graph.variables, lr=0.01)
        feed = {"x": rng.choice([-1.0, 1.0], size=(128, 30)), "y": rng.choice([-1.0, 1.0], size=(128, 1))}
    elif which == "flat activations":
        x, y = L.Input("x", shape=(None, 100)), L.Input("y", shape=(None, 1))
        h = x
        for _ in range(3):
            h = L.ReLU(cg.nn.affine(h, 100, rng=0))
        graph = cg.Graph(L.SquaredLoss(cg.nn.affine(h, 1, rng=0), y), input_grads=False)
        opt = optim.Adam(graph.variables, lr=1e-3)
        feed = {"x": rng.normal(size=(256, 100)), "y": rng.normal(size=(256, 1))}
    else:
        x, y = L.Input("x", shape=(None, 16)), L.Input("y", shape=(None,))
        h = L.ReLU(cg.nn.affine(x, 64, rng=0))
        for _ in range(32):
            h = L.ReLU(cg.nn.affine(h, 64, rng=0))
        graph = cg.Graph(L.SoftmaxCrossEntropy(cg.nn.affine(h, 10, rng=0), y), input_grads=False)
        opt = optim.Momentum(graph.variables, lr=0.01, momentum=0.9)
        feed = {"x": rng.normal(size=(64, 16)), "y": rng.integers(0, 10, 64).astype(float)}

    def step():
        graph.forward(feed)
        graph.backward()
        opt.step()

    return step


def child(which: str, rule: str, seconds: float) -> None:
    sys.path.insert(0, str(HERE))
    from common import blas_kernel, steady_heap

    steady_heap()
    from tinygrad_cg.kernels import threads

    if rule == "old":
        threads.ONE_THREAD_BELOW = 0
    step = build(which)
    for _ in range(100):
        step()
    times, start = [], time.perf_counter()
    while time.perf_counter() - start < seconds and len(times) < 3000:
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    print(json.dumps({"median": statistics.median(times), "mean": (time.perf_counter() - start) / len(times),
                      "blas": blas_kernel()}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python benchmarks/busy_mlp.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="how long each child times its step")
    parser.add_argument("--child", nargs=2, metavar=("STEP", "RULE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], args.child[1], args.seconds)
        return 0
    try:
        import torch  # noqa: F401
    except ImportError:
        LOADS.pop("PyTorch matmul, 2 threads")
    print(f"| beside | step | {' | '.join(RULES)} |\n| --- | --- | --- | --- |")
    kernel = ""
    for load in ("nothing", *LOADS):
        process = None if load == "nothing" else subprocess.Popen(
            [sys.executable, "-c", LOADS[load].format(seconds=10_000)])
        try:
            time.sleep(1.0)
            for which in STEPS:
                cells = []
                for rule in RULES.values():
                    done = subprocess.run([sys.executable, __file__, "--seconds", str(args.seconds), "--child", which,
                                           rule], capture_output=True, text=True, check=True)
                    report = json.loads(done.stdout.strip().splitlines()[-1])
                    kernel = report["blas"]
                    cells.append(f"{1e3 * report['median']:.3f} ms (mean {1e3 * report['mean']:.2f})")
                print(f"| {load} | {which} | {' | '.join(cells)} |", flush=True)
        finally:
            if process is not None:
                process.kill()
    print(f"\nBLAS: {kernel}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
