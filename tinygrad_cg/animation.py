"""Watch a pass happen: ``viz.animate(graph, feed, "backprop.gif")``, one frame per step of the two loops.

The graph is drawn as ``viz.draw`` draws it; each frame is one ``steps.Step`` of ``graph.forward_steps`` and
``graph.backward_steps``:

- forward: the running layer outlined, the edges it reads marked green, its new ``out`` in its box;
- a frame where backward begins: every delta set to 0 and the loss's to 1;
- backward: the running layer outlined, the edges along which it adds into its inputs' deltas marked red, each
  input's new ``delta`` in its box. A layer read by two consumers gets two such frames, its delta growing.

A caption under the graph says what happened in words (the step's trace line); when the running layer's
array is larger than a few numbers it is shown beside the caption as a small heat map (an image batch: its
first image). Values in the boxes follow ``viz.describe_array``: numbers for scalars and tiny arrays, mean, min
and max otherwise.

Writes a GIF (matplotlib's Pillow writer) or an HTML player (``to_jshtml``); in Jupyter the returned
``Animation`` shows itself with a slider. Running the animation runs the pass: afterwards the graph holds its
outputs and deltas, as after ``forward`` and ``backward``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ArgumentError
from .graph import Graph, fmt_shape
from .viz import MAX_NODES, MAX_WIDTH, Layout, _geometry, _paint, describe_array, layout

FORWARD_COLOR, BACKWARD_COLOR = "#2a9d3a", "#d62828"
CAPTION = 0.9  # inches under the graph for the caption and the heat map


@dataclass
class Frame:
    """What one frame shows: the phase ("start", "forward", "backward begins", "backward"), the running
    layer's number (None on the first frame), the marked edges, the caption, each box's label, and the array
    drawn as a heat map (if any)."""

    phase: str
    current: int | None
    marked: tuple[tuple[int, int], ...]
    caption: str
    labels: dict[int, str]
    detail: np.ndarray | None = None
    detail_title: str = ""


@dataclass
class Animation:
    """The frames of a pass and the figure that draws them (``save``, ``to_html``; Jupyter shows it with a
    slider). ``animation`` is matplotlib's ``FuncAnimation``, made when first needed."""

    frames: list[Frame]
    figure: Any
    draw: Any = field(repr=False)   # draw(frame number): paints that frame on ``figure``
    fps: float = 1.5
    _animation: Any = field(default=None, repr=False)

    @property
    def animation(self) -> Any:
        if self._animation is None:
            from matplotlib.animation import FuncAnimation

            self._animation = FuncAnimation(self.figure, self.draw, frames=len(self.frames),
                                            interval=1000 / self.fps, blit=False, repeat=True)
        return self._animation

    def save(self, path: str | Path, dpi: int = 100) -> Path:
        """Write a ``.gif`` (Pillow) or an ``.html`` player."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".gif":
            from matplotlib.animation import PillowWriter

            self.animation.save(path, writer=PillowWriter(fps=self.fps), dpi=dpi)
        elif suffix == ".html":
            path.write_text(self.to_html())
        else:
            raise ArgumentError(f"viz.animate: path must end in .gif or .html, got {str(path)!r}")
        return path

    def to_html(self) -> str:
        """A self-contained HTML player (matplotlib's ``to_jshtml``): play, pause, a slider over the frames."""
        return self.animation.to_jshtml(fps=self.fps, default_mode="once")

    def _repr_html_(self) -> str:
        return self.to_html()


def label(graph: Graph, t: int, out: str, delta: str, shape) -> str:
    layer = graph.layers[t]
    return f"[{t}] {layer.kind}\n{layer.name}\n{fmt_shape(shape)}\nout: {out}\ndelta: {delta}"


def detail_of(array: np.ndarray | None) -> np.ndarray | None:
    """The array as a 2-D picture if it is too large to read as numbers: an image batch's first image's first
    channel, a matrix as itself, a vector as a row; None for scalars and tiny arrays."""
    if array is None or np.size(array) <= 4:
        return None
    array = np.asarray(array, dtype=float)
    while array.ndim > 2:
        array = array[0]
    return array[None, :] if array.ndim == 1 else array


def frames_of(graph: Graph, feed: Mapping[Any, Any] | None) -> list[Frame]:
    """Run the pass step by step and record what each frame shows."""
    out = {t: "-" for t in range(len(graph.layers))}
    delta = dict(out)
    shape = {t: layer.shape for t, layer in enumerate(graph.layers)}

    def labels() -> dict[int, str]:
        return {t: label(graph, t, out[t], delta[t], shape[t]) for t in out}

    frames = [Frame("start", None, (), "the graph before the pass: forward computes each layer in order", labels())]
    forward = list(graph.forward_steps(feed))
    for number, step in enumerate(forward, 1):
        out[step.index], shape[step.index] = describe_array(step.output), np.shape(step.output)
        frames.append(Frame("forward", step.index, tuple((i, step.index) for i in step.inputs),
                            f"forward, step {number} of {len(forward)}: {str(step).removeprefix('forward ')}",
                            labels(), detail_of(step.output),
                            f"[{step.index}] output"))
    walk = graph.backward_steps()
    first = next(walk, None)  # the walk zeroes every delta and sets the loss's to 1 before its first step
    loss = graph.index[id(graph.outputs[0])]
    for layer in graph._delta_layers:
        delta[graph.index[id(layer)]] = describe_array(np.zeros(np.shape(layer.output)))
    delta[loss] = describe_array(np.ones(np.shape(graph.outputs[0].output)))
    frames.append(Frame("backward begins", loss, (), "backward begins: every delta set to 0, the loss's delta "
                        "to 1 (d loss / d loss); then the layers in reverse order add into their inputs' deltas",
                        labels()))
    backward = [] if first is None else [first, *walk]
    for number, step in enumerate(backward, 1):
        for i, (_, after) in step.deltas.items():
            delta[i] = describe_array(after)
        frames.append(Frame("backward", step.index, tuple((i, step.index) for i in step.deltas),
                            f"backward, step {number} of {len(backward)}: {str(step).removeprefix('backward ')}",
                            labels(), detail_of(step.delta),
                            f"[{step.index}] delta"))
    return frames


def widest(frames: list[Frame], lay: Layout) -> Layout:
    """The layout with each box's widest label over all frames, so that no box outgrows its place."""
    for node in lay.nodes:
        node.label = max((f.labels[node.index] for f in frames),
                         key=lambda text: (max(map(len, text.splitlines())), text.count("\n")))
    return lay


def animate(graph: Graph, feed: Mapping[Any, Any] | None = None, path: str | Path | None = None, fps: float = 1.5,
            dpi: int = 100, max_nodes: int = MAX_NODES, max_width: float | None = MAX_WIDTH) -> Animation:
    """Animate one forward and one backward pass of ``graph`` on ``feed`` (see the module docstring); write it
    to ``path`` (``.gif`` or ``.html``) if given and return the ``Animation``. A graph of more than ``max_nodes``
    layers is refused (its picture would be unreadable; ``viz.draw`` shows its summary table instead)."""
    import matplotlib.pyplot as plt

    if len(graph.layers) > max_nodes:
        raise ArgumentError(f"viz.animate: the graph has {len(graph.layers)} layers, more than {max_nodes} to "
                            "animate readably; animate a smaller graph (or pass max_nodes=), or print the pass "
                            "with graph.forward(feed, trace=print)")
    if path is not None and Path(path).suffix.lower() not in (".gif", ".html"):
        raise ArgumentError(f"viz.animate: path must end in .gif or .html, got {str(path)!r}")
    frames = frames_of(graph, feed)
    lay = widest(frames, layout(graph, values=False))
    geometry = _geometry(lay, max_width)
    width, height = geometry.size
    fig = plt.figure(figsize=(width, height + CAPTION))
    graph_ax = fig.add_axes((0, CAPTION / (height + CAPTION), 1, height / (height + CAPTION)))
    caption_ax = fig.add_axes((0, 0, 1, CAPTION / (height + CAPTION)))
    detail_ax = fig.add_axes((1 - 2.2 / width, 0.08 / (height + CAPTION), 2.1 / width, 0.6 / (height + CAPTION)))

    def draw(number: int):
        frame = frames[number]
        graph_ax.clear()
        color = BACKWARD_COLOR if frame.phase.startswith("backward") else FORWARD_COLOR
        _paint(graph_ax, lay, geometry, frame.labels, frame.current, frame.marked, color,
               backwards=frame.phase == "backward")
        graph_ax.set_position((0, CAPTION / (height + CAPTION), 1, height / (height + CAPTION)))
        caption_ax.clear()
        caption_ax.axis("off")
        room = max(40, int((width - (2.4 if frame.detail is not None else 0.2)) / 0.075))  # characters a line
        text = "\n".join(wrap(frame.caption, room)[:4])
        caption_ax.text(0.01, 0.92, text, va="top", ha="left", fontsize=8, family="monospace", color=color,
                        transform=caption_ax.transAxes)
        detail_ax.clear()
        detail_ax.set_visible(frame.detail is not None)
        if frame.detail is not None:
            detail_ax.imshow(frame.detail, cmap="RdBu_r", aspect="auto", interpolation="nearest",
                             vmin=-np.abs(frame.detail).max() or -1, vmax=np.abs(frame.detail).max() or 1)
            detail_ax.set_title(frame.detail_title, fontsize=7)
            detail_ax.set_xticks([])
            detail_ax.set_yticks([])
        return []

    draw(0)
    plt.close(fig)  # drawn through the Animation only: Jupyter would show the open figure a second time
    result = Animation(frames, fig, draw, fps)
    if path is not None:
        result.save(path, dpi=dpi)
    return result


def wrap(text: str, width: int) -> list[str]:
    """The caption in lines of at most ``width`` characters, broken at spaces."""
    import textwrap

    return textwrap.wrap(text, width, break_long_words=True) or [""]
