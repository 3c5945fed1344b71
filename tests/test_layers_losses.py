"""Losses: values against direct formulas, float64 gradchecks, no broadcasting, stability."""

import numpy as np
import pytest
from helpers import check_layer_gradients
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cg as cg
from tinygrad_cg import layers as L

few = settings(max_examples=20, deadline=None)
seeds = st.integers(0, 2**31 - 1)


def signs(rng, shape):
    return rng.choice([-1.0, 1.0], size=shape)


def hinge_safe_scores(rng, y):
    """Scores whose margin 1 - y s stays >= 0.2 away from the kink."""
    margin = rng.choice([-1.0, 1.0], size=y.shape) * rng.uniform(0.2, 2.0, size=y.shape)
    return (1 - margin) * y


@few
@given(n=st.integers(1, 6), k=st.integers(1, 3), seed=seeds)
def test_loss_gradients_for_prediction_and_target(n, k, seed):
    rng = np.random.default_rng(seed)
    y = signs(rng, (n, k))
    check_layer_gradients(L.SquaredLoss, [rng.normal(size=(n, k)), rng.normal(size=(n, k))], rng)
    check_layer_gradients(L.HingeLoss, [hinge_safe_scores(rng, y), y], rng)
    check_layer_gradients(L.LogisticLoss, [rng.normal(size=(n, k)), y], rng)


@few
@given(n=st.integers(1, 6), c=st.integers(2, 5), seed=seeds)
def test_softmax_cross_entropy_gradient_and_value(n, c, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, c, size=n)
    logits = rng.normal(size=(n, c)) * 3
    check_layer_gradients(lambda z: L.SoftmaxCrossEntropy(z, L.Constant(labels)), [logits], rng)
    loss = L.SoftmaxCrossEntropy(L.Variable(logits), L.Constant(labels))
    cg.Graph(loss, dtype=np.float64).forward()
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert float(loss.output) == pytest.approx(-np.log(p[np.arange(n), labels]).mean())


def test_loss_values_are_batch_means():
    s = np.array([[2.0], [-0.5], [0.3]])
    y = np.array([[1.0], [1.0], [-1.0]])
    cases = {
        L.SquaredLoss: np.mean((s - y) ** 2),
        L.HingeLoss: np.mean(np.maximum(0, 1 - y * s)),
        L.LogisticLoss: np.mean(np.log1p(np.exp(-y * s))),
    }
    for layer, expected in cases.items():
        loss = layer(L.Variable(s), L.Constant(y))
        cg.Graph(loss, dtype=np.float64).forward()
        assert float(loss.output) == pytest.approx(expected)


def test_squared_loss_sums_features_and_averages_examples():
    pred, target = np.arange(6.0).reshape(2, 3), np.zeros((2, 3))
    loss = L.SquaredLoss(L.Variable(pred), L.Constant(target))
    cg.Graph(loss, dtype=np.float64).forward()
    assert float(loss.output) == pytest.approx((pred**2).sum() / 2)


@pytest.mark.parametrize("layer", [L.SquaredLoss, L.HingeLoss, L.LogisticLoss])
def test_label_vector_against_column_scores_raises_instead_of_broadcasting(layer):
    scores, labels = L.Input("scores"), L.Input("labels")
    graph = cg.Graph(layer(scores, labels, name="loss"))
    with pytest.raises(cg.ShapeError, match=rf"{layer.__name__} 'loss'.*\(5, 1\).*\(5,\)"):
        graph.forward({"scores": np.zeros((5, 1)), "labels": np.ones(5)})


def test_softmax_labels_checked():
    logits, labels = L.Input("z"), L.Input("t")
    graph = cg.Graph(L.SoftmaxCrossEntropy(logits, labels, name="xent"))
    with pytest.raises(cg.FeedError, match="SoftmaxCrossEntropy 'xent'.*integers in 0..2"):
        graph.forward({"z": np.zeros((2, 3)), "t": np.array([0, 3])})
    with pytest.raises(cg.FeedError, match="integers"):
        graph.forward({"z": np.zeros((2, 3)), "t": np.array([0, 0.5])})
    with pytest.raises(cg.ShapeError, match="SoftmaxCrossEntropy 'xent'.*logits \\(N, C\\)"):
        graph.forward({"z": np.zeros((2, 3)), "t": np.zeros((2, 1))})


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_losses_are_stable_for_huge_scores(dtype):
    s = np.array([[-1e4], [1e4], [0.0]])
    y = np.array([[1.0], [1.0], [-1.0]])
    for layer in (L.LogisticLoss, L.HingeLoss, L.SquaredLoss):
        score = L.Variable(s)
        graph = cg.Graph(layer(score, L.Constant(y)), dtype=dtype)
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            value = graph.forward()
            graph.backward()
        assert np.isfinite(value) and np.all(np.isfinite(score.delta))
    logits = L.Variable(np.array([[1e4, -1e4, 0.0], [0.0, 0.0, 0.0]]))
    graph = cg.Graph(L.SoftmaxCrossEntropy(logits, L.Constant([1, 2])), dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value = graph.forward()
        graph.backward()
    assert value == pytest.approx((2e4 + np.log(3)) / 2, rel=1e-6)
    assert np.all(np.isfinite(logits.delta))
