import numpy as np
import pytest

import tinygrad_cg as cg
from tinygrad_cg import diagnostics
from tinygrad_cg import layers as L


def test_gradient_variance_of_known_vectors():
    grads = [np.array([1.0, 0.0]), np.array([-1.0, 0.0]), np.array([0.0, 2.0]), np.array([0.0, -2.0])]
    variance, stderr = diagnostics.gradient_variance(grads)
    # mean 0; squared distances 1, 1, 4, 4 -> mean 2.5, times m/(m-1) = 4/3
    assert variance == pytest.approx(2.5 * 4 / 3)
    assert stderr > 0
    with pytest.raises(ValueError, match="at least two"):
        diagnostics.gradient_variance([np.ones(3)])


def test_full_gradient_over_chunks_equals_gradient_on_whole_sample():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 3)), rng.normal(size=(64, 1))
    x_in, y_in = L.Input("x", shape=(None, 3)), L.Input("y", shape=(None, 1))
    graph = cg.Graph(L.SquaredLoss(cg.nn.affine(x_in, 1, rng=0), y_in), dtype=np.float64)
    whole = diagnostics.full_gradient(graph, [{"x": X, "y": y}])
    chunked = diagnostics.full_gradient(graph, [{"x": X[i:i + 16], "y": y[i:i + 16]} for i in range(0, 64, 16)])
    np.testing.assert_allclose(chunked, whole, rtol=1e-12)


def test_gradcheck_catches_a_wrong_backward():
    class WrongSquare(L.Square):
        def backward(self):
            x = self.inputs[0]
            x.delta += 3 * x.output * self.delta  # should be 2

    v = L.Variable(np.array([0.5, -1.0]), name="v")
    with pytest.raises(cg.GradientCheckError, match="'v'"):
        diagnostics.gradcheck(cg.Graph(L.Sum(WrongSquare(v))), {})


def test_gradcheck_restores_dtype_and_values():
    v = L.Variable(np.array([0.5, -1.0]), name="v")
    graph = cg.Graph(L.Sum(L.Square(v)))
    before = v.output.copy()
    errors = diagnostics.gradcheck(graph, {})
    assert errors["v"] < 1e-8
    assert graph.dtype == np.float32 and v.output.dtype == np.float32 and np.array_equal(v.output, before)


def test_gradcheck_keeps_the_deltas_so_an_optimizer_step_after_it_still_moves():
    v = L.Variable(np.array([0.5, -1.0]), name="v")
    graph = cg.Graph(L.Sum(L.Square(v)))
    graph.forward({})
    graph.backward()
    delta = v.delta.copy()
    diagnostics.gradcheck(graph, {})
    np.testing.assert_array_equal(v.delta, delta)
    cg.optim.SGD(graph.variables, lr=0.25).step()
    np.testing.assert_allclose(v.output, [0.25, -0.5])


def test_gradcheck_of_inputs():
    x = L.Input("x")
    w = L.Variable(np.array([1.5, -0.5]), name="w")
    graph = cg.Graph(L.Sum(L.Square(L.Multiply(w, x))))
    errors = diagnostics.gradcheck(graph, {"x": np.array([0.3, 2.0])}, inputs=["x"])
    assert set(errors) == {"w", "x"}


@pytest.mark.parametrize("batch_size", [1, 25])
def test_gradient_snr_recovers_known_signal_and_noise(batch_size):
    rng = np.random.default_rng(0)
    mean, std, dim, m = np.array([0.3, -0.4, 0.0, 0.0]), 2.0, 4, 4000
    per_example = mean + std * rng.standard_normal((m * batch_size, dim))
    batches = per_example.reshape(m, batch_size, dim).mean(axis=1)
    snr, signal, noise, _ = diagnostics.gradient_snr(batches, batch_size=batch_size)
    assert noise == pytest.approx(dim * std**2, rel=0.05)
    assert signal == pytest.approx(0.25, abs=0.05)
    assert snr == pytest.approx(0.25 / 16, rel=0.3)


def test_gradient_snr_of_pure_noise_is_near_zero_and_can_go_negative():
    rng = np.random.default_rng(1)
    snrs = [diagnostics.gradient_snr(rng.standard_normal((200, 3)))[0] for _ in range(50)]
    assert abs(np.mean(snrs)) < 0.002 and min(snrs) < 0
    with pytest.raises(ValueError, match="at least two"):
        diagnostics.gradient_snr([np.ones(2)])


@pytest.mark.parametrize("mean", [np.zeros(5), np.full(5, 0.2)])
def test_gradient_snr_standard_error_matches_the_spread_over_repeats(mean):
    rng = np.random.default_rng(2)
    estimates = [diagnostics.gradient_snr(mean + rng.standard_normal((400, 5))) for _ in range(300)]
    spread = np.std([e.snr for e in estimates])
    assert np.median([e.snr_se for e in estimates]) == pytest.approx(spread, rel=0.2)
    # the 2-s.e. upper bound covers the truth in about 97% of repeats
    truth = mean @ mean / 5
    assert np.mean([e.upper() >= truth for e in estimates]) > 0.93


def deep_mlp(depth: int, std: float, activation=L.Tanh, width: int = 32, seed: int = 0):
    rng = np.random.default_rng(seed)
    x, y = L.Input("x", shape=(None, width)), L.Input("y", shape=(None, 1))
    h = x
    for _ in range(depth):
        h = activation(cg.nn.affine(h, width, rng=rng, init=lambda shape, rng: rng.normal(0, std, size=shape)))
    graph = cg.Graph(L.SquaredLoss(cg.nn.affine(h, 1, rng=rng), y), dtype=np.float64)
    feed = {"x": rng.normal(size=(64, width)), "y": rng.normal(size=(64, 1))}
    graph.forward(feed)
    graph.backward()
    return graph


def test_layer_norms_report_each_layers_output_delta_and_weight_gradient():
    graph = deep_mlp(3, 0.3)
    rows = cg.diagnostics.layer_norms(graph, kinds=("Affine",))
    affines = [layer for layer in graph.layers if layer.kind == "Affine"]
    assert [r.index for r in rows] == [graph.layers.index(a) for a in affines] and len(rows) == 4
    for row, layer in zip(rows, affines, strict=True):
        W = layer.inputs[1]
        assert row.output_std == pytest.approx(np.std(layer.output))
        assert row.delta_norm == pytest.approx(np.linalg.norm(layer.delta))
        assert row.weight_grad_norm == pytest.approx(np.linalg.norm(W.delta))  # the bias is left out
    every = cg.diagnostics.layer_norms(graph)
    assert {r.kind for r in every} == {"Affine", "Tanh", "SquaredLoss"}  # no sources
    assert np.isnan(next(r for r in every if r.kind == "Tanh").weight_grad_norm)


def test_layer_norms_show_vanishing_and_exploding_gradients_with_depth():
    def first_to_last(rows, quantity):  # the first hidden layer's value over the last hidden layer's
        return getattr(rows[0], quantity) / getattr(rows[-2], quantity)

    def affines(depth, std, activation):
        return cg.diagnostics.layer_norms(deep_mlp(depth, std, activation), kinds=("Affine",))

    assert first_to_last(affines(20, 0.05, L.Tanh), "delta_norm") < 1e-6  # a small init: delta vanishes
    assert first_to_last(affines(20, 0.05, L.Sigmoid), "weight_grad_norm") < 1e-6  # and so does dL/dW
    assert first_to_last(affines(20, 0.5, L.ReLU), "delta_norm") > 1e3  # a large one: it explodes
    # Xavier for tanh (std 1/sqrt(fan_in)) and He for ReLU (sqrt(2/fan_in)) keep the layers within a small factor
    assert 0.1 < first_to_last(affines(20, 1 / np.sqrt(32), L.Tanh), "weight_grad_norm") < 10
    assert 0.1 < first_to_last(affines(20, np.sqrt(2 / 32), L.ReLU), "weight_grad_norm") < 10


def test_layer_norms_need_a_forward_pass_and_plot_on_a_log_scale():
    x = L.Input("x", shape=(None, 2))
    graph = cg.Graph(L.Sum(cg.nn.affine(x, 1, rng=0)))
    with pytest.raises(cg.GraphError, match="run graph.forward"):
        cg.diagnostics.layer_norms(graph)
    ax = cg.diagnostics.plot_layer_norms(cg.diagnostics.layer_norms(deep_mlp(4, 0.3), kinds=("Affine",)),
                                         label="tanh")
    assert ax.get_yscale() == "log" and len(ax.lines) == 3 and ax.lines[0].get_label() == "tanh: output_std"
