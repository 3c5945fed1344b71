"""Graph.forward_steps / backward_steps: the passes as records, agreeing with the plain loops on every layer kind;
the traces built on them; stepping into a layer with pdb as the README says."""

import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from test_layer_properties import LAYERS, case

import tinygrad_cg as cg
from tinygrad_cg import layers as L


def graph_of(name: str, seed: int = 0) -> tuple[cg.Graph, cg.Layer]:
    """The layer of kind ``name`` on Variables, under a loss that reads its output twice (two consumers)."""
    rng = np.random.default_rng(seed)
    make, arrays = case(name, rng, 3, 4)
    out = make(*[L.Variable(a, name=f"v{i}") for i, a in enumerate(arrays)])
    if out.shape == ():
        loss = L.Add(out, L.Multiply(out, out))
    else:
        loss = L.Sum(L.Add(L.Multiply(out, L.Constant(rng.normal(size=out.shape), name="R")), L.Multiply(out, out)))
    return cg.Graph(loss, dtype=np.float64), out


@pytest.mark.parametrize("name", LAYERS)
def test_steps_agree_with_the_plain_loops(name):
    graph, out = graph_of(name)
    graph.forward({})
    graph.backward()
    outputs = [np.array(layer.output, copy=True) for layer in graph.layers]
    deltas = [None if layer.delta is None else np.array(layer.delta, copy=True) for layer in graph.layers]

    forward = list(graph.forward_steps({}))
    assert [s.index for s in forward] == list(range(len(graph.layers)))
    for s in forward:
        np.testing.assert_array_equal(s.output, outputs[s.index], err_msg=f"{name}: output of layer {s.index}")
        assert s.inputs == tuple(graph.index[id(i)] for i in s.layer.inputs)

    backward = list(graph.backward_steps())
    assert [s.layer for s in backward] == [layer for layer in reversed(graph.layers)
                                           if layer.inputs and layer.delta is not None]
    reached = {}
    for s in backward:
        np.testing.assert_array_equal(s.delta, deltas[s.index])  # its delta was complete when its turn came
        for i, (before, after) in s.deltas.items():
            np.testing.assert_array_equal(before, reached.get(i, np.zeros_like(after)))  # what earlier steps left
            reached[i] = after
    for i, delta in reached.items():
        np.testing.assert_allclose(delta, deltas[i], rtol=0, atol=0, err_msg=f"{name}: delta of layer {i}")
    for layer, delta in zip(graph.layers, deltas, strict=True):
        if delta is not None:
            np.testing.assert_array_equal(layer.delta, delta)
    # the layer's output is read by two consumers: its delta is added to twice, in two steps
    into_out = [s for s in backward if graph.index[id(out)] in s.deltas]
    assert len(into_out) == 2 and not np.any(into_out[0].deltas[graph.index[id(out)]][0])


def lecture_graph():
    x, y = L.Input("x"), L.Input("y")
    w = L.Variable(0.5, name="w")
    s = L.Square(L.Subtract(L.Multiply(w, x, name="p"), y, name="r"), name="s")
    return cg.Graph(s, dtype=np.float64), w


def test_traces_show_the_values_of_scalars():
    graph, _ = lecture_graph()
    lines = []
    graph.forward({"x": 2.0, "y": 3.0}, trace=lines.append)
    graph.backward(trace=lines.append)
    assert lines[3] == "forward [3] Multiply 'p' reads [2] w, [0] x -> output 1"
    assert lines[-1] == "backward [3] Multiply 'p' with delta -4: [2] w.delta 0 -> -8; [0] x.delta 0 -> -2"
    x = L.Input("x", shape=(None, 3))
    big = cg.Graph(L.Mean(cg.nn.affine(x, 2, rng=0)))
    lines = []
    big.forward({"x": np.ones((5, 3))}, trace=lines.append)
    assert "-> output (5, 2) mean" in lines[3]  # larger arrays: shape, mean, min and max


def test_a_walk_can_stop_anywhere():
    graph, w = lecture_graph()
    walk = graph.forward_steps({"x": 2.0, "y": 3.0})
    for step in walk:
        if step.layer.name == "p":
            break
    assert graph["p"].output == 1.0 and graph["r"].output is None  # r's turn has not come
    graph.forward({"x": 2.0, "y": 3.0})
    first = next(iter(graph.backward_steps()))
    assert first.layer.name == "s" and graph["r"].delta == -4 and w.delta == 0  # only s has pushed back


def test_backward_steps_refuse_what_backward_refuses():
    graph, _ = lecture_graph()
    with pytest.raises(cg.GraphError, match="before forward"):
        list(graph.backward_steps())


SCRIPT = """
import tinygrad_cg as cg
from tinygrad_cg import layers as L
x, y = L.Input("x"), L.Input("y")
w = L.Variable(0.5, name="w")
s = L.Square(L.Subtract(L.Multiply(w, x), y))
graph = cg.Graph(s, dtype="float64")
graph.forward({"x": 2.0, "y": 3.0})
breakpoint()
graph.backward()
print("done", w.delta)
"""


def test_pdb_recipe_lands_in_square_backward(tmp_path):
    """The README's recipe: ``breakpoint()`` before ``graph.backward()``, then ``b cg.layers.Square.backward``
    and ``c`` stop inside Square.backward, from any folder."""
    script = tmp_path / "mine.py"
    script.write_text(textwrap.dedent(SCRIPT))
    # break in Square.backward, continue to it, step to its += line, run it, look at the input's delta
    commands = "b cg.layers.Square.backward\nc\np self.delta\nn\nn\nn\np x.delta\nc\n"
    env = {"PYTHONBREAKPOINT": "pdb.set_trace", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, str(script)], input=commands, capture_output=True, text=True,
                            cwd=tmp_path, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert "Breakpoint 1 at" in result.stdout and "arithmetic.py" in result.stdout
    assert re.search(r"layers/arithmetic\.py\(\d+\)backward\(\)", result.stdout)  # inside Square.backward
    assert "-> x.delta += 2 * x.output * self.delta" in result.stdout  # stepped to the +=
    assert "(Pdb) array(1.)" in result.stdout and "(Pdb) array(-4.)" in result.stdout  # s.delta, then r.delta
    assert "done -8.0" in result.stdout
