"""Conv (Im2Col + Affine), pooling, batch norm and LeNet: gradchecks, a direct convolution, shape errors."""

import numpy as np
import pytest
from helpers import check_layer_gradients
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cg as cg
from tinygrad_cg import layers as L

few = settings(max_examples=10, deadline=None)


def direct_conv(x, K, b, stride, padding):
    """Nested-loop cross-correlation, the definition."""
    n, c, h, w = x.shape
    c_out, _, kh, kw = K.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    oh, ow = (h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1
    out = np.zeros((n, c_out, oh, ow))
    for i in range(n):
        for o in range(c_out):
            for y in range(oh):
                for z in range(ow):
                    patch = xp[i, :, y * stride:y * stride + kh, z * stride:z * stride + kw]
                    out[i, o, y, z] = np.sum(patch * K[o]) + b[o]
    return out


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("stride,padding", [(1, 0), (1, 2), (2, 1)])
def test_conv2d_equals_direct_convolution(monkeypatch, backend, stride, padding):
    monkeypatch.setenv("TINYGRAD_CG_KERNELS", backend)
    rng = np.random.default_rng(0)
    x_in = L.Input("x", shape=(None, 2, 7, 7))
    conv = cg.nn.conv2d(x_in, 3, 3, stride=stride, padding=padding, rng=0)
    graph = cg.Graph(conv, dtype=np.float64)
    K, b = graph.variables
    b.output[:] = rng.normal(size=3)
    x = rng.normal(size=(2, 2, 7, 7))
    np.testing.assert_allclose(graph.forward({"x": x}), direct_conv(x, K.output, b.output, stride, padding),
                               rtol=1e-12, atol=1e-12)
    kinds = [layer.kind for layer in graph.layers]
    assert kinds.index("Im2Col") < kinds.index("Affine") < kinds.index("RowsToImages")


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_conv_gradients(monkeypatch, backend):
    monkeypatch.setenv("TINYGRAD_CG_KERNELS", backend)
    rng = np.random.default_rng(1)
    x = L.Variable(rng.normal(size=(2, 2, 6, 5)), name="x")
    x.shape = (None, 2, 6, 5)
    conv = cg.nn.conv2d(x, 3, (3, 2), stride=1, padding=1, rng=2)
    loss = L.Sum(L.Multiply(conv, L.Constant(rng.normal(size=(2, 3, 6, 6)))))
    cg.diagnostics.gradcheck(cg.Graph(loss, dtype=np.float64), {})


@few
@given(k=st.integers(1, 3), stride=st.integers(1, 2), seed=st.integers(0, 2**31 - 1),
       layer=st.sampled_from(["max", "avg"]))
def test_pooling_gradients(k, stride, seed, layer):
    rng = np.random.default_rng(seed)
    shape = (2, 2, (2 - 1) * stride + k, (3 - 1) * stride + k)
    x = rng.permutation(np.arange(np.prod(shape), dtype=float)).reshape(shape) / 10  # distinct: no ties
    pool = L.MaxPool2D if layer == "max" else L.AvgPool2D
    check_layer_gradients(lambda v: pool(v, k, stride), [x], rng)


def test_strided_conv_and_pool_that_do_not_tile_raise():
    x = L.Input("x", shape=(None, 1, 28, 28))
    with pytest.raises(cg.ShapeError, match="MaxPool2D 'p'.*does not tile H = 28"):
        L.MaxPool2D(x, 3, name="p")
    with pytest.raises(cg.ShapeError, match="Im2Col 'c'.*stride 2"):
        L.Im2Col(x, 5, 5, stride=2, name="c")
    loose = L.Input("z")
    graph = cg.Graph(L.Sum(L.AvgPool2D(loose, 2, name="avg")))
    with pytest.raises(cg.ShapeError, match="AvgPool2D 'avg'.*W = 5"):
        graph.forward({"z": np.zeros((1, 1, 4, 5))})
    with pytest.raises(cg.ShapeError, match="NCHW"):
        graph.forward({"z": np.zeros((4, 4))})


def test_conv_builder_needs_known_image_shape():
    with pytest.raises(cg.GraphError, match="known shape"):
        cg.nn.conv2d(L.Input("x"), 4, 3)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 2, 2)])
def test_batchnorm_gradients_in_train_and_eval_mode(shape):
    rng = np.random.default_rng(3)
    arrays = [rng.normal(size=shape), rng.normal(size=shape[1]), rng.normal(size=shape[1])]
    check_layer_gradients(L.BatchNorm, arrays, rng, tol=1e-5)

    def eval_mode(x, gamma, beta):
        layer = L.BatchNorm(x, gamma, beta)
        layer.running_mean, layer.running_var = rng.normal(size=shape[1]), rng.uniform(0.5, 2, size=shape[1])
        layer.training = False
        return layer

    check_layer_gradients(eval_mode, arrays, rng)


def test_batchnorm_statistics_and_running_estimates_match_torch_convention():
    rng = np.random.default_rng(4)
    X = rng.normal(loc=3.0, scale=2.0, size=(50, 4))
    x = L.Input("x", shape=(None, 4))
    bn = cg.nn.batch_norm(x, momentum=0.1)
    graph = cg.Graph(bn, dtype=np.float64)
    out = graph.forward({"x": X})
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=0), 1, atol=1e-4)
    np.testing.assert_allclose(bn.running_mean, 0.1 * X.mean(axis=0))
    np.testing.assert_allclose(bn.running_var, 0.9 + 0.1 * X.var(axis=0, ddof=1))
    graph.eval()
    expected = (X - bn.running_mean) / np.sqrt(bn.running_var + 1e-5)
    np.testing.assert_allclose(graph.forward({"x": X}), expected)
    assert not bn.training and graph.train() is graph and bn.training


def test_conv1d_is_the_h_equals_one_case():
    rng = np.random.default_rng(5)
    x_in = L.Input("f", shape=(None, 1, 12))
    conv = cg.nn.conv1d(x_in, 1, 3, padding=1, rng=0)
    graph = cg.Graph(conv, dtype=np.float64)
    K = graph.variables[0].output.reshape(-1)
    f = rng.normal(size=(2, 1, 12))
    expected = np.array([[np.convolve(np.pad(row[0], 1), K[::-1], mode="valid")] for row in f])
    np.testing.assert_allclose(graph.forward({"f": f}), expected, rtol=1e-12)


def test_lenet_forward_backward_and_gradcheck_on_a_batch_of_8():
    rng = np.random.default_rng(6)
    x = L.Input("x", shape=(None, 1, 28, 28))
    labels = L.Input("labels", shape=(None,))
    logits = cg.nn.lenet(x, 10, rng=7)
    graph = cg.Graph(L.SoftmaxCrossEntropy(logits, labels), input_grads=False)
    feed = {"x": rng.random(size=(8, 1, 28, 28)), "labels": rng.integers(0, 10, size=8)}
    assert np.isfinite(graph.forward(feed))
    graph.backward()
    assert logits.output.shape == (8, 10)
    assert all(v.delta.shape == v.output.shape for v in graph.variables)
    errors = cg.diagnostics.gradcheck(graph, feed, max_entries=6, tol=1e-5)
    assert set(errors) == {v.name for v in graph.variables}
