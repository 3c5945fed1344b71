"""The ``tinygrad-cg`` command: a walk through the lecture's graph, or the demos runner."""

from __future__ import annotations

import argparse
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
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["demos"]:  # everything after it is the demos' own command line, --help included
        from .demos.__main__ import main as demos_main  # the repository's demos/, shipped as tinygrad_cg.demos

        return demos_main(argv[1:], prog="tinygrad-cg demos")
    parser = argparse.ArgumentParser(prog="tinygrad-cg", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    example = sub.add_parser("example", help="the lecture's least-squares graph, traced step by step")
    example.add_argument("--draw", metavar="PATH", help="also draw the graph after its pass (.png or .svg)")
    demos = sub.add_parser("demos", help="run the demos (the same flags as python -m demos in a checkout)",
                           add_help=False)
    demos.add_argument("rest", nargs=argparse.REMAINDER)  # for the help text; handled above
    args = parser.parse_args(argv)
    lecture_example(args.draw)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
