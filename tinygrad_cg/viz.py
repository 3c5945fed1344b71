"""Draw a ``Graph`` as a picture with matplotlib (no Graphviz): the lecture's numbered graph, and after a
forward/backward pass each node's ``output`` and ``delta``.

    cg.viz.draw(graph, "graph.png")          # or .svg; returns the matplotlib figure

Layout: a node's column is its depth (the longest path from an Input, so every edge points right and the
inputs stand at the left); what no Input feeds (a Variable, a Constant, a flattened kernel) stands in the
column just before its first reader, next to where it is used; inside a column nodes are stacked in
topological order. Each box shows the layer's number, kind, name and shape, then ``out`` and ``delta``:
the values themselves for scalars and arrays of up to 4 numbers, else their mean, min and max. Inputs are
green, Variables orange, Constants grey, the loss (the graph's first output) red, every other layer blue.
In Jupyter a Graph shows itself as this picture (``Graph._repr_png_``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ArgumentError
from .graph import Graph, Layer, fmt_shape

MAX_NODES = 60  # beyond this a drawing is unreadable: draw the summary table instead

COLORS = {"input": "#d9f2d9", "variable": "#ffe0b3", "constant": "#e6e6e6", "loss": "#ffcccc", "layer": "#dbe8fb"}


@dataclass
class Node:
    index: int          # the layer's number (topological order)
    column: int         # depth: longest path from a source layer
    row: int            # position inside its column
    role: str           # input, variable, constant, loss or layer: the box's colour
    label: str          # the text in the box


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
        nodes.append(Node(t, column, row, _role(graph, layer), label))
    edges = [(graph.index[id(i)], t) for t, layer in enumerate(graph.layers) for i in layer.inputs]
    return Layout(nodes, edges)


def draw(graph: Graph, path: str | Path | None = None, values: bool = True, max_nodes: int = MAX_NODES):
    """Draw ``graph`` (see the module docstring); write it to ``path`` (``.png`` or ``.svg``) if given and
    return the figure. A graph of more than ``max_nodes`` layers is drawn as its ``summary()`` table, with
    a title that says so."""
    import matplotlib.pyplot as plt

    if path is not None and Path(path).suffix.lower() not in (".png", ".svg"):
        raise ArgumentError(f"viz.draw: path must end in .png or .svg, got {str(path)!r}")
    if len(graph.layers) > max_nodes:
        text = graph.summary()
        fig = plt.figure(figsize=(9, 0.16 * (text.count("\n") + 4)))
        fig.text(0.01, 0.99, f"{len(graph.layers)} layers: more than {max_nodes} to draw, so the summary table",
                 va="top", fontsize=10, weight="bold")
        fig.text(0.01, 0.97, text, va="top", family="monospace", fontsize=7)
    else:
        fig = _draw_layout(plt, layout(graph, values))
    if path is not None:
        fig.savefig(path)
    return fig


def _draw_layout(plt, lay: Layout):
    """Boxes in inches: each column as wide as its longest label line, rows as tall as the tallest label."""
    char, line = 0.062, 0.13  # inches per character and per line of 7-point monospace text
    widths = [0.4 + char * max((max(map(len, n.label.splitlines())) for n in lay.nodes if n.column == c), default=0)
              for c in range(lay.columns)]
    left = np.concatenate([[0.0], np.cumsum(widths)[:-1]]) + 0.5 * np.array(widths) + 0.3
    row_height = 0.35 + line * max(n.label.count("\n") + 1 for n in lay.nodes)
    size = (sum(widths) + 0.6, row_height * lay.rows + 0.3)
    fig, ax = plt.subplots(figsize=(max(3.0, size[0]), max(1.5, size[1])))
    ax.set_xlim(0, size[0])
    ax.set_ylim(size[1], 0)
    ax.set_position((0, 0, 1, 1))
    ax.axis("off")
    where = {n.index: (left[n.column], 0.15 + row_height * (n.row + 0.5)) for n in lay.nodes}
    half_width = {n.index: 0.5 * char * max(map(len, n.label.splitlines())) + 0.07 for n in lay.nodes}
    for node in lay.nodes:
        ax.text(*where[node.index], node.label, ha="center", va="center", fontsize=7, family="monospace",
                zorder=2, bbox=dict(boxstyle="round,pad=0.4", facecolor=COLORS[node.role], edgecolor="0.3"))
    for source, target in lay.edges:  # from the right edge of the input's box to the left edge of the reader's
        (x0, y0), (x1, y1) = where[source], where[target]
        ax.annotate("", xy=(x1 - half_width[target], y1), xytext=(x0 + half_width[source], y0), zorder=1,
                    arrowprops=dict(arrowstyle="->", color="0.45", lw=0.8, shrinkA=0, shrinkB=0))
    return fig
