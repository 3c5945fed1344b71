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


def test_strided_conv_that_does_not_tile_raises_and_pooling_windows_that_do_not_fit():
    x = L.Input("x", shape=(None, 1, 28, 28))
    with pytest.raises(cg.ShapeError, match="Im2Col 'c'.*stride 2"):
        L.Im2Col(x, 5, 5, stride=2, name="c")
    with pytest.raises(cg.ShapeError, match="Conv2D 'f'.*stride 2"):
        L.Conv2D(x, L.Variable(np.zeros((2, 1, 5, 5))), L.Variable(np.zeros(2)), stride=2, name="f")
    with pytest.raises(cg.ShapeError, match="MaxPool2D 'p'.*does not fit in H = 28"):
        L.MaxPool2D(x, 29, name="p")
    loose = L.Input("z")
    graph = cg.Graph(L.Sum(L.AvgPool2D(loose, 2, name="avg")))
    with pytest.raises(cg.ShapeError, match="AvgPool2D 'avg'.*W = 1"):
        graph.forward({"z": np.zeros((1, 1, 4, 1))})
    with pytest.raises(cg.ShapeError, match="NCHW"):
        graph.forward({"z": np.zeros((4, 4))})


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("layer", ["max", "avg"])
def test_pooling_drops_what_does_not_fit_as_pytorch_does(monkeypatch, backend, layer):
    """Floor rule: 7x7 pooled by 2 is 3x3; the last row and column are dropped and get delta 0."""
    monkeypatch.setenv("TINYGRAD_CG_KERNELS", backend)
    rng = np.random.default_rng(4)
    x = rng.permutation(np.arange(2 * 3 * 7 * 7, dtype=float)).reshape(2, 3, 7, 7)
    v = L.Variable(x, name="x")
    pool = (L.MaxPool2D if layer == "max" else L.AvgPool2D)(v, 2)
    assert pool.shape == (2, 3, 3, 3)
    graph = cg.Graph(L.Sum(pool), dtype=np.float64)
    out = graph.forward({})
    windows = x[:, :, :6, :6].reshape(2, 3, 3, 2, 3, 2)
    expected = windows.max(axis=(3, 5)) if layer == "max" else windows.mean(axis=(3, 5))
    np.testing.assert_allclose(pool.output, expected)
    assert out == pytest.approx(expected.sum())
    graph.backward()
    assert np.all(v.delta[:, :, 6, :] == 0) and np.all(v.delta[:, :, :, 6] == 0)
    check_layer_gradients(lambda u: (L.MaxPool2D if layer == "max" else L.AvgPool2D)(u, 2), [x / 10], rng)


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


# --- the fused form -------------------------------------------------------------------------------

def conv_pair(c, size, c_out, kernel, stride, padding, seed, batch=3):
    """The composed and the fused conv on the same x (a Variable, so delta_x is checked too), with the
    same parameters: (graph, x, output layer) for each."""
    rng = np.random.default_rng(seed)
    x_value = rng.normal(size=(batch, c, *size))
    built = []
    for fused in (False, True):
        x = L.Variable(x_value.copy(), name="x")
        x.shape = (None, c, *size)
        conv = cg.nn.conv2d(x, c_out, kernel, stride, padding, rng=seed, fused=fused)
        R = L.Constant(np.random.default_rng(seed + 1).normal(size=(batch, *conv.shape[1:])), name="R")
        built.append((cg.Graph(L.Sum(L.Multiply(conv, R)), dtype=np.float64), x, conv))
    return built


@few
@given(c=st.integers(1, 4), h=st.integers(3, 9), w=st.integers(3, 9), c_out=st.integers(1, 3),
       kh=st.integers(1, 3), kw=st.integers(1, 3), stride=st.integers(1, 2), padding=st.integers(0, 2),
       seed=st.integers(0, 2**16))
def test_fused_conv_equals_the_composed_form_and_passes_gradcheck(c, h, w, c_out, kh, kw, stride, padding, seed):
    padding = min(padding, kh - 1, kw - 1)
    h = h - (h + 2 * padding - kh) % stride      # make the windows tile, as both forms require
    w = w - (w + 2 * padding - kw) % stride
    (composed, x0, out0), (fused, x1, out1) = conv_pair(c, (h, w), c_out, (kh, kw), stride, padding, seed)
    assert out1.kind == "Conv2D" and out1.shape == out0.shape
    np.testing.assert_allclose(fused.forward({}), composed.forward({}), rtol=1e-12)
    composed.backward()
    fused.backward()
    for a, b in zip([x0, *composed.variables[1:]], [x1, *fused.variables[1:]], strict=True):
        np.testing.assert_allclose(b.delta, a.delta, rtol=1e-10, atol=1e-12)
    cg.diagnostics.gradcheck(fused, {})


@pytest.mark.parametrize("c,size", [(1, (28, 28)), (16, (14, 14))])
def test_fused_conv_on_the_demo_shapes_in_both_layouts(c, size):
    """C=1 uses the channels-first gather, C=16 the channels-last one (kernels/fused_conv.py)."""
    from tinygrad_cg.kernels import fused_conv

    assert fused_conv.layout_for(c, 5, size[1]) is (fused_conv.ChannelsFirst if c == 1 else fused_conv.ChannelsLast)
    (composed, x0, out0), (fused, x1, out1) = conv_pair(c, size, 4, 5, 1, 2, seed=3)
    np.testing.assert_allclose(fused.forward({}), composed.forward({}), rtol=1e-12)
    composed.backward()
    fused.backward()
    np.testing.assert_allclose(x1.delta, x0.delta, rtol=1e-10, atol=1e-12)


def test_fused_conv_chunks_give_the_same_numbers(monkeypatch):
    """A batch cut into many chunks (the last one short) gives the whole batch's result."""
    from tinygrad_cg.kernels import fused_conv

    (_, _, _), (fused, x, conv) = conv_pair(3, (8, 8), 2, 3, 1, 1, seed=7)
    whole = fused.forward({}).copy()
    fused.backward()
    deltas = [x.delta.copy()] + [v.delta.copy() for v in fused.variables[1:]]
    monkeypatch.setattr(fused_conv, "CHUNK_BYTES", 8 * 8 * 27 * 8 * 2)  # two images a chunk: 2 + 1
    assert fused_conv.chunk_size(3, 8 * 8 * 27, 8) == 2
    assert fused.forward({}) == pytest.approx(whole)
    fused.backward()
    for before, after in zip(deltas, [x.delta] + [v.delta for v in fused.variables[1:]], strict=True):
        np.testing.assert_allclose(after, before, rtol=1e-12)


@pytest.mark.parametrize("c,stride,size", [(1, 1, 8), (3, 2, 9)])
def test_fused_conv_split_over_threads_gives_the_serial_numbers(monkeypatch, c, stride, size):
    """Seven images over three threads (parts of 3, 2, 2 images, each cut in chunks of 2): the output, the
    kernel's and bias's gradients (summed over the parts) and x's delta (added in place) are the serial ones."""
    from tinygrad_cg.kernels import fused_conv

    (_, _, _), (fused, x, conv) = conv_pair(c, (size, size), 2, 3, stride, 1, seed=11, batch=7)
    monkeypatch.setenv("TINYGRAD_CG_THREADS", "1")
    serial = fused.forward({}).copy()
    fused.backward()
    deltas = [x.delta.copy()] + [v.delta.copy() for v in fused.variables[1:]]
    monkeypatch.setenv("TINYGRAD_CG_THREADS", "3")
    monkeypatch.setattr(fused_conv.threads, "MIN_PART_BYTES", 1)
    monkeypatch.setattr(fused_conv, "CHUNK_BYTES", conv.shape[2] * conv.shape[3] * c * 9 * 8 * 2)
    calls = []
    map_parts = fused_conv.threads.map_parts
    monkeypatch.setattr(fused_conv.threads, "map_parts",
                        lambda work, n, min_items=1: calls.append(n) or map_parts(work, n, min_items))
    np.testing.assert_allclose(fused.forward({}), serial, rtol=1e-12)
    fused.backward()
    assert calls == [7, 7, 7]  # forward, parameter gradients, input gradient
    for before, after in zip(deltas, [x.delta] + [v.delta for v in fused.variables[1:]], strict=True):
        np.testing.assert_allclose(after, before, rtol=1e-12, atol=1e-14)


def test_fused_conv_in_float32_and_lenet():
    x = L.Input("x", shape=(None, 1, 28, 28))
    outputs = []
    for fused in (False, True):
        graph = cg.Graph(cg.nn.lenet(x, 10, rng=0, fused=fused))
        outputs.append(graph.forward({"x": np.random.default_rng(0).random((5, 1, 28, 28))}))
        assert outputs[-1].dtype == np.float32
        assert ("Conv2D" in [layer.kind for layer in graph.layers]) == fused
    np.testing.assert_allclose(outputs[1], outputs[0], rtol=1e-4, atol=1e-5)


def test_fused_conv_shape_errors_name_the_layer():
    x = L.Input("x", shape=(None, 3, 8, 8))
    K, b = L.Variable(np.zeros((4, 2, 3, 3))), L.Variable(np.zeros(4))
    with pytest.raises(cg.ShapeError, match="Conv2D 'c'.*3 channels.*expects 2"):
        L.Conv2D(x, K, b, name="c")
    with pytest.raises(cg.ShapeError, match="Conv2D 'c'.*b has shape"):
        L.Conv2D(x, L.Variable(np.zeros((4, 3, 3, 3))), L.Variable(np.zeros(3)), name="c")
    with pytest.raises(cg.ShapeError, match="padding.*smaller than the kernel"):
        L.Conv2D(x, L.Variable(np.zeros((4, 3, 3, 3))), b, padding=3, name="c")
