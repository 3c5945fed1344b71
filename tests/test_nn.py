import numpy as np
import pytest

import tinygrad_cg as cg
from tinygrad_cg import layers as L


def test_affine_builder_creates_named_variables():
    x = L.Input("x", shape=(None, 30))
    fc = cg.nn.affine(x, 300, rng=0, name="fc1")
    W, b = fc.inputs[1:]
    assert isinstance(W, L.Variable) and W.name == "fc1.W" and W.output.shape == (30, 300)
    assert b.name == "fc1.b" and np.all(b.output == 0)
    assert np.abs(W.output).max() <= 2 / np.sqrt(30)  # truncated normal, std 1/sqrt(fan_in)


def test_affine_builder_needs_a_known_feature_size():
    with pytest.raises(cg.GraphError, match="feature size of Input 'x' is unknown"):
        cg.nn.affine(L.Input("x"), 3)
    assert cg.nn.affine(L.Input("x"), 3, n_in=4, rng=0).inputs[1].output.shape == (4, 3)


def test_mlp_structure():
    x = L.Input("x", shape=(None, 10))
    out = cg.nn.mlp(x, [100, 50, 1], rng=0)
    graph = cg.Graph(out)
    kinds = [layer.kind for layer in graph.layers if layer.kind not in ("Input", "Variable")]
    assert kinds == ["Affine", "ReLU", "Affine", "ReLU", "Affine"]
    assert out.shape == (None, 1)


def test_one_hidden_layer_net_trained_by_hand_written_sgd_separates_a_toy_problem():
    """Two interleaved half-moons-like clusters need the hidden layer; plain SGD by hand."""
    rng = np.random.default_rng(0)
    n = 200
    X = rng.normal(size=(n, 2))
    y = np.where(X[:, 0] * X[:, 1] > 0, 1.0, -1.0)[:, None]  # XOR quadrants: not linearly separable
    X += 0.3 * np.sign(X)  # open a margin between the quadrants
    x_in, y_in = L.Input("x", shape=(None, 2)), L.Input("y", shape=(None, 1))
    score = cg.nn.mlp(x_in, [32, 1], rng=1)
    graph = cg.Graph(L.HingeLoss(score, y_in), input_grads=False)
    for _step in range(3000):
        graph.forward({"x": X, "y": y})
        graph.backward()
        for v in graph.variables:
            v.output -= 0.1 * v.delta
    graph.forward({"x": X, "y": y})
    accuracy = np.mean(np.sign(score.output) == y)
    assert accuracy == 1.0


def test_residual_adds_the_block_to_its_input_and_passes_gradcheck():
    x = L.Input("x", shape=(None, 4))
    rng = np.random.default_rng(0)
    out = cg.nn.residual(x, lambda h: cg.nn.affine(L.Tanh(h), 4, rng=rng), name="res")
    graph = cg.Graph(L.Sum(L.Square(out)), dtype=np.float64)
    assert isinstance(out, L.Add) and "Add" in graph.summary() and "res" in graph.summary()
    feed = {"x": rng.normal(size=(3, 4))}
    graph.forward(feed)
    branch = out.inputs[1].output
    np.testing.assert_allclose(out.output, feed["x"] + branch)
    cg.diagnostics.gradcheck(graph, feed, inputs=["x"])


def test_residual_names_both_shapes_when_the_block_changes_the_shape():
    x = L.Input("x", shape=(None, 4))
    with pytest.raises(cg.ShapeError, match=r"nn.residual: the block maps .*\(N, 4\).*\(N, 3\)"):
        cg.nn.residual(x, lambda h: cg.nn.affine(h, 3, rng=0))
    with pytest.raises(cg.ArgumentError, match="block must return a layer"):
        cg.nn.residual(x, lambda h: 3.0)
