"""The ``tinygrad-cg`` command: a walk through the lecture's graph, the exercises, or the demos runner."""

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
    add_exercise_commands(sub)
    args = parser.parse_args(argv)
    if args.command == "exercises":
        return exercises_command(parser, args)
    lecture_example(args.draw, args.animate)
    return 0


def add_exercise_commands(sub) -> None:
    from .exercises.catalogue import TRACKS

    exercises = sub.add_parser("exercises", help="write the backward passes yourself: start a workspace, check it",
                               description="Exercises: a copy of the library with the exercises' function bodies "
                                           "blank, graded against the library itself.")
    commands = exercises.add_subparsers(dest="action", required=True)
    start = commands.add_parser("start", help="write a workspace (a new or empty folder)")
    start.add_argument("dir", help="the folder to create")
    start.add_argument("--track", choices=list(TRACKS), default="all",
                       help="which exercises to blank (default: all, in the lectures' order)")
    for name, text in (("status", "every exercise: done, failing or not started"),
                       ("check", "grade one exercise (or all) and say what is wrong"),
                       ("hint", "the next hint of an exercise: the formula, then the shapes, then the NumPy idiom")):
        command = commands.add_parser(name, help=text)
        if name == "check":
            command.add_argument("exercise", nargs="?", help="its id, e.g. 1.3 (default: every exercise)")
        if name == "hint":
            command.add_argument("exercise", help="its id, e.g. 1.3")
        command.add_argument("--dir", default=".", help="the workspace (default: this folder)")


def exercises_command(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """``tinygrad-cg exercises start|status|check|hint``; exit 0 when what was asked for is done."""
    from .exercises import grader, workspace

    try:
        if args.action == "start":
            chosen = workspace.start(args.dir, args.track)
            print(f"wrote {args.dir}: {len(chosen)} exercises ({args.track}) in {args.dir}/{workspace.PACKAGE}/; "
                  f"see {args.dir}/README.md. Next: cd {args.dir} && tinygrad-cg exercises status")
            return 0
        if args.action == "hint":
            number, total, text = workspace.next_hint(args.dir, args.exercise)
            print(f"Exercise {args.exercise}, hint {number} of {total}: {text}")
            return 0
        ids = [args.exercise] if getattr(args, "exercise", None) else workspace.load_state(args.dir)["exercises"]
        verdicts = [grader.grade(i, args.dir) for i in ids]
    except ValueError as error:  # a WorkspaceError, or an id not in the catalogue
        parser.exit(2, f"tinygrad-cg exercises: error: {error}\n")
    if args.action == "status" or len(verdicts) > 1:
        print(status_table(verdicts))
    else:
        print(f"Exercise {verdicts[0].exercise}: {verdicts[0].message}")
    return 0 if all(v.status == "done" for v in verdicts) else 1


def status_table(verdicts) -> str:
    from .exercises.catalogue import get

    rows = [("id", "exercise", "status", "")] + [
        (v.exercise, get(v.exercise).title, v.status,
         "" if v.status == "done" else v.message.removeprefix("not started: ").split(" (hints")[0][:100])
        for v in verdicts]
    widths = [max(len(row[c]) for row in rows) for c in range(3)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)) + "  " + row[3]
             for row in rows]
    done = sum(v.status == "done" for v in verdicts)
    return "\n".join(line.rstrip() for line in lines) + f"\n{done} of {len(verdicts)} done"


if __name__ == "__main__":
    raise SystemExit(main())
