"""The depth demo: its networks, its measurements at initialisation, and its quick run's claims."""

import numpy as np
import pytest

import tinygrad_cg as cg
from demos import depth as demo


@pytest.fixture(scope="module")
def quick_result(demo_runs):
    return demo.run(quick=True, out=demo_runs, show_progress=False)


def test_every_setup_builds_the_promised_network():
    settings = demo.QUICK
    for setup in demo.SETUPS:
        graph = demo.build(settings, setup, 5, np.random.default_rng(0), np.float64)
        kinds = [layer.kind for layer in graph.layers]
        hidden = [layer for layer in graph.layers if layer.kind == "Affine" and layer.name.startswith("hidden")]
        assert len(hidden) == 5 and kinds.count("Affine") == 7  # input, 5 hidden, output
        assert ("BatchNorm" in kinds) == setup.endswith("BatchNorm")
        assert (kinds.count("Add") == 5) == setup.endswith("residual")
        assert ("Tanh" in kinds) == setup.startswith("tanh")
    X, Y = demo.teacher_task(settings, 3, 100, part=1)
    X2, Y2 = demo.teacher_task(settings, 3, 100, part=1)
    assert np.array_equal(X, X2) and np.array_equal(Y, Y2) and set(np.unique(Y)) <= set(range(settings.classes))
    assert len(np.unique(Y)) >= 5  # the teacher uses most of its classes


def test_the_ratios_read_the_first_and_last_hidden_layers():
    per_depth = {"depth=3": {"output_std": np.array([2.0, 1.0, 0.5]), "delta_norm": np.array([1e-3, 1e-2, 1e-1])}}
    assert demo.ratios(per_depth, 3) == (0.25, 1e-2)
    assert demo.growth_per_layer(per_depth, 3) == pytest.approx(0.1)


def test_init_measurements_match_a_direct_backward_pass():
    settings = demo.Settings(depths=(4,))
    measured = demo.init_run(settings, 0, "ReLU, He")["depth=4"]
    graph = demo.build(settings, "ReLU, He", 4, demo.run_rng(0, 2, list(demo.SETUPS).index("ReLU, He"), 4), np.float64)
    X, Y = demo.teacher_task(settings, 0, settings.init_batch, part=0)
    graph.forward({"x": X, "y": Y})
    graph.backward()
    hidden = [layer for layer in graph.layers if layer.kind == "Affine" and layer.name.startswith("hidden")]
    np.testing.assert_allclose(measured["delta_norm"], [np.linalg.norm(h.delta) for h in hidden])
    np.testing.assert_allclose(measured["output_std"], [np.std(h.output) for h in hidden])


def test_a_residual_network_passes_gradcheck():
    settings = demo.Settings()
    graph = demo.build(settings, "ReLU, residual", 3, np.random.default_rng(1), np.float64)
    X, Y = demo.teacher_task(settings, 0, 8, part=0)
    cg.diagnostics.gradcheck(graph, {"x": X, "y": Y})


def test_quick_run_holds_every_claim_and_draws_three_figures(quick_result):
    failed = [f"{c.claim}: {c.measured}" for c in quick_result.counted if not c.held]
    assert not failed, failed
    assert len(quick_result.counted) == 9 and len(quick_result.figures) == 3
    assert all(p.exists() and p.stat().st_size > 10_000 for p in quick_result.figures)


def test_a_diverged_run_ends_at_an_infinite_loss_and_says_when():
    run = {"steps": np.array([250, 500, 750, 1000]), "loss": np.array([1.0, 0.5, np.nan, np.nan]),
           "accuracy": np.array([0.5, 0.7, 0.1, np.nan])}
    assert demo.diverged_at(run) == 750 and demo.final(run) == np.inf and np.isnan(demo.final(run, "accuracy"))
    assert demo.describe_final(run) == "diverged (loss not finite) by step 750"
    fine = {"steps": np.array([250, 500, 750]), "loss": np.array([0.3, 0.1, 0.2]), "accuracy": np.ones(3)}
    assert demo.diverged_at(fine) is None and demo.final(fine) == pytest.approx(0.2)
    assert demo.describe_final(fine) == "0.200"


def curve(*losses):
    steps = 250 * np.arange(1, len(losses) + 1)
    return {"steps": steps, "loss": np.array(losses, dtype=float), "accuracy": np.ones(len(losses)), "seconds": 1.0}


def training_runs(settings, finals):
    """Fake training runs ending at ``finals[(kind, depth, lr)]`` (None: diverged), for the judging alone."""
    return {demo.train_key(kind, depth, lr): curve(1.0, np.nan) if end is None else curve(1.0, end, end, end)
            for (kind, depth, lr), end in finals.items()}


def test_a_network_is_judged_at_its_best_step_size_and_a_diverged_run_is_never_best():
    settings = demo.Settings(lrs=(0.001, 0.01), train_kinds=("plain",), train_depths=(8, 32))
    runs = training_runs(settings, {("plain", 8, 0.001): 0.3, ("plain", 8, 0.01): None,
                                    ("plain", 32, 0.001): None, ("plain", 32, 0.01): None})
    assert demo.best(settings, runs, "plain", 8) == demo.Best("plain", 8, 0.001, 0.3)
    deep = demo.best(settings, runs, "plain", 32)
    assert not deep.trained and deep.loss == np.inf and deep.describe() == "diverged at every step size"


def judged_training_claims(finals):
    settings = demo.Settings(lrs=(0.003, 0.01), train_kinds=("BatchNorm", "residual"), train_depths=(8, 32))
    init = {f"init {setup}": demo.init_run(demo.Settings(depths=(2, 20)), 0, setup) for setup in demo.SETUPS}
    result = demo.judge(demo.Settings(lrs=settings.lrs, train_kinds=settings.train_kinds, depths=(2, 20)),
                        {**init, **training_runs(settings, finals)}, seed=0)
    return {c.claim.split(":")[0]: c for c in result.counted}


def test_divergence_is_a_failed_run_not_degradation():
    stable = {("BatchNorm", 8, 0.003): 0.01, ("BatchNorm", 8, 0.01): 0.002, ("residual", 32, 0.003): 0.0,
              ("residual", 32, 0.01): 0.5, ("residual", 8, 0.003): 0.0, ("residual", 8, 0.01): 0.0}
    degraded = judged_training_claims({**stable, ("BatchNorm", 32, 0.003): 0.3, ("BatchNorm", 32, 0.01): None})
    assert degraded["degradation"].held and "0.300 (lr 0.003) vs 0.002 (lr 0.01)" in degraded["degradation"].measured
    assert degraded["residual connections fix it"].held
    diverged = judged_training_claims({**stable, ("BatchNorm", 32, 0.003): None, ("BatchNorm", 32, 0.01): None})
    assert not diverged["degradation"].held
    assert "diverged at every step size" in diverged["degradation"].measured


def test_a_run_that_diverges_says_so_once_without_numpy_warnings():
    import warnings

    settings = demo.Settings(steps=500, eval_every=250, train_examples=256)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning would fail the test
        run = demo.train_run(settings, 0, "plain", 8, lr=50.0)
    assert demo.diverged_at(run) == 250 and np.isnan(run["loss"][-1])
