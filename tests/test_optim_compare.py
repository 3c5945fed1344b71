"""optim.compare: the same start and the same batches for every optimizer, curves, paths and the plot."""

import numpy as np
import pytest

import tinygrad_cg as cg
from tinygrad_cg import layers as L
from tinygrad_cg import optim


def logistic_problem(rng):
    """A 2-input logistic regression with fresh batches each step: 3 parameters, data from the rng."""
    x, y = L.Input("x", shape=(None, 2)), L.Input("y", shape=(None, 1))
    graph = cg.Graph(L.LogisticLoss(cg.nn.affine(x, 1, rng=rng), y), dtype=np.float64)

    def batch(rng):
        labels = rng.choice([-1.0, 1.0], size=(32, 1))
        return {"x": rng.normal(size=(32, 2)) + labels, "y": labels}

    return graph, batch


OPTIMIZERS = {"SGD": lambda p: optim.SGD(p, lr=0.1), "Adam": lambda p: optim.Adam(p, lr=0.05)}


def test_every_optimizer_starts_from_the_same_point_and_sees_the_same_batches():
    result = optim.compare(logistic_problem, OPTIMIZERS, steps=50, seed=4)
    assert result.losses["SGD"][0] == result.losses["Adam"][0]  # same parameters, same first batch
    assert result.trajectories == {}  # three parameters: no 2-D path
    again = optim.compare(logistic_problem, {"SGD": OPTIMIZERS["SGD"]}, steps=50, seed=4)
    np.testing.assert_array_equal(again.losses["SGD"], result.losses["SGD"])
    assert result.losses["Adam"][-5:].mean() < result.losses["Adam"][0]


def test_two_parameter_problems_record_paths_and_plot_to_png_and_svg(tmp_path):
    def bowl(rng):
        w = L.Variable(rng.normal(size=2), name="w")
        return cg.Graph(L.Sum(L.Square(w)), dtype=np.float64), None

    result = optim.compare(bowl, OPTIMIZERS, steps=20, stop_below=1e-3)
    for name, path in result.trajectories.items():
        assert path.shape == (len(result.losses[name]) + (result.losses[name][-1] >= 1e-3), 2)
    assert np.allclose(result.trajectories["SGD"][1], 0.8 * result.trajectories["SGD"][0])  # w - 0.1 * 2w
    for suffix in ("png", "svg"):
        fig = result.plot(tmp_path / f"bowl.{suffix}")
        assert (tmp_path / f"bowl.{suffix}").stat().st_size > 1000 and len(fig.axes) == 2


def test_compare_checks_its_arguments():
    with pytest.raises(cg.ArgumentError, match="optimizers is empty"):
        optim.compare(logistic_problem, {}, steps=5)
    with pytest.raises(cg.ArgumentError, match="steps must be an integer >= 1, got 0"):
        optim.compare(logistic_problem, OPTIMIZERS, steps=0)


def test_the_paths_panel_draws_the_functions_contours_names_its_axes_and_marks_the_minimum(tmp_path):
    def rosenbrock(rng):
        a, b = L.Variable(np.array(-1.5), name="a"), L.Variable(np.array(2.0), name="b")
        loss = L.Add(L.Square(L.Subtract(L.Constant(1.0), a)),
                     L.Multiply(L.Constant(100.0), L.Square(L.Subtract(b, L.Square(a)))))
        return cg.Graph(loss, dtype=np.float64), None

    steady = {"SGD": lambda p: optim.SGD(p, lr=1e-3), "Adam": OPTIMIZERS["Adam"]}
    result = optim.compare(rosenbrock, steady | {"Adam fast": lambda p: optim.Adam(p, lr=0.1)}, steps=100)
    assert result.parameter_names == ("a", "b")
    fig = result.plot(tmp_path / "rosenbrock.png", function=lambda a, b: (1 - a) ** 2 + 100 * (b - a**2) ** 2,
                      minimum=(1.0, 1.0))
    paths = fig.axes[1]
    assert paths.get_xlabel() == "a" and paths.get_ylabel() == "b"
    assert paths.collections  # the contour lines
    styles = {line.get_linestyle() for line in paths.lines[:3]}
    assert len(styles) == 3  # one line style per optimizer: a path under another still shows
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["SGD", "Adam", "Adam fast", "start", "minimum"]
    scalar_only = result.plot(function=lambda a, b: float((1 - a) ** 2 + 100 * (b - a * a) ** 2))  # point by point
    assert scalar_only.axes[1].collections
    with np.errstate(all="ignore"):
        diverged = optim.compare(rosenbrock, {"SGD": lambda p: optim.SGD(p, lr=0.1)}, steps=30)  # to inf and NaN
        assert len(diverged.plot(function=lambda a, b: (1 - a) ** 2 + 100 * (b - a**2) ** 2).axes) == 2
