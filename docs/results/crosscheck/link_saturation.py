"""Why end-to-end sits at one constant answer at k = 2 on some seeds: the sigmoid link saturates.

Trains end-to-end at k = 2 (the authors' settings) and prints, at a few iterations, the held-out accuracy and
the sigmoid links sigma(score) of the held-out images (their mean and spread), for this project's engine and,
where torch is installed, the PyTorch transliteration of ``tuple_rect.py``:

    python docs/results/crosscheck/link_saturation.py            # ours seeds 0 (fails) and 7 (learns at 800)
    python docs/results/crosscheck/link_saturation.py --torch 2  # the cross-check's seed 2 (fails)

On a seed that fails, every image's score drifts to one side within a few hundred iterations (links all near 0
or all near 1), where the sigmoid's slope is ~0: no gradient reaches N1 again, N2 is fed a constant and
answers one sign, and the accuracy is the share of that sign among the targets (~0.47 or ~0.53).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]


def ours(seed: int, checkpoints=(1, 100, 300, 600, 1000), k: int = 2) -> None:
    import tinygrad_cg as cg
    from demos.e2e_networks import ADAM, build_tuple_net, tuple_feed
    from tinygrad_cg import optim

    net = build_tuple_net(k, np.random.default_rng(seed), "orig")
    graph = net.loss_graph("end-to-end")
    opt = optim.Adam(graph.variables, lr=1e-3, **ADAM, eps_form="tensorflow")
    rng = np.random.default_rng([seed, k, 0])  # the batches of demos.e2e_vs_decomposition.train for this seed
    test = tuple_feed(k, 400, np.random.default_rng([seed, 3, k]), with_labels=True)
    scores = cg.Graph(net.score, input_grads=False)
    for it in range(1, max(checkpoints) + 1):
        graph.forward(tuple_feed(k, 200, rng, with_labels=False))
        graph.backward()
        opt.step()
        if it in checkpoints:
            link = 1 / (1 + np.exp(-scores.forward({"images": test["images"]})))
            accuracy = np.mean(np.sign(net.predictor().forward({"images": test["images"]})) == test["target"])
            print(f"ours seed {seed} iteration {it:5d}: accuracy {accuracy:.3f}, links {link.mean():.3f} "
                  f"+- {link.std():.2g}")


def cross_check(seed: int, checkpoints=(100, 300, 1000), k: int = 2) -> None:
    import torch
    import tuple_rect_torch as T

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    data = T.RectTupleData(k, T.POOL_TUPLES, np.random.default_rng([seed, k, 1]))
    test_images, test_target, _ = T.RectTupleData(k, 400, np.random.default_rng([seed, k, 2])).next_batch(400)
    model = T.TupleRect(k)
    opt = T.make_optimizer(model, "tensorflow", 1e-3)
    for step in range(max(checkpoints) + 1):
        x, y, _ = data.next_batch(T.BATCH_SIZE)
        loss = torch.relu(1 - model(x)[1] * y).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step in checkpoints:
            with torch.no_grad():
                score, tuple_score = model(test_images)
                link = torch.sigmoid(score)
                accuracy = float(((tuple_score * test_target) > 0).float().mean())
            print(f"torch seed {seed} step {step:5d}: accuracy {accuracy:.3f}, links {float(link.mean()):.3f} "
                  f"+- {float(link.std()):.2g}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python docs/results/crosscheck/link_saturation.py",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--ours", type=int, nargs="*", default=[0, 7], help="this project's seeds to probe")
    parser.add_argument("--torch", type=int, nargs="*", default=[], help="the cross-check's seeds (needs torch)")
    args = parser.parse_args(argv)
    for seed in args.ours:
        ours(seed)
    for seed in args.torch:
        cross_check(seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
