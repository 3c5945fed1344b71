"""The optimizer-comparison demo: its --quick run and the claims it measures."""

import numpy as np
import pytest

import tinygrad_cg as cg
from demos import optimizers as demo
from tinygrad_cg import layers as L


@pytest.fixture(scope="module")
def quick_result(tmp_path_factory):
    return demo.run(quick=True, out=tmp_path_factory.mktemp("opt"), show_progress=False)


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
    sp = demo.saddle()
    steps = {}
    for name in ("SGD", "Adam", "RMSprop"):
        _, curve = demo.run_trajectory(sp, name, 3000, stop_below=-1.0)
        steps[name] = len(curve)
    assert steps["Adam"] < steps["SGD"] and steps["RMSprop"] < steps["SGD"]


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
