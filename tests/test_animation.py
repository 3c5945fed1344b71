"""cg.viz.animate: one frame per step of the two loops, the running layer and its edges marked, GIF and HTML
written, too-large graphs refused."""

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


def test_frames_follow_the_loops_of_the_lecture_graph(tmp_path):
    graph, w = lecture_graph()
    animation = viz.animate(graph, {"x": 2.0, "y": 3.0}, tmp_path / "backprop.gif")
    frames = animation.frames
    assert [f.phase for f in frames] == ["start"] + ["forward"] * 6 + ["backward begins"] + ["backward"] * 3
    assert [f.current for f in frames] == [None, 0, 1, 2, 3, 4, 5, 5, 5, 4, 3]
    assert frames[4].marked == ((2, 3), (0, 3))  # Multiply reads w and x
    assert frames[10].marked == ((2, 3), (0, 3))  # and pushes delta back into both
    assert "out: 1." in frames[4].labels[3] and "out: -" in frames[4].labels[4]  # r not computed yet
    assert "delta: -8." in frames[10].labels[2] and "delta: 0." in frames[9].labels[2]  # w's delta at its turn
    assert "[2] w.delta 0 -> -8" in frames[10].caption
    assert w.delta == -8.0  # the animation ran the pass
    gif = tmp_path / "backprop.gif"
    assert gif.read_bytes()[:6] == b"GIF89a"
    from PIL import Image

    with Image.open(gif) as image:
        assert image.n_frames == len(frames)


def test_a_shared_input_gets_two_frames_as_its_delta_grows(tmp_path):
    x = L.Input("x")
    w = L.Variable(3.0, name="w")
    loss = L.Add(L.Multiply(w, x, name="wx"), L.Square(w, name="w2"), name="loss")  # w read twice
    graph = cg.Graph(loss, dtype=np.float64)
    frames = viz.animate(graph, {"x": 2.0}).frames
    into_w = [f for f in frames if f.phase == "backward" and any(e[0] == graph.index[id(w)] for e in f.marked)]
    assert len(into_w) == 2
    first, second = (f.labels[graph.index[id(w)]] for f in into_w)
    assert first.endswith("delta: 6.") and second.endswith("delta: 8.")  # 2 w = 6 from w^2, then + x = 2


def test_an_mlp_animates_with_heat_maps_and_writes_html(tmp_path):
    x, y = L.Input("x", shape=(None, 3)), L.Input("y", shape=(None, 1))
    graph = cg.Graph(L.HingeLoss(cg.nn.mlp(x, [4, 1], rng=0), y), dtype=np.float64)
    rng = np.random.default_rng(0)
    animation = viz.animate(graph, {"x": rng.normal(size=(5, 3)), "y": np.ones((5, 1))}, tmp_path / "mlp.html")
    backward = [f for f in animation.frames if f.phase == "backward"]
    assert len(animation.frames) == 1 + len(graph.layers) + 1 + len(backward)
    assert any(f.detail is not None and f.detail.ndim == 2 for f in animation.frames)  # larger arrays: heat maps
    html = (tmp_path / "mlp.html").read_text()
    assert "<input" in html and "data:image/png;base64" in html  # a player with its frames
    assert animation._repr_html_().startswith("\n<link") or "<script" in animation._repr_html_()


def test_too_large_graphs_and_other_suffixes_are_refused(tmp_path):
    h = L.Input("h", shape=(None, 3))
    for _ in range(40):
        h = L.Tanh(L.Add(h, h))
    with pytest.raises(cg.ArgumentError, match="more than 60 to animate"):
        viz.animate(cg.Graph(L.Sum(h)), {"h": np.ones((2, 3))})
    graph, _ = lecture_graph()
    with pytest.raises(cg.ArgumentError, match=r"\.gif or \.html"):
        viz.animate(graph, {"x": 2.0, "y": 3.0}, tmp_path / "pass.mp4")


def test_example_command_writes_the_animation(tmp_path, capsys):
    from tinygrad_cg.cli import main

    assert main(["example", "--animate", str(tmp_path / "backprop.gif")]) == 0
    out = capsys.readouterr().out
    assert "11 frames" in out and "b cg.layers.Square.backward" in out
    assert (tmp_path / "backprop.gif").stat().st_size > 20_000
