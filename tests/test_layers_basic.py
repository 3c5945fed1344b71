"""Arithmetic, affine, activation and shape layers: float64 gradchecks on random shapes, shape errors."""

import numpy as np
import pytest
from helpers import away_from_zero, check_layer_gradients
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cg as cg
from tinygrad_cg import layers as L

dims = st.integers(1, 4)
shapes = st.lists(dims, min_size=1, max_size=3).map(tuple)
seeds = st.integers(0, 2**31 - 1)
few = settings(max_examples=20, deadline=None)


@few
@given(shape=shapes, seed=seeds, layer=st.sampled_from([L.Add, L.Subtract, L.Multiply]))
def test_elementwise_binary_gradients(shape, seed, layer):
    rng = np.random.default_rng(seed)
    check_layer_gradients(layer, [rng.normal(size=shape), rng.normal(size=shape)], rng)


@few
@given(shape=shapes, seed=seeds, layer=st.sampled_from([L.Add, L.Multiply]), scalar_first=st.booleans())
def test_scalar_operand_gradients(shape, seed, layer, scalar_first):
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=()), rng.normal(size=shape)]
    check_layer_gradients(layer, arrays if scalar_first else arrays[::-1], rng)


@few
@given(shape=shapes, seed=seeds, layer=st.sampled_from([L.Square, L.Sum, L.Mean, L.Sigmoid, L.Tanh, L.Softmax]))
def test_unary_gradients(shape, seed, layer):
    rng = np.random.default_rng(seed)
    check_layer_gradients(layer, [rng.normal(size=shape)], rng)


@few
@given(shape=shapes, seed=seeds)
def test_relu_gradient(shape, seed):
    rng = np.random.default_rng(seed)
    check_layer_gradients(L.ReLU, [away_from_zero(rng, shape)], rng)


def test_relu_follows_its_input_through_changes_of_batch_and_dtype():
    x = L.Input("x", shape=(None, 3))
    relu = L.ReLU(x)
    for dtype, batch in ((np.float64, 2), (np.float64, 5), (np.float32, 5)):
        graph = cg.Graph(relu, dtype=dtype)
        value = np.linspace(-1, 1, 3 * batch).reshape(batch, 3)
        out = graph.forward({"x": value})
        assert out.shape == (batch, 3) and out.dtype == dtype
        np.testing.assert_array_equal(out, np.maximum(value, 0).astype(dtype))
    relu_nan = cg.Graph(L.ReLU(L.Input("z", shape=(None,))))
    assert np.isnan(relu_nan.forward({"z": np.array([np.nan, -1.0, 2.0])})).tolist() == [True, False, False]


@few
@given(m=dims, k=dims, n=dims, seed=seeds)
def test_matmul_and_affine_gradients(m, k, n, seed):
    rng = np.random.default_rng(seed)
    check_layer_gradients(L.MatMul, [rng.normal(size=(m, k)), rng.normal(size=(k, n))], rng)
    check_layer_gradients(L.Affine, [rng.normal(size=(m, k)), rng.normal(size=(k, n)), rng.normal(size=n)], rng)


def test_affine_forward_value():
    rng = np.random.default_rng(0)
    X, W, b = rng.normal(size=(5, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)
    out = L.Affine(L.Variable(X), L.Variable(W), L.Variable(b))
    cg.Graph(out, dtype=np.float64).forward()
    np.testing.assert_allclose(out.output, X @ W + b)


@few
@given(n=dims, a=dims, b=dims, seed=seeds)
def test_reshape_flatten_concat_gradients(n, a, b, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, a, b))
    check_layer_gradients(lambda v: L.Reshape(v, (b, a)), [x], rng)
    check_layer_gradients(L.Flatten, [x], rng)
    check_layer_gradients(lambda u, v: L.Concat([u, v], axis=1), [x, rng.normal(size=(n, 2, b))], rng)
    check_layer_gradients(lambda u, v: L.Concat([u, v], axis=-1), [x, rng.normal(size=(n, a, 1))], rng)
    check_layer_gradients(lambda v: L.GroupRows(v, a), [rng.normal(size=(n * a, b))], rng)


def test_group_rows_puts_each_tuple_on_one_row():
    rows = np.arange(12.0).reshape(6, 2)  # 3 tuples of 2 members, 2 features each
    out = L.GroupRows(L.Variable(rows), 2)
    cg.Graph(out, dtype=np.float64).forward()
    np.testing.assert_array_equal(out.output, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]])


def test_sigmoid_and_tanh_are_stable_for_huge_inputs():
    v = L.Variable(np.array([-1e4, -50.0, 0.0, 50.0, 1e4]))
    for layer in (L.Sigmoid, L.Tanh):
        out = layer(v)
        graph = cg.Graph(L.Sum(out))
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            graph.forward()
            graph.backward()
        assert np.all(np.isfinite(out.output)) and np.all(np.isfinite(v.delta))
    np.testing.assert_allclose(L.activations.stable_sigmoid(np.array([-1e4, 0.0, 1e4])), [0.0, 0.5, 1.0])


def test_softmax_rows_are_distributions_even_for_huge_logits():
    logits = np.array([[1e4, 0.0, -1e4], [1.0, 2.0, 3.0]])
    out = L.Softmax(L.Variable(logits))
    with np.errstate(over="raise", invalid="raise"):
        cg.Graph(out, dtype=np.float64).forward()
    np.testing.assert_allclose(out.output.sum(axis=1), 1.0)
    np.testing.assert_allclose(out.output[0], [1.0, 0.0, 0.0])
    e = np.exp([1.0, 2.0, 3.0])
    np.testing.assert_allclose(out.output[1], e / e.sum())


# --- shape errors name the layer --------------------------------------------------------------


def test_affine_wrong_n_in_raises_at_construction_and_at_forward():
    x = L.Input("x", shape=(None, 31))
    W, b = L.Variable(np.zeros((30, 4))), L.Variable(np.zeros(4))
    with pytest.raises(cg.ShapeError, match=r"Affine 'fc'.*\(N, 31\).*expects \(N, 30\)"):
        L.Affine(x, W, b, name="fc")
    loose = L.Input("x")  # shape unknown until fed: the check happens in forward
    graph = cg.Graph(L.Sum(L.Affine(loose, W, b, name="fc")))
    with pytest.raises(cg.ShapeError, match=r"Affine 'fc'.*\(8, 31\)"):
        graph.forward({"x": np.zeros((8, 31))})


def test_affine_bias_shape_checked():
    with pytest.raises(cg.ShapeError, match="Affine 'fc'.*b has shape"):
        L.Affine(L.Input("x", shape=(None, 3)), L.Variable(np.zeros((3, 4))), L.Variable(np.zeros(3)), name="fc")


def test_elementwise_refuses_to_broadcast():
    a, b = L.Input("a"), L.Input("b")
    graph = cg.Graph(L.Sum(L.Add(a, b, name="plus")))
    with pytest.raises(cg.ShapeError, match=r"Add 'plus'.*\(4,\) and \(4, 1\)"):
        graph.forward({"a": np.zeros(4), "b": np.zeros((4, 1))})


def test_matmul_inner_dimension_checked():
    with pytest.raises(cg.ShapeError, match="MatMul 'mm'"):
        L.MatMul(L.Variable(np.zeros((2, 3))), L.Variable(np.zeros((4, 2))), name="mm")


def test_reshape_and_concat_errors():
    x = L.Input("x", shape=(None, 2, 3))
    with pytest.raises(cg.ShapeError, match="Reshape 'r'.*6 features vs 5"):
        L.Reshape(x, (5,), name="r")
    with pytest.raises(cg.ShapeError, match="Concat 'c'"):
        L.Concat([x, L.Input("y", shape=(None, 3, 3))], axis=2, name="c")
    with pytest.raises(cg.ShapeError, match="GroupRows 'g'.*5 rows do not split into groups of 2"):
        L.GroupRows(L.Variable(np.zeros((5, 1))), 2, name="g")
    with pytest.raises(cg.ShapeError, match="GroupRows 'g'.*needs rows"):
        L.GroupRows(x, 2, name="g")
    with pytest.raises(cg.ArgumentError, match="GroupRows: size must be an integer >= 1"):
        L.GroupRows(L.Variable(np.zeros((4, 1))), 0)
