"""cg.viz: the layout data matches the graph (nodes, edges, columns), files are written, big graphs summarised."""

import time

import numpy as np
import pytest

import tinygrad_cg as cg
from tinygrad_cg import layers as L
from tinygrad_cg import viz


def lecture_graph():
    x, y = L.Input("x"), L.Input("y")
    w = L.Variable(0.5, name="w")
    s = L.Square(L.Subtract(L.Multiply(w, x, name="p"), y, name="r"), name="s")
    return cg.Graph(s, dtype=np.float64), w


def test_layout_has_one_node_per_layer_and_one_edge_per_input():
    x = L.Input("x", shape=(None, 1, 8, 8))
    graph = cg.Graph(L.Sum(cg.nn.mlp(L.Flatten(L.MaxPool2D(cg.nn.conv2d(x, 2, 3, padding=1, rng=0), 2)), [4, 1])))
    lay = viz.layout(graph, values=False)
    assert [n.index for n in lay.nodes] == list(range(len(graph.layers)))
    expected_edges = {(graph.index[id(i)], t) for t, layer in enumerate(graph.layers) for i in layer.inputs}
    assert set(lay.edges) == expected_edges and len(lay.edges) == len(expected_edges)
    column = {n.index: n.column for n in lay.nodes}
    assert all(column[a] < column[b] for a, b in lay.edges)  # every edge points right
    assert column[0] == 0  # the input stands at the left
    assert len({(n.column, n.row) for n in lay.nodes}) == len(lay.nodes)  # no two boxes in one place
    for node, layer in zip(lay.nodes, graph.layers, strict=True):
        assert node.label.startswith(f"[{node.index}] {layer.kind}\n{layer.name}\n")
    roles = {n.role for n in lay.nodes}
    assert roles == {"input", "variable", "layer", "loss"}


def test_labels_show_values_and_deltas_after_a_pass():
    graph, w = lecture_graph()
    before = viz.layout(graph).nodes[2].label
    assert "out: 0.5" in before and "delta: -" in before
    graph.forward({"x": 2.0, "y": 3.0})
    graph.backward()
    nodes = viz.layout(graph).nodes
    assert "delta: -8." in nodes[2].label and nodes[5].role == "loss" and "out: 4." in nodes[5].label
    assert viz.describe_array(np.arange(6.0).reshape(2, 3)) == "mean 2.5 [0, 5]"
    assert viz.describe_array(None) == "-"


@pytest.mark.parametrize("suffix,magic", [("png", b"\x89PNG"), ("svg", b"<?xml")])
def test_draw_writes_png_and_svg_and_returns_the_figure(tmp_path, suffix, magic):
    graph, _ = lecture_graph()
    path = tmp_path / f"graph.{suffix}"
    fig = viz.draw(graph, path)
    assert path.read_bytes().startswith(magic)
    assert len(fig.axes[0].texts) == len(graph.layers) + 5  # a box per layer, an arrow (annotation) per edge
    assert graph._repr_png_().startswith(b"\x89PNG")
    with pytest.raises(cg.ArgumentError, match="must end in .png or .svg"):
        viz.draw(graph, tmp_path / "graph.jpg")


def test_a_graph_of_100_layers_is_summarised_quickly(tmp_path):
    h = L.Input("h", shape=(None, 3))
    for _ in range(50):
        h = L.Tanh(L.Add(h, h))
    graph = cg.Graph(L.Sum(h))
    assert len(graph.layers) > viz.MAX_NODES
    start = time.perf_counter()
    fig = viz.draw(graph, tmp_path / "big.png")
    assert time.perf_counter() - start < 30
    assert "more than 60 to draw" in fig.texts[0].get_text() and "sum_" in fig.texts[1].get_text()


def test_example_command_draws_the_lecture_graph(tmp_path, capsys):
    from tinygrad_cg.cli import main

    assert main(["example", "--draw", str(tmp_path / "lecture.png")]) == 0
    assert (tmp_path / "lecture.png").stat().st_size > 5_000
    assert "drawing:" in capsys.readouterr().out


def test_bands_fill_left_to_right_and_keep_parameters_with_their_reader():
    assert viz.bands([3, 3, 3, 3, 3], 7) == [0, 0, 1, 1, 2]
    assert viz.bands([3, 3, 3, 3, 3], None) == [0] * 5  # no wrapping
    assert viz.bands([10, 3], 7) == [0, 1]  # a column wider than a band gets one of its own
    # column 1 holds parameters that column 2 reads: it moves to the next band with its reader
    assert viz.bands([3, 3, 3, 3, 3], 7, [False, True, False, False, False]) == [0, 1, 1, 2, 2]


def test_a_lenet_wraps_into_bands_that_fit_a_slide(tmp_path):
    x, y = L.Input("x", shape=(None, 1, 28, 28)), L.Input("y", shape=(None,))
    graph = cg.Graph(L.SoftmaxCrossEntropy(cg.nn.lenet(x, 10, rng=0), y))
    one_row = viz.draw(graph, max_width=None)
    assert one_row.get_size_inches()[0] > 20  # the single row it used to be: 3800 x 330 px
    fig = viz.draw(graph, tmp_path / "lenet.png")
    width, height = fig.get_size_inches()
    assert width <= viz.MAX_WIDTH and width / height < 2.5  # 1600 px at 100 dpi, text at its 7-point size
    ax = fig.axes[0]
    boxes = [t for t in ax.texts if t.get_text()]
    assert len(boxes) == len(graph.layers)
    tops = sorted({round(t.get_position()[1], 2) for t in boxes})
    assert tops[-1] - tops[0] > 0.5 * height  # boxes spread down the picture, not in one row
    lay = viz.layout(graph, values=False)
    assert len(ax.texts) == len(graph.layers) + len(lay.edges)  # a box per layer, an arrow per edge
    assert len(ax.lines) >= 2  # edges into a later band also get a path through the gaps
    with pytest.raises(cg.ArgumentError, match="max_width"):
        viz.draw(graph, max_width=0)
