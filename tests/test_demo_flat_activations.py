"""The flat-activation demo and the Step layer it needs."""

import numpy as np
import pytest

import tinygrad_cg as cg
from demos import flat_activations as demo
from tinygrad_cg import data
from tinygrad_cg import layers as L


@pytest.fixture(scope="module")
def quick_result(demo_runs):
    return demo.run(quick=True, out=demo_runs, show_progress=False)


def claim(result, text):
    return next(c for c in result.claims if text in c.claim)


def test_forward_only_is_best_and_recovers_w_star(quick_result):
    assert claim(quick_result, "lowest test error").held
    assert claim(quick_result, "direction of w*").held


def test_true_gradient_never_moves(quick_result):
    assert claim(quick_result, "never move").held


def test_errors_concentrate_at_boundaries(quick_result):
    assert claim(quick_result, "end-to-end ReLU net: errors concentrate").held
    assert claim(quick_result, "multiclass: errors concentrate").held


THRESHOLDS = np.array([-1.0, 0.0, 0.5])
VALUES = np.array([-2.0, -1.0, 0.0, 0.5])


def test_step_forward_rounds_down_to_the_grid():
    x = L.Variable(np.array([-3.0, -1.0, -0.5, 0.0, 0.4, 0.5, 9.0]))
    step = L.Step(x, THRESHOLDS, VALUES)
    cg.Graph(step, dtype=np.float64).forward()
    np.testing.assert_array_equal(step.output, [-2, -1, -1, 0, 0, 0.5, 0.5])


def test_step_backward_policies():
    x = L.Variable(np.array([-0.7, 0.2, 0.45]))
    for policy, expected in (("gradient", np.zeros(3)), ("identity", np.ones(3))):
        graph = cg.Graph(L.Sum(L.Step(x, THRESHOLDS, VALUES, backward=policy)), dtype=np.float64)
        graph.forward()
        graph.backward()
        np.testing.assert_array_equal(x.delta, expected)


def test_step_sigmoid_policy_is_the_derivative_of_the_smooth_surrogate():
    sharpness = 4.0

    def surrogate(v):
        jumps = np.diff(VALUES)
        return VALUES[0] + (jumps / (1 + np.exp(-sharpness * (v[:, None] - THRESHOLDS)))).sum(axis=1)

    x = L.Variable(np.array([-0.7, 0.2, 0.45, 2.0]))
    graph = cg.Graph(L.Sum(L.Step(x, THRESHOLDS, VALUES, backward="sigmoid", sharpness=sharpness)),
                     dtype=np.float64)
    graph.forward()
    graph.backward()
    eps = 1e-6
    numeric = (surrogate(x.output + eps) - surrogate(x.output - eps)) / (2 * eps)
    np.testing.assert_allclose(x.delta, numeric, rtol=1e-6)


def test_step_argument_errors():
    x = L.Variable(np.zeros(2))
    with pytest.raises(ValueError, match="backward must be one of"):
        L.Step(x, THRESHOLDS, VALUES, backward="straight-through")
    with pytest.raises(ValueError, match="values \\(K\\+1,\\)"):
        L.Step(x, THRESHOLDS, VALUES[:3])
    with pytest.raises(ValueError, match="strictly increasing"):
        L.Step(x, THRESHOLDS[::-1], VALUES)


def test_smooth_step_approximates_u_away_from_the_jumps():
    grid = data.step_grid(0.3)
    p = L.Input("p", shape=(None, 1))
    graph = cg.Graph(demo.smooth_step(p, grid), dtype=np.float64)
    points = np.array([[0.3 - 0.1], [0.3 + 0.05], [0.3 + 0.5], [0.3 + 12.0]])
    np.testing.assert_allclose(graph.forward({"p": points}), data.step_function(points, grid), atol=1e-3)


def test_step_targets_distribution():
    w_star = np.random.default_rng(0).standard_normal(100)
    X, y, p_star = data.step_targets(20_000, w_star, 0.3, rng=1)
    assert X.std() == pytest.approx(0.01, rel=0.02)
    np.testing.assert_allclose(p_star, X @ w_star[:, None] + 0.3)
    assert np.all(y <= p_star) and np.all(np.isin(y, data.step_grid(0.3)))


def test_the_test_error_is_the_median_of_the_last_evaluations():
    """train() evaluates after each of the last ``final_evaluations`` points, ``final_every`` apart, the last at
    the end; approach_run reports the evaluation at their median."""
    settings = demo.Settings(iterations=30, forward_only_iterations=30, final_evaluations=3, final_every=10,
                             test_samples=200)
    w_star, b_star, grid, *_ = demo.target(settings, 0)
    approach = demo.build_approach("4. forward-only", settings, grid, b_star, np.random.default_rng(0))
    seen = []
    losses, _, evaluations = demo.train(approach, w_star, b_star, grid, settings, np.random.default_rng(1), False,
                                        evaluate=lambda: seen.append(len(seen)) or len(seen))
    assert len(losses) == 30 and evaluations == [1, 2, 3]  # after iterations 10, 20 and 30
    run = demo.approach_run(settings, 0, "3. multiclass")
    assert run["mse"] == np.median(run["final_mses"]) and len(run["final_mses"]) == 3


def test_multiclass_has_the_authors_100_logits():
    settings = demo.Settings()
    grid = data.step_grid(0.3)
    approach = demo.build_approach("3. multiclass", settings, grid, 0.3, np.random.default_rng(0))
    assert approach.predict.layers[-1].shape == (None, 100) and len(grid) < 100
    prediction = demo.predict(approach, np.zeros((4, settings.dim)), grid)
    assert prediction.shape == (4, 1) and np.isin(prediction, grid).all()


def test_the_report_says_each_budget_once():
    assert demo.budgets_sentence(demo.QUICK) == "every approach trains 10,000 iterations"
    assert demo.budgets_sentence(demo.PAPER) == "forward-only trains 5,000 iterations [orig], the others 10,000"
