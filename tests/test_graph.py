"""The engine: numbering, passes, summing deltas, dtype, tracing, errors."""

import numpy as np
import pytest

import tinygrad_cg as cg
from tinygrad_cg import layers as L


def lecture_graph():
    """The lecture's 1-D least squares: x, y, w, p = w x, r = p - y, s = r^2, created in that order."""
    x, y = L.Input("x"), L.Input("y")
    w = L.Variable(0.7, name="w")
    p = L.Multiply(w, x, name="p")
    r = L.Subtract(p, y, name="r")
    s = L.Square(r, name="s")
    return cg.Graph(s, dtype=np.float64), (x, y, w, p, r, s)


def test_lecture_graph_is_numbered_as_in_the_slides():
    graph, layers = lecture_graph()
    assert graph.layers == list(layers)
    table = graph.summary().splitlines()
    for t, name in enumerate("xywprs"):
        assert table[t + 1].split()[:3] == [str(t), layers[t].kind, name]


def test_lecture_graph_values_and_gradient():
    graph, (x, y, w, p, r, s) = lecture_graph()
    for xv, yv in [(2.0, 3.0), (-1.5, 0.25), (0.0, 1.0)]:
        loss = graph.forward({"x": xv, "y": yv})
        assert loss == pytest.approx((0.7 * xv - yv) ** 2)
        assert p.output == pytest.approx(0.7 * xv) and r.output == pytest.approx(0.7 * xv - yv)
        graph.backward()
        assert w.delta == pytest.approx(2 * (0.7 * xv - yv) * xv)
        assert x.delta == pytest.approx(2 * (0.7 * xv - yv) * 0.7)
        assert y.delta == pytest.approx(-2 * (0.7 * xv - yv))


def test_topological_order_does_not_depend_on_output_order():
    a, b = L.Input("a"), L.Variable(np.ones(3), name="b")
    c = L.Add(a, b)
    d = L.Sum(c)
    e = L.Mean(c)
    g1, g2 = cg.Graph(d, e), cg.Graph(e, d)
    assert g1.layers == g2.layers == [a, b, c, d, e]


def test_a_layer_used_twice_receives_the_summed_delta():
    v = L.Variable(np.array([1.0, -2.0, 3.0]), name="v")
    c = np.array([0.5, 0.25, -1.0])
    loss = L.Sum(L.Add(L.Square(v), L.Multiply(v, L.Constant(c))))
    graph = cg.Graph(loss, dtype=np.float64)
    graph.forward()
    graph.backward()
    np.testing.assert_allclose(v.delta, 2 * v.output + c)
    # the same input on both sides of one layer
    graph = cg.Graph(L.Sum(L.Multiply(v, v)), dtype=np.float64)
    graph.forward()
    graph.backward()
    np.testing.assert_allclose(v.delta, 2 * v.output)


def test_backward_resets_deltas_between_steps():
    graph, (x, y, w, *_) = lecture_graph()
    graph.forward({"x": 2.0, "y": 3.0})
    graph.backward()
    first = float(w.delta)
    graph.backward()
    assert float(w.delta) == first


def test_default_dtype_is_float32_and_feeds_are_cast():
    x = L.Input("x", shape=(None, 3))
    out = cg.nn.affine(x, 2, rng=0)
    graph = cg.Graph(L.Mean(out))
    value = graph.forward({"x": np.arange(6).reshape(2, 3)})  # integers are cast
    assert x.output.dtype == np.float32 and out.output.dtype == np.float32
    assert value.dtype == np.float32
    graph.backward()
    assert all(v.delta.dtype == np.float32 for v in graph.variables)


def test_input_grads_false_skips_input_deltas_but_not_parameters():
    x = L.Input("x", shape=(None, 3))
    out = cg.nn.affine(x, 2, rng=0)
    graph = cg.Graph(L.Mean(out), input_grads=False)
    graph.forward({"x": np.ones((4, 3))})
    graph.backward()
    assert x.delta is None and not x.needs_delta
    assert graph.variables[0].delta.shape == (3, 2)


def test_trace_reports_every_layer_in_order():
    graph, _ = lecture_graph()
    lines = []
    graph.forward({"x": 1.0, "y": 2.0}, trace=lines.append)
    graph.backward(trace=lines.append)
    assert [line.split()[1] for line in lines[:6]] == [f"[{t}]" for t in range(6)]
    assert [line.split()[1] for line in lines[6:]] == ["[5]", "[4]", "[3]"]


def test_summary_shows_static_shapes_before_forward():
    x = L.Input("x", shape=(None, 30))
    graph = cg.Graph(cg.nn.mlp(x, [300, 1], rng=0))
    text = graph.summary()
    assert "(N, 300)" in text and "(N, 1)" in text and "9601 parameters" in text


def test_graph_lookup_by_name():
    graph, (x, *_rest) = lecture_graph()
    assert graph["x"] is x
    with pytest.raises(KeyError):
        graph["nope"]


# --- errors -------------------------------------------------------------------------------


def test_missing_and_unknown_feeds_raise_feed_error():
    graph, _ = lecture_graph()
    with pytest.raises(cg.FeedError, match=r"no feed for input\(s\) \['y'\]"):
        graph.forward({"x": 1.0})
    with pytest.raises(cg.FeedError, match="unknown input 'z'"):
        graph.forward({"x": 1.0, "y": 1.0, "z": 2.0})
    stranger = L.Input("x")
    with pytest.raises(cg.FeedError, match="not in this graph"):
        graph.forward({stranger: 1.0, "y": 1.0})


def test_feed_that_cannot_be_cast_raises_feed_error_naming_the_input():
    graph, _ = lecture_graph()
    with pytest.raises(cg.FeedError, match="Input 'x'.*needs real numbers.*<U3"):
        graph.forward({"x": "two", "y": 1.0})


def test_feed_of_the_wrong_declared_shape_raises():
    x = L.Input("x", shape=(None, 3))
    graph = cg.Graph(L.Sum(x))
    with pytest.raises(cg.FeedError, match=r"Input 'x'.*\(5, 4\).*\(N, 3\)"):
        graph.forward({"x": np.zeros((5, 4))})


def test_cycle_raises_graph_error():
    a = L.Variable(1.0, name="a")
    b = L.Square(a, name="b")
    c = L.Square(b, name="c")
    b.inputs = (c,)  # tamper: b now reads c, which reads b
    with pytest.raises(cg.GraphError, match="cycle.*Square 'b'.*Square 'c'"):
        cg.Graph(c)


def test_non_layer_input_raises_graph_error():
    with pytest.raises(cg.GraphError, match="Square: input 0 is a ndarray"):
        L.Square(np.ones(3))


def test_backward_needs_a_scalar_loss():
    v = L.Variable(np.ones(3), name="v")
    graph = cg.Graph(L.Square(v, name="sq"))
    graph.forward()
    with pytest.raises(cg.GraphError, match="scalar loss.*Square 'sq'.*\\(3,\\)"):
        graph.backward()


def test_check_finite_names_the_first_bad_layer():
    x = L.Input("x")
    w = L.Variable(np.ones(2), name="w")
    prod = L.Multiply(w, x, name="prod")
    loss = L.Sum(L.Square(prod, name="sq"), name="loss")
    graph = cg.Graph(loss, check_finite=True)
    graph.forward({"x": np.array([1.0, 2.0])})
    with pytest.raises(cg.NonFiniteError, match="Input 'x'"):
        graph.forward({"x": np.array([np.nan, 1.0])})
    with pytest.raises(cg.NonFiniteError, match="Square 'sq'"), np.errstate(over="ignore"):
        graph.forward({"x": np.array([1e30, 1.0])})  # float32 overflow in the square


def test_errors_are_value_errors():
    for error in (cg.ShapeError, cg.FeedError, cg.GraphError, cg.NonFiniteError):
        assert issubclass(error, ValueError)


def test_duplicate_input_names_raise():
    with pytest.raises(cg.GraphError, match="named 'x'"):
        cg.Graph(L.Add(L.Input("x"), L.Input("x")))


def test_float_dtype_required():
    with pytest.raises(cg.GraphError, match="float dtype"):
        cg.Graph(L.Sum(L.Variable(1.0)), dtype=np.int32)


def test_graphs_sharing_layers_each_get_their_own_input_deltas():
    x = L.Input("x", shape=(None, 2))
    loss = L.Sum(cg.nn.affine(x, 1, rng=0))
    with_inputs = cg.Graph(loss, dtype=np.float64, input_grads=True)
    cg.Graph(loss, dtype=np.float64, input_grads=False)  # marks the shared layers without input deltas
    with_inputs.forward({"x": np.ones((3, 2))})
    with_inputs.backward()
    W = with_inputs.variables[0].output
    np.testing.assert_allclose(x.delta, np.tile(W[:, 0], (3, 1)))


def test_console_script_example_prints_the_walkthrough(capsys):
    from tinygrad_cg.cli import main

    assert main(["example"]) == 0
    out = capsys.readouterr().out
    assert "w.delta = -8.0" in out and "backward [3] Multiply 'p'" in out


def test_shapes_are_checked_again_whenever_a_source_changes_shape():
    """Forward skips the per-layer shape rules while every source keeps the shapes of the last checked pass;
    a feed or a parameter of a new shape brings them back."""
    x = L.Input("x", shape=(None, 3))
    out = cg.nn.affine(x, 2, rng=0)
    graph = cg.Graph(L.Sum(out))
    graph.forward({"x": np.ones((4, 3))})
    graph.forward({"x": np.ones((4, 3))})  # same shapes: no checks needed
    graph.forward({"x": np.ones((7, 3))})  # a new batch size is fine
    W = graph.variables[0]
    W.output = np.ones((5, 2), np.float32)  # a parameter replaced by one of the wrong shape
    with pytest.raises(cg.ShapeError, match=r"Affine.*\(7, 3\).*\(5, 2\)"):
        graph.forward({"x": np.ones((7, 3))})
    W.output = np.ones((3, 2), np.float32)
    graph.forward({"x": np.ones((7, 3))})
    with pytest.raises(cg.ShapeError, match="Affine"):  # and after a failed pass, still checked
        W.output = np.ones((5, 2), np.float32)
        graph.forward({"x": np.ones((7, 3))})
    with pytest.raises(cg.ShapeError, match="Affine"):
        graph.forward({"x": np.ones((7, 3))})
