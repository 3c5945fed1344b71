"""Draw a ``Graph`` as a picture with matplotlib (no Graphviz): the lecture's numbered graph, and after a
forward/backward pass each node's ``output`` and ``delta``.

    cg.viz.draw(graph, "graph.png")          # or .svg; returns the matplotlib figure

Layout: a node's column is its depth (the longest path from an Input, so every edge points right and the
inputs stand at the left); what no Input feeds (a Variable, a Constant, a flattened kernel) stands in the
column just before its first reader, next to where it is used; inside a column nodes are stacked in
topological order. Each box shows the layer's number, kind, name and shape, then ``out`` and ``delta``:
the values themselves for scalars and arrays of up to 4 numbers, else their mean, min and max. Inputs are
green, Variables orange, Constants grey, the loss (the graph's first output) red, every other layer blue.
Columns wrap into bands at most ``max_width`` inches wide (``bands``), like lines of text; a column of
parameters moves with the column that reads it, and an edge into a later band runs through the gaps.
In Jupyter a Graph shows itself as this picture (``Graph._repr_png_``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ArgumentError
from .graph import Graph, Layer, fmt_shape

MAX_NODES = 60  # beyond this a drawing is unreadable: draw the summary table instead
MAX_WIDTH = 16.0  # inches: a slide 1600 px wide at 100 dpi shows the 7-point labels at their size

COLORS = {"input": "#d9f2d9", "variable": "#ffe0b3", "constant": "#e6e6e6", "loss": "#ffcccc", "layer": "#dbe8fb"}


@dataclass
class Node:
    index: int          # the layer's number (topological order)
    column: int         # depth: longest path from a source layer
    row: int            # position inside its column
    role: str           # input, variable, constant, loss or layer: the box's colour
    label: str          # the text in the box
    fed: bool = True    # False for what no Input feeds (parameters, kernels): placed just before its reader


@dataclass
class Layout:
    """What ``draw`` places: one node per layer (in ``graph.layers`` order) and one edge per (input, layer)."""

    nodes: list[Node]
    edges: list[tuple[int, int]]  # (number of the input, number of the layer reading it)

    @property
    def columns(self) -> int:
        return 1 + max(node.column for node in self.nodes)

    @property
    def rows(self) -> int:
        return 1 + max(node.row for node in self.nodes)


def describe_array(array: np.ndarray | None) -> str:
    """``2.5`` or ``[1 -2 0.5]`` for tiny arrays; ``mean 0.1 [-2, 3]`` otherwise; ``-`` for none."""
    if array is None:
        return "-"
    array = np.asarray(array)
    if array.size <= 4:
        return np.array2string(array.ravel() if array.ndim > 1 else array, precision=3, separator=" ",
                               suppress_small=True)
    return f"mean {array.mean():.3g} [{array.min():.3g}, {array.max():.3g}]"


def _role(graph: Graph, layer: Layer) -> str:
    from .layers.sources import Constant, Input, Variable

    if layer is graph.outputs[0]:
        return "loss"
    for kind, role in ((Input, "input"), (Variable, "variable"), (Constant, "constant")):
        if isinstance(layer, kind):
            return role
    return "layer"


def layout(graph: Graph, values: bool = True) -> Layout:
    """Columns by depth, rows by topological order within a column; labels with values if ``values``."""
    from .layers.sources import Input

    depth: dict[int, int] = {}
    for layer in graph.layers:  # topological order: every input's depth is known before its reader's
        depth[id(layer)] = 1 + max((depth[id(i)] for i in layer.inputs), default=-1)
    readers: dict[int, list[Layer]] = {}
    for layer in graph.layers:
        for i in layer.inputs:
            readers.setdefault(id(i), []).append(layer)
    fed = {id(layer) for layer in graph.layers if isinstance(layer, Input)}
    for layer in graph.layers:
        if any(id(i) in fed for i in layer.inputs):
            fed.add(id(layer))
    for layer in reversed(graph.layers):  # what no Input feeds (parameters, kernels): just before its first reader
        if id(layer) not in fed and id(layer) in readers:
            depth[id(layer)] = min(depth[id(r)] for r in readers[id(layer)]) - 1
    next_row: dict[int, int] = {}
    nodes = []
    for t, layer in enumerate(graph.layers):
        column = depth[id(layer)]
        row = next_row.get(column, 0)
        next_row[column] = row + 1
        shape = layer.output.shape if layer.output is not None else layer.shape
        label = f"[{t}] {layer.kind}\n{layer.name}\n{fmt_shape(shape)}"
        if values:
            label += f"\nout: {describe_array(layer.output)}\ndelta: {describe_array(layer.delta)}"
        nodes.append(Node(t, column, row, _role(graph, layer), label, fed=id(layer) in fed))
    edges = [(graph.index[id(i)], t) for t, layer in enumerate(graph.layers) for i in layer.inputs]
    return Layout(nodes, edges)


def draw(graph: Graph, path: str | Path | None = None, values: bool = True, max_nodes: int = MAX_NODES,
         max_width: float | None = MAX_WIDTH):
    """Draw ``graph`` (see the module docstring); write it to ``path`` (``.png`` or ``.svg``) if given and
    return the figure. Columns wrap into bands, like lines of text, so that no band is wider than
    ``max_width`` inches (``None``: one band); an edge into the next band runs down the gap between the
    bands and enters its box from the left. A graph of more than ``max_nodes`` layers is drawn as its
    ``summary()`` table, with a title that says so."""
    import matplotlib.pyplot as plt

    if path is not None and Path(path).suffix.lower() not in (".png", ".svg"):
        raise ArgumentError(f"viz.draw: path must end in .png or .svg, got {str(path)!r}")
    if max_width is not None and not max_width > 0:
        raise ArgumentError(f"viz.draw: max_width must be a positive number of inches or None, got {max_width!r}")
    if len(graph.layers) > max_nodes:
        text = graph.summary()
        fig = plt.figure(figsize=(9, 0.16 * (text.count("\n") + 4)))
        fig.text(0.01, 0.99, f"{len(graph.layers)} layers: more than {max_nodes} to draw, so the summary table",
                 va="top", fontsize=10, weight="bold")
        fig.text(0.01, 0.97, text, va="top", family="monospace", fontsize=7)
    else:
        fig = _draw_layout(plt, layout(graph, values), max_width)
    if path is not None:
        fig.savefig(path)
    return fig


CHAR, LINE = 0.062, 0.13  # inches per character and per line of 7-point monospace text


def bands(widths: list[float], max_width: float | None, keep_with_next: list[bool] | None = None) -> list[int]:
    """The band (0, 1, ...) of each column: columns fill a band left to right until the next one would make
    it wider than ``max_width`` inches (a column wider than that gets a band of its own). A column marked
    ``keep_with_next`` (it holds parameters read by the next column) moves to the next band with it."""
    keep = keep_with_next or [False] * len(widths)
    band_of: list[int] = []
    band, start, used = 0, 0, 0.0  # the current band, its first column, and its width so far
    for c, width in enumerate(widths):
        if max_width is not None and c > start and used + width > max_width:
            band += 1
            start = c - 1 if keep[c - 1] and c - 1 > start else c
            band_of[start:c] = [band] * (c - start)
            used = sum(widths[start:c])
        band_of.append(band)
        used += width
    return band_of


@dataclass
class Geometry:
    """Where ``_paint`` puts things, in inches from the top left: the figure's size, each box's centre and half
    width, and each edge as a polyline from the input's box to the reader's (its last segment the arrow)."""

    size: tuple[float, float]
    where: dict[int, tuple[float, float]]
    half_width: dict[int, float]
    paths: dict[tuple[int, int], tuple[list[float], list[float]]]


def _geometry(lay: Layout, max_width: float | None = MAX_WIDTH) -> Geometry:
    """Boxes in inches: each column as wide as its longest label line, rows as tall as the tallest label;
    columns wrapped into bands (``bands``), each band as tall as its tallest column."""
    widths = [0.4 + CHAR * max((max(map(len, n.label.splitlines())) for n in lay.nodes if n.column == c), default=0)
              for c in range(lay.columns)]
    readers_column = {n.index: min((lay.nodes[t].column for s, t in lay.edges if s == n.index), default=-1)
                      for n in lay.nodes}
    keep = [any(not n.fed and readers_column[n.index] == c + 1 for n in lay.nodes if n.column == c)
            for c in range(lay.columns)]
    band_of = bands(widths, max_width - 0.6 if max_width is not None else None, keep)  # 0.6 in of margins
    n_bands = 1 + max(band_of)
    left, used = [], 0.0  # the centre of each column, restarting at the left margin in each band
    for c, width in enumerate(widths):
        used = 0.0 if c == 0 or band_of[c] != band_of[c - 1] else used
        left.append(0.3 + used + 0.5 * width)
        used += width
    row_height = 0.35 + LINE * max(n.label.count("\n") + 1 for n in lay.nodes)
    rows_in_band = [1 + max(n.row for n in lay.nodes if band_of[n.column] == b) for b in range(n_bands)]
    gap = 0.35  # inches between bands, where edges into the next band run
    top = np.concatenate([[0.15], 0.15 + np.cumsum([row_height * r + gap for r in rows_in_band])[:-1]])
    width = max(0.6 + sum(w for c, w in enumerate(widths) if band_of[c] == b) for b in range(n_bands))
    size = (max(3.0, width), max(1.5, top[-1] + row_height * rows_in_band[-1] + 0.15))
    band = {n.index: band_of[n.column] for n in lay.nodes}
    where = {n.index: (left[n.column], top[band[n.index]] + row_height * (n.row + 0.5)) for n in lay.nodes}
    half_width = {n.index: 0.5 * CHAR * max(map(len, n.label.splitlines())) + 0.07 for n in lay.nodes}
    column = {n.index: n.column for n in lay.nodes}
    paths = {}
    for source, target in lay.edges:  # from the right edge of the input's box to the left edge of the reader's
        (x0, y0), (x1, y1) = where[source], where[target]
        start, end = (x0 + half_width[source], y0), (x1 - half_width[target], y1)
        if band[source] == band[target]:
            paths[source, target] = ([start[0], end[0]], [start[1], end[1]])
            continue
        # Into a later band, through the empty space only: along the gutter right of the input's column, along
        # the gap below its band, down the left margin (when a band lies between), along the gap above the
        # target's band, down the gutter left of the target's column, and in.
        right_gutter = left[column[source]] + 0.5 * widths[column[source]] - 0.02
        left_gutter = left[column[target]] - 0.5 * widths[column[target]] + 0.02
        below_source = top[band[source] + 1] - gap / 2
        above_target = top[band[target]] - gap / 2
        xs = [start[0], right_gutter, right_gutter]
        ys = [start[1], start[1], below_source]
        if band[target] > band[source] + 1:
            xs += [0.1, 0.1]
            ys += [below_source, above_target]
        xs += [left_gutter, left_gutter, end[0]]
        ys += [above_target, end[1], end[1]]
        paths[source, target] = (xs, ys)
    return Geometry(size, where, half_width, paths)


def _paint(ax, lay: Layout, geometry: Geometry, labels: dict[int, str] | None = None, current: int | None = None,
           marked: tuple[tuple[int, int], ...] = (), mark_color: str = "#2a9d3a", backwards: bool = False) -> None:
    """Draw the boxes (``labels`` in place of the layout's, where given) and the edges on ``ax``; the box
    ``current`` outlined and the ``marked`` edges drawn thick in ``mark_color``, their arrows turned round
    when ``backwards`` (a delta flows from the reader to its input): the animation's frames."""
    ax.set_xlim(0, geometry.size[0])
    ax.set_ylim(geometry.size[1], 0)
    ax.set_position((0, 0, 1, 1))
    ax.axis("off")
    for node in lay.nodes:
        here = node.index == current
        ax.text(*geometry.where[node.index], (labels or {}).get(node.index, node.label), ha="center",
                va="center", fontsize=7, family="monospace", zorder=3 if here else 2,
                bbox=dict(boxstyle="round,pad=0.4", facecolor=COLORS[node.role],
                          edgecolor=mark_color if here else "0.3", linewidth=2.5 if here else 1))
    for edge, (xs, ys) in geometry.paths.items():
        color, lw = (mark_color, 2.2) if edge in marked else ("0.45", 0.8)
        if backwards and edge in marked:  # the arrow is the first segment, pointing back at the input
            xs, ys = xs[::-1], ys[::-1]
        if len(xs) > 2:  # the way through the gaps into a later band; the arrow is the last segment
            ax.plot(xs[:-1], ys[:-1], color=color, lw=lw, zorder=1)
        ax.annotate("", xy=(xs[-1], ys[-1]), xytext=(xs[-2], ys[-2]), zorder=1,
                    arrowprops=dict(arrowstyle="->", color=color, lw=lw, shrinkA=0, shrinkB=0))


def _draw_layout(plt, lay: Layout, max_width: float | None = MAX_WIDTH):
    geometry = _geometry(lay, max_width)
    fig, ax = plt.subplots(figsize=geometry.size)
    _paint(ax, lay, geometry)
    return fig


# the animation of a pass (its own module: frames, captions, writers), drawn with this module's layout
from .animation import Animation, animate  # noqa: E402, F401 - cg.viz.animate is the public name
