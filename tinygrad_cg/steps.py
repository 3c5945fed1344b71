"""A pass as data: one record per layer, in the order the loops of ``Graph.forward`` and ``Graph.backward`` run.

    for step in graph.forward_steps({"x": 2.0, "y": 3.0}):
        print(step)        # forward [3] Multiply 'p' reads [2] w, [0] x -> output 1
    for step in graph.backward_steps():
        print(step)        # backward [3] Multiply 'p' with delta -4: [2] w.delta 0 -> -8, ...

Each step is a ``Step``: the layer and its number, the numbers of the inputs it read, and what it wrote:
in the forward pass its ``output``; in the backward pass each input's ``delta`` **before and after** the layer's
``+=`` (so a layer read by two consumers shows its delta growing, step by step). The arrays are copies taken
at that moment: the records stay true after the pass goes on. Stop iterating anywhere and the graph is left
as the loop would have left it at that layer, a debugger that cannot get lost.

The walk is its own loop, not the ``for`` of ``Graph.forward``: those stay the lecture's plain loops. The two
are tested to agree on every layer kind (``tests/test_steps.py``); ``trace=`` and ``viz.animate`` are built on
these records.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .graph import Graph, Layer


def show(array: Any) -> str:
    """A value as a learner reads it: the numbers of a scalar or an array of up to 4 entries (``1``,
    ``[0.5 -2]``), else its shape and mean, min and max; ``-`` for none."""
    from .graph import fmt_shape

    if array is None:
        return "-"
    array = np.asarray(array)
    if array.size <= 4:
        if array.ndim == 0:
            return f"{float(array):.4g}"
        return np.array2string(array.ravel(), precision=3, separator=" ", suppress_small=True)
    return f"{fmt_shape(array.shape)} mean {array.mean():.3g} [{array.min():.3g}, {array.max():.3g}]"


@dataclass(frozen=True)
class Step:
    """One layer's turn in a pass.

    Attributes:
        phase: ``"forward"`` or ``"backward"``.
        index: the layer's number in the graph (its place in the topological order).
        layer: the layer itself.
        inputs: the numbers of the layers it read (forward: all of them; backward: those that need a delta).
        output: forward: a copy of the output it computed. Backward: ``None``.
        delta: backward: a copy of its own delta, d loss / d output, which it pushed back. Forward: ``None``.
        deltas: backward: for each input's number, (its delta before, its delta after this layer's ``+=``).
    """

    phase: str
    index: int
    layer: Layer
    inputs: tuple[int, ...]
    output: np.ndarray | None = None
    delta: np.ndarray | None = None
    deltas: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict, repr=False)  # the inputs' names, for printing

    def __str__(self) -> str:
        head = f"{self.phase} [{self.index}] {self.layer.describe()}"
        if self.phase == "forward":
            reads = ", ".join(f"[{i}] {self.names[i]}" for i in self.inputs)
            return head + (f" reads {reads}" if reads else "") + f" -> output {show(self.output)}"
        pushes = "; ".join(f"[{i}] {self.names[i]}.delta {show(before)} -> {show(after)}"
                           for i, (before, after) in self.deltas.items())
        return f"{head} with delta {show(self.delta)}: {pushes or 'no input needs a delta'}"


def forward_steps(graph: Graph, feed: Mapping[Any, Any] | None = None) -> Iterator[Step]:
    """``graph.forward(feed)``, one ``Step`` per layer as it is computed (every layer's shapes checked)."""
    graph._apply_feed(feed or {})
    graph._checked_shapes = None  # this walk checks every shape; the next plain pass checks again
    for t, layer in enumerate(graph.layers):
        layer.check_input_shapes()
        layer.forward()
        if graph.check_finite:
            graph._raise_if_non_finite(layer, layer.output, "output")
        inputs = tuple(graph.index[id(i)] for i in layer.inputs)
        yield Step("forward", t, layer, inputs, output=np.array(layer.output, copy=True),
                   names={graph.index[id(i)]: i.name for i in layer.inputs})


def backward_steps(graph: Graph) -> Iterator[Step]:
    """``graph.backward()``, one ``Step`` per layer that pushes a delta back, in the backward loop's order."""
    if not graph._start_backward():
        return
    for layer in graph._backward_order:
        targets = [i for i in layer.inputs if i.needs_delta]
        before = {graph.index[id(i)]: np.array(i.delta, copy=True) for i in targets}
        layer.backward()
        if graph.check_finite:
            for inp in targets:
                graph._raise_if_non_finite(layer, inp.delta, f"delta sent to '{inp.name}'")
        deltas = {graph.index[id(i)]: (before[graph.index[id(i)]], np.array(i.delta, copy=True)) for i in targets}
        yield Step("backward", graph.index[id(layer)], layer, tuple(deltas), delta=np.array(layer.delta, copy=True),
                   deltas=deltas, names={graph.index[id(i)]: i.name for i in targets})
