"""Misuse gets a typed error naming the layer (or builder, optimizer, file) and the value; nothing silent."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinygrad_cg as cg
from tinygrad_cg import layers as L
from tinygrad_cg import optim

ROOT = Path(__file__).resolve().parents[1]


def small_net(seed: int = 0) -> cg.Graph:
    """A conv + MLP built only from builders, with no explicit names."""
    x = L.Input("x", shape=(None, 1, 6, 6))
    h = L.MaxPool2D(cg.nn.conv2d(x, 2, 3, padding=1, rng=seed), 2)
    return cg.Graph(cg.nn.mlp(L.Flatten(h), [4, 1], rng=seed), dtype=np.float64)


# --- default names are stable: checkpoints load into a rebuilt network -------------------------------

def test_checkpoint_loads_into_the_same_network_built_again_in_the_same_process(tmp_path):
    first = small_net(seed=0)
    path = cg.io.save(tmp_path / "net.npz", first)
    L.Affine(L.Input("unrelated", shape=(None, 3)), L.Variable(np.zeros((3, 2))), L.Variable(np.zeros(2)))
    second = small_net(seed=1)  # other initial values, layers created after many others
    assert [v.name for v in second.variables] == [v.name for v in first.variables]
    assert [v.name for v in first.variables][:2] == ["conv_6.K", "conv_6.b"]  # conv is layer 6
    cg.io.load(path, second)
    for a, b in zip(first.variables, second.variables, strict=True):
        np.testing.assert_array_equal(a.output, b.output)


def test_explicit_names_win_and_a_second_graph_keeps_the_names_of_the_first():
    x = L.Input("x", shape=(None, 3))
    hidden = cg.nn.affine(x, 4, rng=0, name="fc1")
    out = cg.nn.affine(L.ReLU(hidden), 1, rng=0)
    loss_graph = cg.Graph(L.Sum(out))
    names = [layer.name for layer in loss_graph.layers]
    assert "fc1" in names and "fc1.W" in names and "relu_4" in names
    predictor = cg.Graph(out)
    assert [layer.name for layer in predictor.layers] == names[:-1]


def test_save_load_round_trip_through_a_rebuilt_network_in_a_fresh_process(tmp_path):
    graph = small_net(seed=3)
    path = cg.io.save(tmp_path / "net.npz", graph)
    code = (f"import sys; sys.path.insert(0, {str(ROOT / 'tests')!r}); import numpy as np, tinygrad_cg as cg; "
            f"from test_errors import small_net; g = small_net(seed=9); cg.io.load({str(path)!r}, g); "
            f"np.savez({str(tmp_path / 'loaded.npz')!r}, *[v.output for v in g.variables])")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    with np.load(tmp_path / "loaded.npz") as loaded:
        for i, v in enumerate(graph.variables):
            np.testing.assert_array_equal(loaded[f"arr_{i}"], v.output)


# --- feeds ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value,match", [
    (np.zeros((0, 3)), "empty array of shape \\(0, 3\\)"),
    (np.ones((2, 3)) + 1j, "complex128.*imaginary"),
    (np.array([[None, 1.0, 2.0]] * 2), "dtype object"),
    ([["a", "b", "c"]], "dtype <U1"),
])
def test_feeds_that_are_empty_complex_or_not_numbers_raise_feed_error(value, match):
    x = L.Input("x", shape=(None, 3))
    graph = cg.Graph(L.Sum(cg.nn.affine(x, 2, rng=0)))
    with pytest.raises(cg.FeedError, match=f"Input 'x'.*{match}"):
        graph.forward({"x": value})


@pytest.mark.parametrize("loss", [L.HingeLoss, L.LogisticLoss])
def test_hinge_and_logistic_refuse_zero_one_labels(loss):
    s, y = L.Input("s", shape=(None, 1)), L.Input("y", shape=(None, 1))
    graph = cg.Graph(loss(s, y, name="loss"))
    with pytest.raises(cg.FeedError, match=f"{loss.__name__} 'loss': labels must be -1 or \\+1.*\\[0.0, 1.0\\]"):
        graph.forward({"s": np.zeros((3, 1)), "y": np.array([[0.0], [1.0], [1.0]])})
    assert graph.forward({"s": np.zeros((2, 1)), "y": np.array([[-1.0], [1.0]])}) > 0


def test_batchnorm_in_training_mode_refuses_a_batch_of_one():
    x = L.Input("x", shape=(None, 3))
    graph = cg.Graph(L.Sum(cg.nn.batch_norm(x, name="bn")))
    with pytest.raises(cg.FeedError, match="BatchNorm 'bn'.*more than one value per feature.*\\(1, 3\\)"):
        graph.forward({"x": np.ones((1, 3))})
    graph.forward({"x": np.random.default_rng(0).normal(size=(4, 3))})
    graph.eval()
    graph.forward({"x": np.ones((1, 3))})  # evaluation mode uses the running statistics: fine


# --- constructor arguments --------------------------------------------------------------------------

IMAGES = L.Input("images", shape=(None, 1, 8, 8))


@pytest.mark.parametrize("build,match", [
    (lambda: L.Input("x", shape=(None, -3)), "Input 'x': every size in shape must be an integer >= 1, got -3"),
    (lambda: L.Input("x", shape=30), "Input 'x': shape must be a tuple such as \\(None, 30\\), got 30"),
    (lambda: L.Im2Col(IMAGES, 3, 3, stride=0, name="c"), "Im2Col 'c': stride must be an integer >= 1, got 0"),
    (lambda: L.Im2Col(IMAGES, 3, 3, padding=-1), "Im2Col: padding must be an integer >= 0, got -1"),
    (lambda: L.Im2Col(IMAGES, 0, 3), "kh must be an integer >= 1, got 0"),
    (lambda: L.MaxPool2D(IMAGES, 0, name="p"), "MaxPool2D 'p': k must be an integer >= 1, got 0"),
    (lambda: L.AvgPool2D(IMAGES, 2, stride=0), "AvgPool2D: stride must be an integer >= 1"),
    (lambda: L.AvgPool2D(IMAGES, 2.5), "k must be an integer >= 1, got 2.5"),
    (lambda: cg.nn.conv2d(IMAGES, 0, 3), "nn.conv2d: c_out must be an integer >= 1, got 0"),
    (lambda: cg.nn.conv2d(IMAGES, 2, (3, -1)), "nn.conv2d: kernel must be an integer >= 1, got -1"),
    (lambda: cg.nn.conv2d(IMAGES, 2, 3, padding=-2), "padding must be an integer >= 0, got -2"),
    (lambda: cg.nn.conv2d(IMAGES, 2, 3, stride=0, fused=True), "Conv2D: stride must be an integer >= 1"),
    (lambda: cg.nn.mlp(L.Flatten(IMAGES), [-2]), "nn.mlp: sizes\\[0\\] must be an integer >= 1, got -2"),
    (lambda: cg.nn.mlp(L.Flatten(IMAGES), 5), "nn.mlp: sizes must be a non-empty list"),
    (lambda: cg.nn.affine(L.Flatten(IMAGES), 0), "nn.affine: n_out must be an integer >= 1, got 0"),
    (lambda: cg.nn.lenet(IMAGES, True), "nn.lenet: n_out must be an integer >= 1, got True"),
    (lambda: L.Reshape(IMAGES, (8, -8)), "Reshape: every size in shape must be an integer >= 1, got -8"),
    (lambda: L.Reshape(IMAGES, 64), "Reshape: shape must be a sequence"),
    (lambda: L.GroupRows(L.Flatten(IMAGES), 0), "GroupRows: size must be an integer >= 1, got 0"),
    (lambda: L.Step(IMAGES, [0.0], [0.0, 1.0], backward="straight"), "Step: backward must be one of"),
    (lambda: L.Step(IMAGES, [1.0, 0.0], [0.0, 1.0, 2.0]), "Step: thresholds must be finite and strictly"),
    (lambda: L.Step(IMAGES, [0.0], [0.0, 1.0], sharpness=[1.0, 2.0]), "Step: sharpness must be one positive"),
    (lambda: cg.nn.batch_norm(L.Flatten(IMAGES), momentum=1.5), "BatchNorm: momentum must be a number in \\[0, 1\\]"),
    (lambda: cg.nn.batch_norm(L.Flatten(IMAGES), eps=0), "BatchNorm: eps must be positive, got 0"),
])
def test_out_of_range_constructor_arguments_raise_argument_error_naming_owner_and_value(build, match):
    with pytest.raises(cg.ArgumentError, match=match):
        build()


OPTIMIZER_MISUSE = [
    (optim.SGD, dict(lr=-0.1), "lr"), (optim.SGD, dict(lr=float("nan")), "lr"),
    (optim.SGD, dict(lr=0.1, weight_decay=-1), "weight_decay"),
    (optim.SGD, dict(lr=0.1, schedule=0.5), "schedule must be a callable"),
    (optim.Momentum, dict(lr=0.1, mu=2), "mu"), (optim.Momentum, dict(lr=0.1, mu=-0.5), "mu"),
    (optim.Nesterov, dict(lr=0.1, mu=1.0), "mu"), (optim.Momentum, dict(lr=0.1, momentum=1.0), "momentum"),
    (optim.SGD, dict(lr=0.1, nesterov=True), "nesterov=True needs a momentum > 0"),
    (optim.SGD, dict(lr=0.1, momentum=0.9, mu=0.9), "momentum and mu are two names"),
    (optim.SGD, dict(lr=0), "lr must be positive, got 0"), (optim.Adam, dict(lr=-1), "lr must be positive"),
    (optim.Adagrad, dict(lr=-1), "lr"), (optim.Adagrad, dict(eps=-1e-3), "eps"),
    (optim.RMSprop, dict(alpha=1.2), "alpha"), (optim.RMSprop, dict(eps=-1.0), "eps"),
    (optim.Adam, dict(betas=(1.5, 0.9)), "betas\\[0\\]"), (optim.Adam, dict(betas=(0.9, 1.0)), "betas\\[1\\]"),
    (optim.Adam, dict(betas=0.9), "betas must be a pair"), (optim.Adam, dict(eps=-1.0), "eps"),
    (optim.Adadelta, dict(rho=1.1), "rho"), (optim.Adadelta, dict(eps=-1.0), "eps"),
    (optim.PreconditionedSGD, dict(lr=-1, preconditioner=np.eye(2)), "lr"),
]


@pytest.mark.parametrize("optimizer,kwargs,arg", OPTIMIZER_MISUSE)
def test_every_optimizer_checks_its_hyperparameters(optimizer, kwargs, arg):
    with pytest.raises(cg.ArgumentError, match=f"{optimizer.__name__}: {arg}"):
        optimizer([L.Variable(np.zeros(2))], **kwargs)


@pytest.mark.parametrize("params,match", [
    (lambda g: g, "pass graph.variables, not the Graph itself"),
    (lambda g: g.variables[0], r"pass \[affine_\d+\.W\] \(or graph.variables\), not one Variable"),
    (lambda g: np.zeros(3), "got a ndarray; wrap a parameter array in L.Variable"),
    (lambda g: [], "no parameters to train"),
])
def test_optimizers_say_what_to_pass_when_given_something_else(params, match):
    x = L.Input("x", shape=(None, 2))
    graph = cg.Graph(L.Sum(cg.nn.affine(x, 1, rng=0)))
    with pytest.raises(cg.GraphError, match=match):
        optim.Adam(params(graph), lr=0.1)


def test_optimizers_accept_torchs_argument_names():
    w = [L.Variable(np.ones(2))]
    assert optim.Momentum(w, lr=1e-3, momentum=0.5).mu == 0.5 and optim.Momentum(w, lr=1e-3, mu=0.5).momentum == 0.5
    sgd = optim.SGD(w, lr=1e-3, momentum=0.9, nesterov=True)
    assert sgd.nesterov and optim.Nesterov(w, lr=1e-3).nesterov and not optim.Momentum(w, lr=1e-3).nesterov


@pytest.mark.parametrize("make,match", [
    (lambda: optim.schedules.StepDecay(0), "StepDecay: every"),
    (lambda: optim.schedules.StepDecay(10, gamma=0), "StepDecay: gamma"),
    (lambda: optim.schedules.Harmonic(10, b=0), "Harmonic: b"),
    (lambda: optim.schedules.HalveOnPlateau(patience=0), "HalveOnPlateau: patience"),
    (lambda: optim.schedules.PiecewiseConstant([5, 2], [1, 2, 3]), "PiecewiseConstant: need sorted"),
])
def test_schedules_check_their_arguments(make, match):
    with pytest.raises(cg.ArgumentError, match=match):
        make()


# --- checkpoints ------------------------------------------------------------------------------------

def values(graph: cg.Graph) -> list[np.ndarray]:
    return [v.output.copy() for v in graph.variables]


@pytest.mark.parametrize("content", [b"", b"not a checkpoint", b"PK\x03\x04truncated zip"])
def test_load_of_a_file_that_is_not_a_checkpoint_raises_checkpoint_error_and_changes_nothing(tmp_path, content):
    graph = small_net()
    before = values(graph)
    bad = tmp_path / "bad.npz"
    bad.write_bytes(content)
    with pytest.raises(cg.CheckpointError, match="bad.npz: not a checkpoint"):
        cg.io.load(bad, graph)
    np.save(tmp_path / "array.npy", np.zeros(3))
    with pytest.raises(cg.CheckpointError, match="array.npy: not a checkpoint"):
        cg.io.load(tmp_path / "array.npy", graph)
    with pytest.raises(cg.CheckpointError, match="no such checkpoint file"):
        cg.io.load(tmp_path / "missing.npz", graph)
    for a, b in zip(before, values(graph), strict=True):
        np.testing.assert_array_equal(a, b)


def test_save_into_a_missing_directory_names_it_and_leaves_nothing(tmp_path):
    with pytest.raises(cg.CheckpointError, match="the directory .*nowhere does not exist"):
        cg.io.save(tmp_path / "nowhere" / "net.npz", small_net())
    assert list(tmp_path.iterdir()) == []


CHECKPOINT = small_net(seed=5)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.floats(0, 1, exclude_max=True), garbage=st.binary(max_size=300), truncate=st.booleans())
def test_load_of_random_bytes_or_a_truncated_checkpoint_raises_only_checkpoint_error(tmp_path, cut, garbage,
                                                                                    truncate):
    good = cg.io.save(tmp_path / "good.npz", CHECKPOINT).read_bytes()
    bad = tmp_path / "bad.npz"
    bad.write_bytes(good[:int(cut * len(good))] if truncate else garbage)
    graph = small_net(seed=6)
    before = values(graph)
    with pytest.raises(cg.CheckpointError):
        cg.io.load(bad, graph)
    for a, b in zip(before, values(graph), strict=True):
        np.testing.assert_array_equal(a, b)


# --- the demos' command line ------------------------------------------------------------------------

def test_demos_out_that_is_a_file_is_a_one_line_usage_error_before_any_work(tmp_path):
    target = tmp_path / "some_file"
    target.write_text("keep me")
    run = subprocess.run([sys.executable, "-m", "demos", "parity", "--quick", "--out", str(target)],
                         capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines()[-1].endswith(f"argument --out: {target} exists and is not a directory")
    assert "Traceback" not in run.stderr and target.read_text() == "keep me"
