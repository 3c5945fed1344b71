"""Every step of the demos on a busy machine: each step quiet and beside a load this script starts and stops
itself, tinygrad_cg and the same step in PyTorch, each in its own process.

    python benchmarks/busy_steps.py                              # every load, every step, ours and PyTorch
    python benchmarks/busy_steps.py --loads spinner --steps parity "e2e k=4" --seconds 3
    python benchmarks/busy_steps.py --steps parity flat depth --rules  # the MLPs under the old BLAS rule too

Steps (BLAS as the user's NumPy sets it up: one thread a core, 2 here; torch with 2 threads): the parity MLP
(d = 30, 300 hidden, batch 128, hinge, SGD), the flat-activations end-to-end MLP (Affine 100 + ReLU x3,
Affine 1, batch 256, squared loss, Adam), the depth demo's plain MLP (32 hidden layers of 64, batch 64,
softmax cross-entropy, momentum), LeNet (batch 40, SGD; ``benchmarks/lenet_step.py``'s) and the end-to-end
demo's step at k = 1 and 4 (200 tuples, decomposition loss, Adam; ``benchmarks/e2e_step.py``'s). Loads:
nothing; a pure-Python spinner process; a NumPy matmul loop on 2 BLAS threads; a PyTorch matmul loop on 2
threads (where torch is installed). ``--rules`` adds, for the MLP steps, the BLAS rule before 2026-12-04
(``kernels.threads.ONE_THREAD_BELOW = 0``: BLAS's own threads for every product).

Each cell is one fresh process that runs its step for about a second (at least 3 steps, at most 100) to warm
up, then times it for ``--seconds`` (at most 3,000 steps), and reports the median step and the mean (wall time
/ steps, which shows a collapse that a median can hide). "busy / quiet" divides a cell's mean by the same
contender's mean beside nothing in the same invocation: the goal is at most 2x.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import training_step  # benchmarks/common.py: this script's folder is on sys.path

HERE = Path(__file__).resolve().parent
LOADS = {
    "spinner": "import time\nend = time.time() + {seconds}\nwhile time.time() < end: pass",
    "NumPy matmul, 2 threads": ("import os, time\nos.environ['OPENBLAS_NUM_THREADS'] = '2'\nimport numpy as np\n"
                                "a = np.random.rand(512, 512).astype(np.float32)\nend = time.time() + {seconds}\n"
                                "while time.time() < end: a @ a"),
    "PyTorch matmul, 2 threads": ("import time, torch\ntorch.set_num_threads(2)\na = torch.randn(512, 512)\n"
                                  "end = time.time() + {seconds}\nwhile time.time() < end: a @ a"),
}
STEPS = ("parity", "flat", "depth", "lenet", "e2e k=1", "e2e k=4")
MLPS = ("parity", "flat", "depth")
CONTENDERS = ("ours", "ours, BLAS's threads (before)", "PyTorch")


def mlp_shapes(which: str) -> tuple[int, list[int], int]:
    """(inputs, widths of the layers, batch) of an MLP step."""
    return {"parity": (30, [300, 1], 128), "flat": (100, [100, 100, 100, 1], 256),
            "depth": (16, [64] * 33 + [10], 64)}[which]


def mlp_feed(which: str):
    import numpy as np

    rng = np.random.default_rng(0)
    inputs, _, batch = mlp_shapes(which)
    if which == "parity":
        return rng.choice([-1.0, 1.0], size=(batch, inputs)), rng.choice([-1.0, 1.0], size=(batch, 1))
    if which == "flat":
        return rng.normal(size=(batch, inputs)), rng.normal(size=(batch, 1))
    return rng.normal(size=(batch, inputs)), rng.integers(0, 10, batch).astype(float)


def ours_mlp(which: str):
    import tinygrad_cg as cg
    from tinygrad_cg import layers as L
    from tinygrad_cg import optim

    inputs, widths, _ = mlp_shapes(which)
    X, Y = mlp_feed(which)
    x, y = L.Input("x", shape=(None, inputs)), L.Input("y", shape=(None,) + Y.shape[1:])
    h = x
    for width in widths[:-1]:
        h = L.ReLU(cg.nn.affine(h, width, rng=0))
    out = cg.nn.affine(h, widths[-1], rng=0)
    loss = {"parity": L.HingeLoss, "flat": L.SquaredLoss, "depth": L.SoftmaxCrossEntropy}[which](out, y)
    graph = cg.Graph(loss, input_grads=False)
    opt = {"parity": lambda v: optim.SGD(v, lr=0.01), "flat": lambda v: optim.Adam(v, lr=1e-3),
           "depth": lambda v: optim.Momentum(v, lr=0.01, momentum=0.9)}[which](graph.variables)
    feed = {"x": X, "y": Y}

    return training_step(graph, opt, feed)


def torch_mlp(which: str):
    import torch

    torch.set_num_threads(2)
    nn = torch.nn
    inputs, widths, _ = mlp_shapes(which)
    layers, width_in = [], inputs
    for width in widths[:-1]:
        layers += [nn.Linear(width_in, width), nn.ReLU()]
        width_in = width
    net = nn.Sequential(*layers, nn.Linear(width_in, widths[-1])).double()  # our MLP steps are float64
    X, Y = (torch.from_numpy(a) for a in mlp_feed(which))
    opt = {"parity": lambda p: torch.optim.SGD(p, lr=0.01), "flat": lambda p: torch.optim.Adam(p, lr=1e-3),
           "depth": lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9)}[which](net.parameters())
    loss = {"parity": lambda out: torch.relu(1 - Y * out).mean(),
            "flat": lambda out: 0.5 * ((out - Y) ** 2).mean(),
            "depth": lambda out: nn.functional.cross_entropy(out, Y.long())}[which]

    def step():
        opt.zero_grad()
        loss(net(X)).backward()
        opt.step()

    return step


def ours_lenet():
    import numpy as np

    import tinygrad_cg as cg
    from tinygrad_cg import layers as L
    from tinygrad_cg import optim

    rng = np.random.default_rng(0)
    x, y = L.Input("x", shape=(None, 1, 28, 28)), L.Input("labels", shape=(None,))
    graph = cg.Graph(L.SoftmaxCrossEntropy(cg.nn.lenet(x, 10, rng=0, fused=True), y), input_grads=False)
    opt = optim.SGD(graph.variables, lr=0.01)
    feed = {"x": rng.random(size=(40, 1, 28, 28)).astype(np.float32), "labels": rng.integers(0, 10, size=40)}

    return training_step(graph, opt, feed)


def torch_lenet():
    import numpy as np
    import torch

    torch.set_num_threads(2)
    nn = torch.nn
    rng = np.random.default_rng(0)
    net = nn.Sequential(nn.Conv2d(1, 20, 5), nn.MaxPool2d(2), nn.Conv2d(20, 50, 5), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(800, 500), nn.ReLU(), nn.Linear(500, 10))
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    X = torch.from_numpy(rng.random(size=(40, 1, 28, 28)).astype(np.float32))
    labels = torch.from_numpy(rng.integers(0, 10, size=40))

    def step():
        opt.zero_grad()
        nn.functional.cross_entropy(net(X), labels).backward()
        opt.step()

    return step


def e2e(k: int, torch_step: bool):
    sys.path.insert(0, str(HERE))
    import e2e_step  # the end-to-end step's benchmark: its builders

    if torch_step:
        import torch

        torch.set_num_threads(2)
        return e2e_step.pytorch(torch, k)
    return e2e_step.ours(k)


def build(which: str, contender: str):
    """The step function of ``which`` for ``contender`` (one of ``CONTENDERS``)."""
    torch_step = contender == "PyTorch"
    if contender == "ours, BLAS's threads (before)":
        from tinygrad_cg.kernels import threads

        threads.ONE_THREAD_BELOW = 0
    if which in MLPS:
        return torch_mlp(which) if torch_step else ours_mlp(which)
    if which == "lenet":
        return torch_lenet() if torch_step else ours_lenet()
    return e2e(int(which.split("=")[1]), torch_step)


def child(which: str, contender: str, seconds: float) -> None:
    sys.path.insert(0, str(HERE))
    from common import blas_kernel, steady_heap

    steady_heap()
    step = build(which, contender)
    start, warmups = time.perf_counter(), 0
    while warmups < 3 or (warmups < 100 and time.perf_counter() - start < 1.0):
        step()
        warmups += 1
    times, start = [], time.perf_counter()
    while time.perf_counter() - start < seconds and len(times) < 3000:
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    print(json.dumps({"median": statistics.median(times), "mean": (time.perf_counter() - start) / len(times),
                      "steps": len(times), "blas": blas_kernel()}))


def milliseconds(seconds: float) -> str:
    ms = 1e3 * seconds
    return f"{ms:.3f}" if ms < 1 else f"{ms:.2f}" if ms < 10 else f"{ms:.1f}" if ms < 100 else f"{ms:.0f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python benchmarks/busy_steps.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="how long each child times its step")
    parser.add_argument("--steps", nargs="+", choices=STEPS, default=list(STEPS), metavar="STEP",
                        help=f"the steps to time (default: all of {', '.join(STEPS)})")
    parser.add_argument("--loads", nargs="+", choices=list(LOADS), default=list(LOADS), metavar="LOAD",
                        help="the loads besides 'nothing', which is always measured first (default: all)")
    parser.add_argument("--rules", action="store_true", help="the MLP steps also under the old BLAS rule")
    parser.add_argument("--child", nargs=2, metavar=("STEP", "CONTENDER"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], args.child[1], args.seconds)
        return 0
    try:
        import torch  # noqa: F401
        have_torch = True
    except ImportError:
        have_torch = False
    loads = [load for load in args.loads if have_torch or "PyTorch" not in load]
    contenders = [c for c in CONTENDERS if (args.rules or "before" not in c) and (have_torch or c != "PyTorch")]
    print(f"| beside | step | {' | '.join(contenders)} |\n| --- | --- |{' --- |' * len(contenders)}")
    quiet, kernel = {}, ""
    for load in ("nothing", *loads):
        process = None if load == "nothing" else subprocess.Popen(
            [sys.executable, "-c", LOADS[load].format(seconds=10_000)])
        try:
            time.sleep(1.0)
            for which in args.steps:
                cells = []
                for contender in contenders:
                    if "before" in contender and which not in MLPS:
                        cells.append("")
                        continue
                    done = subprocess.run([sys.executable, __file__, "--seconds", str(args.seconds), "--child",
                                           which, contender], capture_output=True, text=True, check=True)
                    report = json.loads(done.stdout.strip().splitlines()[-1])
                    kernel = report["blas"] if contender != "PyTorch" else kernel
                    quiet.setdefault((which, contender), report["mean"])
                    ratio = report["mean"] / quiet[(which, contender)]
                    cells.append(f"{milliseconds(report['median'])} ms (mean {milliseconds(report['mean'])}"
                                 + (f", **{ratio:.2f}x** quiet)" if load != "nothing" else ")"))
                print(f"| {load} | {which} | {' | '.join(cells)} |", flush=True)
        finally:
            if process is not None:
                process.kill()
                process.wait()
    print(f"\nNumPy's BLAS: {kernel}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
