"""The ``tinygrad-cg`` command: a walk through the lecture's graph, or the demos runner."""

from __future__ import annotations

import argparse
import os
import sys


def lecture_example(draw: str | None = None) -> None:
    """Build the least-squares graph of the lecture, print its table, a traced forward and backward;
    ``draw``: also write its picture after the pass (``.png`` or ``.svg``)."""
    import tinygrad_cg as cg
    from tinygrad_cg import layers as L

    x, y = L.Input("x"), L.Input("y")
    w = L.Variable(0.5, name="w")
    p = L.Multiply(w, x, name="p")
    r = L.Subtract(p, y, name="r")
    s = L.Square(r, name="s")
    graph = cg.Graph(s, dtype="float64")
    print(graph.summary(), "\n")
    print("loss =", graph.forward({"x": 2.0, "y": 3.0}, trace=print))
    graph.backward(trace=print)
    print(f"\nw.delta = {w.delta}  (by hand: 2 (w x - y) x = {2 * (0.5 * 2.0 - 3.0) * 2.0})")
    if draw is not None:
        import matplotlib

        matplotlib.use("Agg")
        cg.viz.draw(graph, draw)
        print(f"drawing: {draw}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tinygrad-cg", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    example = sub.add_parser("example", help="the lecture's least-squares graph, traced step by step")
    example.add_argument("--draw", metavar="PATH", help="also draw the graph after its pass (.png or .svg)")
    demos = sub.add_parser("demos", help="run the demos (from a checkout: same as python -m demos)")
    demos.add_argument("rest", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.command == "example":
        lecture_example(args.draw)
        return 0
    if os.path.isdir("demos") and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # a console script's path does not include the working directory
    try:
        from demos.__main__ import main as demos_main
    except ImportError:
        print("the demos live in the repository's demos/ folder: run this from the checkout's root",
              file=sys.stderr)
        return 2
    return demos_main(args.rest)


if __name__ == "__main__":
    raise SystemExit(main())
