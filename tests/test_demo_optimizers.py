"""The optimizer-comparison demo: its --quick run and the claims it measures."""

import numpy as np
import pytest

import tinygrad_cg as cg
from demos import optimizers as demo
from tinygrad_cg import layers as L
from tinygrad_cg import optim


@pytest.fixture(scope="module")
def quick_result(demo_runs):
    return demo.run(quick=True, out=demo_runs, show_progress=False)


def test_measured_contraction_rates_within_ten_percent_of_theory(quick_result):
    rate_claims = [c for c in quick_result.claims if "contraction" in c.claim]
    assert len(rate_claims) == 6 and all(c.held for c in rate_claims)
    for kappa in (10.0, 100.0, 1000.0):
        for momentum in (False, True):
            measured, predicted = demo.measured_contraction(kappa, momentum)
            assert abs(measured - predicted) <= 0.1 * predicted


def test_adaptive_methods_escape_the_saddle_faster_than_sgd(quick_result):
    claim = next(c for c in quick_result.claims if "saddle" in c.claim)
    assert claim.held
    steps = {name: len(curve) for name, curve in
             demo.compare_on(demo.saddle(), 3000, stop_below=-1.0, names=("SGD", "Adam", "RMSprop")).losses.items()}
    assert steps["Adam"] < steps["SGD"] and steps["RMSprop"] < steps["SGD"]


def hand_written_trajectory(problem, name: str, steps: int, stop_below=None):
    """The loop the demo ran before optim.compare existed: forward, backward, step, record."""
    w = L.Variable(np.array(problem.start), name="w")
    graph = cg.Graph(problem.build(w), dtype=np.float64)
    opt = demo.make_optimizer(name, [w], problem.learning_rates[name])
    path, losses = [w.output.copy()], []
    for _ in range(steps):
        losses.append(float(graph.forward()))
        if stop_below is not None and losses[-1] < stop_below:
            break
        graph.backward()
        opt.step()
        path.append(w.output.copy())
    return np.array(path), np.array(losses)


@pytest.mark.parametrize("problem", [demo.rosenbrock(), demo.saddle(), demo.logistic(3)], ids=lambda p: p.name)
def test_compare_gives_the_curves_of_hand_written_loops(problem):
    stop = -2.0 if problem.name.startswith("saddle") else None
    comparison = demo.compare_on(problem, 300, stop_below=stop)
    assert list(comparison.losses) == list(optim.ALL)
    for name in optim.ALL:
        path, losses = hand_written_trajectory(problem, name, 300, stop_below=stop)
        np.testing.assert_array_equal(comparison.losses[name], losses)
        np.testing.assert_array_equal(comparison.trajectories[name], path)


def test_figures_written(quick_result):
    assert len(quick_result.figures) == 2 and all(p.stat().st_size > 10_000 for p in quick_result.figures)


def test_rosenbrock_layer_gradient():
    w = L.Variable(np.array([-0.7, 1.3]))
    cg.diagnostics.gradcheck(cg.Graph(demo.Rosenbrock(w), dtype=np.float64), {})


def test_runner_writes_report(tmp_path):
    from demos.__main__ import main

    assert main(["optimizers", "--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    report = (tmp_path / "report.md").read_text()
    assert "| claim | paper | measured | held? |" in report and "NOT held" not in report
