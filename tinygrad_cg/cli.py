"""The ``tinygrad-cg`` command: a walk through the lecture's graph, or the demos runner."""

from __future__ import annotations

import argparse
import sys


def lecture_example(draw: str | None = None, animate: str | None = None) -> None:
    """Build the least-squares graph of the lecture, print its table, a traced forward and backward;
    ``draw``: also write its picture after the pass (``.png`` or ``.svg``); ``animate``: an animation of
    the pass, one frame per layer (``.gif`` or ``.html``)."""
    import tinygrad_cg as cg
    from tinygrad_cg import layers as L

    def lecture_graph():
        x, y = L.Input("x"), L.Input("y")
        w = L.Variable(0.5, name="w")
        p = L.Multiply(w, x, name="p")
        r = L.Subtract(p, y, name="r")
        s = L.Square(r, name="s")
        return cg.Graph(s, dtype="float64"), w

    graph, w = lecture_graph()
    print(graph.summary(), "\n")
    print("loss =", graph.forward({"x": 2.0, "y": 3.0}, trace=print))
    graph.backward(trace=print)
    print(f"\nw.delta = {w.delta}  (by hand: 2 (w x - y) x = {2 * (0.5 * 2.0 - 3.0) * 2.0})")
    print("\nTo step through it yourself: in your script (import tinygrad_cg as cg), put breakpoint() before\n"
          "graph.backward(); at the (Pdb) prompt type  b cg.layers.Square.backward  then  c : pdb stops inside\n"
          "Square.backward, whose line  x.delta += 2 * x.output * self.delta  adds its share into r's delta.")
    if draw is not None or animate is not None:
        import matplotlib

        matplotlib.use("Agg")
    if draw is not None:
        cg.viz.draw(graph, draw)
        print(f"drawing: {draw}")
    if animate is not None:
        fresh, _ = lecture_graph()  # a graph before its pass: the animation runs the pass itself
        phases = [frame.phase for frame in cg.viz.animate(fresh, {"x": 2.0, "y": 3.0}, animate).frames]
        print(f"animation: {animate} ({len(phases)} frames: the graph, {phases.count('forward')} forward steps, "
              f"backward's start, {phases.count('backward')} backward steps)")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["demos"]:  # everything after it is the demos' own command line, --help included
        from .demos.__main__ import main as demos_main  # the repository's demos/, shipped as tinygrad_cg.demos

        return demos_main(argv[1:], prog="tinygrad-cg demos")
    parser = argparse.ArgumentParser(prog="tinygrad-cg", description=__doc__.replace("``", ""))
    sub = parser.add_subparsers(dest="command", required=True)
    example = sub.add_parser("example", help="the lecture's least-squares graph, traced step by step")
    example.add_argument("--draw", metavar="PATH", help="also draw the graph after its pass (.png or .svg)")
    example.add_argument("--animate", metavar="PATH",
                         help="also write an animation of the pass, one frame per layer (.gif or .html)")
    demos = sub.add_parser("demos", help="run the demos (the same flags as python -m demos in a checkout)",
                           add_help=False)
    demos.add_argument("rest", nargs=argparse.REMAINDER)  # for the help text; handled above
    args = parser.parse_args(argv)
    lecture_example(args.draw, args.animate)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
