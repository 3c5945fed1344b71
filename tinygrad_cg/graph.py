"""The engine: ``Layer`` and ``Graph``.

This is the lecture's computation graph made runnable. Layers are numbered in topological order;
the forward pass is one loop,

    for t = 0 .. T-1:      layer[t].output = f_t(inputs' outputs)

and the backward pass is another,

    layer[T-1].delta = 1
    for t = T-1 .. 0:      for each input i of layer[t]:  i.delta += J_{t,i}^T layer[t].delta

where ``delta`` is the gradient of the (scalar) loss with respect to a layer's output and
``J_{t,i}`` the Jacobian of layer t with respect to its input i. Each layer's ``backward`` does the
``+=`` for its own inputs, so a layer used twice receives the sum of both contributions.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import numpy as np

from . import steps
from .errors import FeedError, GraphError, NonFiniteError, ShapeError
from .kernels import threads
from .steps import Step

Shape = tuple[int | None, ...]
"""A static shape: ``None`` marks a dimension not known before the feed (usually the batch)."""


def dims_match(a: int | None, b: int | None) -> bool:
    """Two dimensions fit if they are equal or either is still unknown (``None``)."""
    return a is None or b is None or a == b


def shapes_match(a: Shape | None, b: Shape | None) -> bool:
    """Two shapes fit if they have the same rank and every dimension fits (no broadcasting)."""
    if a is None or b is None:
        return True
    return len(a) == len(b) and all(dims_match(x, y) for x, y in zip(a, b, strict=True))


def fmt_shape(shape: Shape | None) -> str:
    """``(None, 30)`` prints as ``(N, 30)``; an unknown shape as ``?``."""
    if shape is None:
        return "?"
    dims = ["N" if d is None else str(d) for d in shape]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


class Layer:
    """A node of the computation graph.

    Attributes:
        inputs: the layers this one reads (a tuple, fixed at construction).
        output: this layer's value after ``forward`` (an ndarray).
        delta: d loss / d output after ``Graph.backward`` (same shape as ``output``), or ``None``
            when no trainable parameter lies upstream (then nobody needs it and it is skipped).
        name: a readable name, unique enough to find the layer in ``Graph.summary()``.
        shape: the static output shape, ``None`` entries for dimensions fixed only by the feed.

    A subclass implements ``infer_shape`` (the shape rule, which raises ``ShapeError`` when the
    inputs do not fit), ``forward`` (sets ``self.output``) and ``backward`` (adds each input's
    vector-Jacobian product into ``inp.delta`` for the inputs whose ``needs_delta`` is true).

    ``batch_parallel``: the layer splits its batch over threads (``kernels/threads.py``); a graph holding one
    runs its passes as a thread team.
    """

    _creation_counter = itertools.count()
    batch_parallel = False

    def __init__(self, *inputs: Layer, name: str | None = None):
        for position, inp in enumerate(inputs):
            if not isinstance(inp, Layer):
                raise GraphError(
                    f"{type(self).__name__}: input {position} is a {type(inp).__name__}, not a Layer "
                    "(wrap arrays in L.Input, L.Variable or L.Constant)"
                )
        self.inputs: tuple[Layer, ...] = tuple(inputs)
        self.creation_index = next(Layer._creation_counter)
        # A layer built without a name gets a provisional one here and its final one from the first Graph
        # that holds it: its kind and its number in that graph (``Graph.name_layers``), so default names,
        # and the checkpoints keyed by them, do not depend on what else the process built before.
        self.name_rule: tuple[str, Layer | None] | None = None if name is not None else (self.kind.lower(), None)
        self.name = name if name is not None else f"{self.kind.lower()}_{self.creation_index}"
        self.output: np.ndarray | None = None
        self.delta: np.ndarray | None = None
        self.needs_delta = True
        input_shapes = [inp.shape for inp in inputs]
        self.shape: Shape | None = (
            None if any(s is None for s in input_shapes) else self.infer_shape(*input_shapes)
        )

    # --- to be implemented by each layer -----------------------------------------------------
    def infer_shape(self, *input_shapes: Shape) -> Shape | None:
        """Output shape from input shapes (``None`` dims allowed); raise ``ShapeError`` on misfit."""
        raise NotImplementedError

    def forward(self) -> None:
        raise NotImplementedError

    def backward(self) -> None:
        raise NotImplementedError

    # --- helpers ----------------------------------------------------------------------------
    def name_after(self, owner: Layer, part: str) -> None:
        """Unless named explicitly, take the name ``<owner's name>.<part>`` (e.g. ``affine_4.W``) once the
        owner has its final name: how builders name the parameters and helper layers they create."""
        if self.name_rule is not None:
            self.name_rule = (part, owner)
            self.name = f"{owner.name}.{part}"

    @property
    def kind(self) -> str:
        return type(self).__name__

    def describe(self) -> str:
        """``"Affine 'fc1'"``: how errors name this layer."""
        return f"{self.kind} '{self.name}'"

    def shape_error(self, message: str) -> ShapeError:
        return ShapeError(f"{self.describe()}: {message}")

    def check_input_shapes(self) -> None:
        """Run the shape rule on the actual input arrays (called by ``Graph.forward``)."""
        self.infer_shape(*(inp.output.shape for inp in self.inputs))

    def __repr__(self) -> str:
        return f"<{self.describe()} shape={fmt_shape(self.shape)}>"


class Source(Layer):
    """A layer without inputs whose output is set from outside (feed, parameter, constant)."""

    def __init__(self, name: str | None = None, shape: Shape | None = None):
        self._declared_shape = None if shape is None else tuple(shape)
        super().__init__(name=name)

    def infer_shape(self) -> Shape | None:
        return self._declared_shape

    def check_input_shapes(self) -> None:
        pass

    def forward(self) -> None:
        pass

    def backward(self) -> None:
        pass


class Graph:
    """A computation graph: every ancestor of ``outputs``, numbered in topological order.

    Args:
        *outputs: the layers to compute. The first is what ``forward`` returns and what
            ``backward`` differentiates (it must be a scalar loss).
        dtype: the float dtype all arrays are computed in (parameters and feeds are cast to it).
        check_finite: after each layer's forward and backward, raise ``NonFiniteError`` naming the
            first layer whose output or delta holds NaN or Inf.
        input_grads: also push ``delta`` into ``Input`` layers (the lecture's picture: every node
            gets a delta). Training loops set it to False to skip that work.

    ``layers`` is the numbered list; ``variables`` the trainable parameters in that order.
    """

    def __init__(
        self,
        *outputs: Layer,
        dtype: Any = np.float32,
        check_finite: bool = False,
        input_grads: bool = True,
    ):
        if not outputs:
            raise GraphError("Graph needs at least one output layer")
        for out in outputs:
            if not isinstance(out, Layer):
                raise GraphError(f"Graph output {out!r} is a {type(out).__name__}, not a Layer")
        self.outputs = tuple(outputs)
        self.check_finite = check_finite
        self.input_grads = input_grads
        self.layers: list[Layer] = topological_sort(self.outputs)
        self.index = {id(layer): i for i, layer in enumerate(self.layers)}
        self.name_layers()
        from .layers.sources import Constant, Input, Variable

        self.inputs = [layer for layer in self.layers if isinstance(layer, Input)]
        self.variables = [layer for layer in self.layers if isinstance(layer, Variable)]
        self._constants = [layer for layer in self.layers if isinstance(layer, Constant)]
        self._inputs_by_name = {}
        for inp in self.inputs:
            if inp.name in self._inputs_by_name:
                raise GraphError(f"two Input layers are both named '{inp.name}'; feeds go by name")
            self._inputs_by_name[inp.name] = inp
        self.set_dtype(dtype)
        self._mark_needs_delta()
        # what backward restores each pass (a layer shared with another graph may have been marked by it)
        self._needs_delta = [(layer, layer.needs_delta) for layer in self.layers]
        # the sources' shapes at the last forward whose shapes were all checked (see forward)
        self._sources = [layer for layer in self.layers if not layer.inputs]
        self._checked_shapes: list | None = None
        self._batch_parallel = any(layer.batch_parallel for layer in self.layers)
        self._products = [layer for layer in self.layers if hasattr(layer, "multiply_adds")]
        self._blas_one_thread = False  # decided after each pass whose shapes were checked (see _threads)
        # Backward only visits the loss's ancestors, in reverse order.
        loss_ancestors = {id(layer) for layer in topological_sort(self.outputs[:1])}
        self._delta_layers = [
            layer for layer in self.layers if id(layer) in loss_ancestors and layer.needs_delta
        ]
        self._backward_order = [layer for layer in reversed(self._delta_layers) if layer.inputs]

    # --- construction helpers ---------------------------------------------------------------
    def name_layers(self) -> None:
        """Give each layer still without a final name one from this graph: ``<kind>_<number>`` by its place
        in the topological order, or ``<owner>.<part>`` for what a builder made (``affine_4.W``). The same
        network built again gets the same names, in this process or another."""
        taken = {layer.name for layer in self.layers if layer.name_rule is None}
        unnamed = [layer for layer in self.layers if layer.name_rule is not None]
        # owners first, so that their parts can be named after them
        for layer in sorted(unnamed, key=lambda layer: layer.name_rule[1] is not None):
            root, owner = layer.name_rule
            if owner is None or id(owner) not in self.index:
                name = f"{root}_{self.index[id(layer)]}" if owner is None else f"{owner.kind.lower()}.{root}"
            else:
                name = f"{owner.name}.{root}"
            candidate, repeat = name, 1
            while candidate in taken:  # another graph already used this number for another layer
                repeat += 1
                candidate = f"{name}_{repeat}"
            layer.name, layer.name_rule = candidate, None
            taken.add(candidate)

    def set_dtype(self, dtype: Any) -> None:
        """Compute in ``dtype`` from now on: casts every Variable and Constant in place."""
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise GraphError(f"Graph dtype must be a float dtype, got {dtype}")
        self.dtype = dtype
        for layer in self.variables + self._constants:
            layer.output = np.asarray(layer.output, dtype=dtype)
            layer.delta = None

    def _mark_needs_delta(self) -> None:
        """A layer needs a delta if a Variable (or, with input_grads, an Input) lies upstream."""
        from .layers.sources import Constant, Input, Variable

        for layer in self.layers:
            if isinstance(layer, Variable):
                layer.needs_delta = True
            elif isinstance(layer, Input):
                layer.needs_delta = self.input_grads
            elif isinstance(layer, Constant):
                layer.needs_delta = False
            else:
                layer.needs_delta = any(inp.needs_delta for inp in layer.inputs)

    def train(self, mode: bool = True) -> Graph:
        """Switch layers with a training mode (BatchNorm) to training (True) or evaluation (False)."""
        for layer in self.layers:
            if hasattr(layer, "training"):
                layer.training = mode
        return self

    def eval(self) -> Graph:
        """Evaluation mode: BatchNorm uses its running statistics."""
        return self.train(False)

    # --- the two passes ---------------------------------------------------------------------
    def forward(self, feed: Mapping[Any, Any] | None = None, trace: Callable[[str], Any] | None = None):
        """Compute every layer in order; return the first output's array.

        ``feed`` maps each ``Input`` (the layer or its name) to an array. ``trace`` (e.g. ``print``)
        receives one line per layer as it is computed, with the values it read and wrote
        (``forward_steps`` gives the same walk as records).
        """
        if trace is not None:
            for step in self.forward_steps(feed):
                trace(str(step))
            return self.outputs[0].output
        self._apply_feed(feed or {})
        # A layer's output shape follows from its inputs' shapes, so with the sources' shapes (feeds, parameters,
        # constants) as at the last checked pass every layer's inputs have the shapes checked then: skip the
        # checks. A training loop checks its first step only.
        source_shapes = [layer.output.shape for layer in self._sources]
        check = source_shapes != self._checked_shapes
        self._checked_shapes = None
        with self._threads():
            for layer in self.layers:
                if check:
                    layer.check_input_shapes()
                layer.forward()
                if self.check_finite:
                    self._raise_if_non_finite(layer, layer.output, "output")
        if check:  # new shapes: decide again whether this graph's passes hold BLAS to one thread
            self._blas_one_thread = not self._batch_parallel and threads.one_thread_for(
                [layer.multiply_adds() for layer in self._products])
        self._checked_shapes = source_shapes
        return self.outputs[0].output

    def backward(self, trace: Callable[[str], Any] | None = None) -> None:
        """Set every delta to 0, the loss's delta to 1, and walk the layers in reverse order.

        ``trace`` (e.g. ``print``) receives one line per layer: its delta and each input's delta before and
        after the layer's ``+=`` (``backward_steps`` gives the same walk as records)."""
        if trace is not None:
            for step in self.backward_steps():
                trace(str(step))
            return
        if not self._start_backward():
            return
        with self._threads():
            for layer in self._backward_order:
                layer.backward()
                if self.check_finite:
                    for inp in layer.inputs:
                        if inp.needs_delta:
                            self._raise_if_non_finite(layer, inp.delta, f"delta sent to '{inp.name}'")

    def _start_backward(self) -> bool:
        """Check there is a scalar loss, zero every delta, set the loss's to 1; False if nothing upstream
        of the loss is trainable (then there is nothing to walk)."""
        loss = self.outputs[0]
        if loss.output is None:
            raise GraphError("backward() before forward(): there is no output to differentiate")
        if np.size(loss.output) != 1:
            raise GraphError(
                f"backward() needs a scalar loss; the first output {loss.describe()} has shape "
                f"{np.shape(loss.output)}"
            )
        for layer, needs in self._needs_delta:  # a layer shared with another graph may carry its marks
            layer.needs_delta = needs
        for layer in self._delta_layers:
            if layer.delta is not None and layer.delta.shape == np.shape(layer.output):
                layer.delta.fill(0)
            else:
                layer.delta = np.zeros(np.shape(layer.output), dtype=self.dtype)
        if loss.delta is None:  # the loss itself has no trainable ancestor: nothing to do
            return False
        loss.delta.fill(1)
        return True

    def forward_steps(self, feed: Mapping[Any, Any] | None = None) -> Iterator[Step]:
        """The forward pass as data: one ``steps.Step`` per layer, in order, each yielded once the layer has
        computed its output (a copy of it in ``step.output``). Iterate in a REPL or notebook and stop anywhere."""
        return steps.forward_steps(self, feed)

    def backward_steps(self) -> Iterator[Step]:
        """The backward pass as data: one ``steps.Step`` per layer that pushes a delta back, in the loop's
        order, with each input's delta before and after the layer's ``+=`` (``step.deltas``)."""
        return steps.backward_steps(self)

    def _threads(self) -> AbstractContextManager:
        """A pass over batch-parallel layers runs as a thread team (BLAS on one thread, our threads doing the
        parallel work: ``kernels/threads.py`` says why); a graph whose matrix products are all small (an MLP)
        holds BLAS to one thread, so that its spinning threads cannot collapse the step beside another busy
        process (``threads.ONE_THREAD_BELOW``); other graphs leave BLAS its own threads."""
        if self._batch_parallel:
            return threads.team()
        return threads.blas_on_one_thread() if self._blas_one_thread else nullcontext()

    # --- feeds ------------------------------------------------------------------------------
    def _apply_feed(self, feed: Mapping[Any, Any]) -> None:
        from .layers.sources import Input

        fed = set()
        for key, value in feed.items():
            if isinstance(key, Input):
                inp = key
                if self.index.get(id(inp)) is None:
                    raise FeedError(f"feed names {inp.describe()}, which is not in this graph")
            elif isinstance(key, str):
                inp = self._inputs_by_name.get(key)
                if inp is None:
                    raise FeedError(
                        f"feed names an unknown input '{key}'; this graph's inputs are "
                        f"{sorted(self._inputs_by_name)}"
                    )
            else:
                raise FeedError(f"feed keys must be Input layers or their names, got {key!r}")
            inp.set_value(value, self.dtype)
            fed.add(id(inp))
        missing = [inp.name for inp in self.inputs if id(inp) not in fed]
        if missing:
            raise FeedError(f"no feed for input(s) {missing}")

    def _raise_if_non_finite(self, layer: Layer, array: np.ndarray, what: str) -> None:
        if not np.all(np.isfinite(array)):
            bad = np.size(array) - int(np.count_nonzero(np.isfinite(array)))
            raise NonFiniteError(
                f"{layer.describe()} (layer {self.index[id(layer)]}) produced {bad} non-finite "
                f"value(s) in its {what}"
            )

    # --- inspection -------------------------------------------------------------------------
    def summary(self) -> str:
        """The lecture's numbered table: index, kind, name, the inputs' indices, output shape."""
        rows = [("#", "kind", "name", "inputs", "output shape")]
        for t, layer in enumerate(self.layers):
            shape = layer.output.shape if layer.output is not None else layer.shape
            inputs = ",".join(str(self.index[id(i)]) for i in layer.inputs) or "-"
            rows.append((str(t), layer.kind, layer.name, inputs, fmt_shape(shape)))
        widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
        n_params = sum(v.output.size for v in self.variables)
        lines.append(f"{len(self.layers)} layers, {len(self.variables)} variables, {n_params} parameters")
        return "\n".join(lines)

    def __getitem__(self, name: str) -> Layer:
        """The layer called ``name``."""
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(f"no layer named '{name}' in this graph")

    def __repr__(self) -> str:
        return f"<Graph: {len(self.layers)} layers, dtype {self.dtype}>"

    def _repr_png_(self) -> bytes:
        """Jupyter shows a Graph as its drawing (``cg.viz.draw``), with values after a pass."""
        import io

        import matplotlib.pyplot as plt

        from . import viz

        figure = viz.draw(self)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        plt.close(figure)
        return buffer.getvalue()


def topological_sort(outputs: Iterable[Layer]) -> list[Layer]:
    """Every ancestor of ``outputs``, inputs before consumers, ties broken by creation order.

    Kahn's algorithm with a heap keyed by creation index: the lecture's least-squares graph,
    created as x, y, w, p, r, s, is numbered 0..5 in that order. Raises ``GraphError`` on a cycle.
    """
    found: dict[int, Layer] = {}
    stack = list(outputs)
    while stack:
        layer = stack.pop()
        if id(layer) in found:
            continue
        found[id(layer)] = layer
        stack.extend(layer.inputs)
    consumers: dict[int, list[Layer]] = {key: [] for key in found}
    pending_inputs = {}
    for key, layer in found.items():
        pending_inputs[key] = len(layer.inputs)
        for inp in layer.inputs:
            consumers[id(inp)].append(layer)
    ready = [(layer.creation_index, key) for key, layer in found.items() if pending_inputs[key] == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, key = heapq.heappop(ready)
        layer = found[key]
        order.append(layer)
        for consumer in consumers[key]:
            pending_inputs[id(consumer)] -= 1
            if pending_inputs[id(consumer)] == 0:
                heapq.heappush(ready, (consumer.creation_index, id(consumer)))
    if len(order) != len(found):
        stuck = sorted((layer for key, layer in found.items() if pending_inputs[key] > 0),
                       key=lambda layer: layer.creation_index)
        raise GraphError("the graph has a cycle through " + ", ".join(layer.describe() for layer in stuck))
    return order
