"""The end-to-end vs decomposition demo: its quick plan's claims, and the pieces it is built from."""

import numpy as np
import pytest

import tinygrad_cg as cg
from demos import e2e_networks, e2e_snr, e2e_stocks
from demos import e2e_vs_decomposition as demo
from tinygrad_cg import data
from tinygrad_cg import layers as L


@pytest.fixture(scope="module")
def quick_result(demo_runs):
    return demo.run(quick=True, out=demo_runs, show_progress=False)


def claim(result, text):
    return next(c for c in result.claims if text in c.claim)


def test_decomposition_reaches_the_attainable_accuracy_at_every_k(quick_result):
    assert claim(quick_result, "decomposition reaches").held


def test_end_to_end_works_at_k1_and_fails_at_k4(quick_result):
    assert claim(quick_result, "end-to-end reaches >= 0.90 at k = 1").held
    assert claim(quick_result, "end-to-end stays at chance (<= 0.6) at k = 4").held


def test_end_to_end_snr_falls_with_k_and_decomposition_does_not(quick_result):
    assert claim(quick_result, "end-to-end's SNR falls by orders").held
    assert claim(quick_result, "decomposition's SNR stays flat").held


def test_stocks_claims(quick_result):
    assert claim(quick_result, "stocks: at k = 1000 end-to-end is inferior to decomposition (-log p_best)").held
    assert claim(quick_result, "stocks: end-to-end's SNR falls").held


def test_report_has_the_authors_rows_beside_ours(quick_result):
    """The authors' SNR estimator and the stocks estimator the quick plan does not count are uncounted rows."""
    for text in ("the authors' estimator", "the same with decomposition (-p_best)"):
        row = claim(quick_result, text)
        assert not row.counted and row.measured


def test_report_names_the_failing_k_and_the_paper_scale_time(quick_result):
    text = quick_result.markdown()
    assert "the smallest k (of [1, 4]) at which end-to-end fails" in text and "(paper: k >= 3)" in text
    assert "Projected paper-scale training" in text
    assert len(quick_result.figures) == 3 and all(p.exists() for p in quick_result.figures)


def test_tuple_net_gradients_match_finite_differences():
    """The whole N1 + N2 graph (convs, pools, GroupRows, sigmoid link, a hinge loss) in float64, on 2 tuples
    of k = 2 line images; a squared tuple score stands in for the primary hinge so that no kink is near.
    The gradcheck perturbs a sample of 6 entries of every parameter."""
    rng = np.random.default_rng(0)
    net = e2e_networks.build_tuple_net(2, rng)
    graph = cg.Graph(L.Add(L.Mean(L.Square(net.tuple_score)), net.secondary), dtype=np.float64)
    feed = e2e_networks.tuple_feed(2, 2, rng)
    del feed["target"]
    feed["images"] = feed["images"] + rng.normal(0, 0.1, size=feed["images"].shape)  # no exact max-pool ties
    errors = cg.diagnostics.gradcheck(graph, feed, tol=1e-5, max_entries=6)
    assert max(errors.values()) < 1e-5


def test_score_gradients_are_the_per_tuple_gradients():
    """score_gradients' rows are each tuple's own gradient: their mean is the batch gradient of W."""
    rng = np.random.default_rng(1)
    features, labels = rng.random((40, 100)), np.where(rng.random(40) < 0.5, -1.0, 1.0)
    tuples = rng.permutation(40).reshape(10, 4)
    for loss_name in e2e_snr.SNR_LOSSES:
        g = e2e_snr.score_gradients(features, labels, tuples, loss_name, seed=3, dtype=np.float64)
        one = e2e_snr.score_gradients(features, labels, tuples[:1], loss_name, seed=3, dtype=np.float64)
        np.testing.assert_allclose(g[0], one[0], rtol=1e-10, atol=1e-14)
        assert g.shape == (10, 100)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_score_gradients_average_to_the_whole_heads_gradient_of_W(dtype):
    """Independent of score_gradients' shortcut (each image scored once, delta taken at the scores): the
    library's backward pass through the whole head, score layer included, on the gathered rows gives
    dL/dW of the batch-mean loss, which is the mean of the per-tuple gradients."""
    rng = np.random.default_rng(2)
    features, labels = rng.normal(0, 0.3, (40, 100)), np.where(rng.random(40) < 0.5, -1.0, 1.0)
    tuples = rng.permutation(40).reshape(10, 4)
    for loss_name in e2e_snr.SNR_LOSSES:
        rows = tuples[:, :1] if loss_name == "decomposition" else tuples
        features_in = L.Input("features", shape=(None, 100))
        score, tuple_score = e2e_networks.tuple_head(features_in, rows.shape[1], np.random.default_rng(3))
        primary = L.HingeLoss(tuple_score, L.Input("target", shape=(None, 1)))
        secondary = L.HingeLoss(score, L.Input("labels", shape=(None, 1)))
        loss = {"end-to-end": primary, "decomposition": secondary,
                "decomposition objective": L.Add(primary, secondary)}[loss_name]
        feed = {"features": features[rows.reshape(-1)]}
        if loss_name != "decomposition":
            feed["target"] = np.prod(labels[rows], axis=1)[:, None]
        if loss_name != "end-to-end":
            feed["labels"] = labels[rows.reshape(-1), None]
        graph = cg.Graph(loss, dtype=dtype, input_grads=False)
        graph.forward(feed)
        graph.backward()
        W = score.inputs[1]
        g = e2e_snr.score_gradients(features, labels, tuples, loss_name, seed=3, dtype=dtype)
        tolerance = 1e-12 if dtype == np.float64 else 1e-5
        np.testing.assert_allclose(g.mean(axis=0), W.delta[:, 0], rtol=tolerance, atol=tolerance)


def test_crossfit_snr_sees_a_planted_signal_and_no_signal_in_pure_noise():
    """Small features (|score| < 1: every hinge active, g = -y h) that carry the label in 10 coordinates
    give a signal; with labels independent of the features E g = 0 and the estimate stays within 3 s.e."""
    rng = np.random.default_rng(2)
    labels = np.where(rng.random(6_000) < 0.5, -1.0, 1.0)
    features = 0.01 * (rng.normal(size=(6_000, 100)) + 0.5 * labels[:, None] * (np.arange(100) < 10))
    snr1, se1, _ = e2e_snr.crossfit_snr(features, labels, 1, "decomposition", 0, np.float64, 20, 500, tuple_seed=1)
    assert snr1 > 4 * se1 > 0
    noise_labels = np.where(rng.random(6_000) < 0.5, -1.0, 1.0)
    snr0, se0, _ = e2e_snr.crossfit_snr(features, noise_labels, 1, "decomposition", 0, np.float64, 20, 500,
                                     tuple_seed=1)
    assert abs(snr0) < 3 * se0


def test_original_snr_is_the_authors_formula_and_reads_its_floor_without_signal():
    """tuple_rect_SNR.py on batch means: S = ||mean||^2, V = batch * mean ||g_b||^2, S / (V - S^2). Pure noise
    reads ~1/T (the floor), and a strong signal reads ~Sig / (Noi + batch Sig), not the paper's Sig / Noi."""
    rng = np.random.default_rng(5)
    g = rng.normal(size=(20_000, 10))
    g_b = g.reshape(200, 100, 10).mean(axis=1)
    S = np.square(g_b.mean(axis=0)).sum()
    expected = S / (100 * np.square(g_b).sum(axis=1).mean() - S**2)
    noise_only = e2e_snr.original_snr(g, 100)
    assert noise_only["snr"] == pytest.approx(expected, rel=1e-12)
    assert noise_only["tuples"] == 20_000 and noise_only["floor"] == pytest.approx(5e-5)
    assert 0.3 * noise_only["floor"] < noise_only["snr"] < 3 * noise_only["floor"]
    signal = e2e_snr.original_snr(g + 0.1, 100)  # Sig = 10 x 0.01 = 0.1, Noi = 10: paper SNR 0.01
    assert signal["paper_definition"] == pytest.approx(0.01, rel=0.1)
    assert signal["snr"] == pytest.approx(0.1 / (10 + 100 * 0.1), rel=0.1)  # ~0.005, half the paper's


def test_conv_init_scales_the_same_draws():
    """'orig' and 'fan_in' draw the same standard normals; only the stds differ (tuple_rect.py's 1/sqrt(28),
    1/sqrt(16) against 1/sqrt(25), 1/sqrt(400))."""
    kernels = {}
    for conv_init in e2e_networks.CONV_INITS:
        net = e2e_networks.build_tuple_net(1, np.random.default_rng(0), conv_init)
        graph = net.loss_graph("end-to-end")
        kernels[conv_init] = [graph[f"{name}.K"].output for name in ("conv1", "conv2")]
    np.testing.assert_allclose(kernels["orig"][0], kernels["fan_in"][0] * 5 / np.sqrt(28), rtol=1e-6)
    np.testing.assert_allclose(kernels["orig"][1], kernels["fan_in"][1] * 20 / 4, rtol=1e-6)
    with pytest.raises(ValueError, match="conv_init"):
        e2e_networks.build_tuple_net(1, np.random.default_rng(0), "xavier")


def test_each_approach_trains_for_its_own_budget():
    settings = demo.Settings(ks=(1,), batch=2, iterations=4, decomposition_iterations=2, eval_every=2, test_tuples=4)
    test = e2e_networks.tuple_feed(1, 4, np.random.default_rng(0), with_labels=False)
    for approach, last in (("end-to-end", 4), ("decomposition", 2)):
        curve = demo.train(approach, 1, settings, 0, test, show_progress=False)
        assert list(curve["iterations"]) == list(range(0, last + 1, 2))


def test_final_accuracy_is_the_median_of_the_last_three_evaluations():
    assert demo.final_accuracy([0.5, 0.94, 0.94, 0.87, 0.94]) == pytest.approx(0.94)  # one excursion ignored
    assert demo.final_accuracy([0.5, 0.5, 0.5, 0.5, 0.9]) == pytest.approx(0.5)  # learned at the last one only
    assert demo.final_accuracy([0.5, 0.9]) == pytest.approx(0.7)  # a short curve: its median


def test_attainable_accuracy_and_ambiguous_images():
    assert demo.attainable_accuracy(1, 0.95) == pytest.approx(0.95)
    assert demo.attainable_accuracy(2, 0.9) == pytest.approx(0.9**2 + 0.1**2)  # both right or both wrong
    fraction = demo.ambiguous_fraction(20_000, np.random.default_rng(3))
    assert 0.05 < fraction < 0.15


def test_stock_losses_are_minus_the_gain_and_minus_p_best():
    rng = np.random.default_rng(4)
    best_stock = rng.integers(5, size=8)
    x, z, best = data.stock_gains(6, best_stock, 5, rng)
    for approach in e2e_stocks.STOCK_APPROACHES:
        _, p, graph = e2e_stocks.stock_model(approach, 8, 5, np.random.default_rng(0))
        graph.set_dtype(np.float64)
        loss = float(graph.forward(e2e_stocks.stock_feed(approach, x, z, best)))
        logits = graph.layers[[layer.name for layer in graph.layers].index("allocation")].output
        probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        expected = {"end-to-end": -np.mean(np.sum(probabilities * z, axis=1)),
                    "decomposition (-p_best)": -np.mean(probabilities[np.arange(6), best]),
                    "decomposition (-log p_best)": -np.mean(np.log(probabilities[np.arange(6), best]))}[approach]
        assert loss == pytest.approx(expected, rel=1e-10)


def test_stock_snr_matches_gradient_snr_on_dense_gradients():
    """The sparse row-sum formula of stock_snr equals gradient_snr on the explicit per-example gradients."""
    d, k, m = 8, 5, 400
    rng = np.random.default_rng([0, 13, k])
    best_stock = rng.integers(k, size=d)
    x, z, best = data.stock_gains(m, best_stock, k, rng)
    logits, _, graph = e2e_stocks.stock_model("end-to-end", d, k, np.random.default_rng(0))
    graph.set_dtype(np.float64)
    graph.forward(e2e_stocks.stock_feed("end-to-end", x, z, best))
    graph.backward()
    per_example = np.einsum("ni,nj->nij", x, m * logits.delta).reshape(m, -1)
    expected = cg.diagnostics.gradient_snr(per_example).snr
    measured = e2e_stocks.stock_snr("end-to-end", k, m, seed=0, inputs=d, chunk=m)
    assert measured == pytest.approx(expected, rel=1e-9)


def test_an_snr_not_resolved_from_zero_is_said_so_in_the_table():
    assert e2e_snr.resolved({"snr": 3.2e-3, "se": 1e-4}) == "3.20e-03"
    assert e2e_snr.resolved({"snr": -3.97e-05, "se": 4e-5}) == "not resolved from 0 (estimate -4.0e-05)"


def test_the_plans_adam_is_the_authors_at_paper_scale_and_torchs_in_the_quick_plan():
    assert demo.PAPER.adam_eps_form == "tensorflow" and demo.MEDIUM.adam_eps_form == "tensorflow"
    assert demo.QUICK.adam_eps_form == "torch"  # the 30-seed sweep's plan, unchanged


def test_runs_computed_by_another_command_are_named_in_the_report():
    runs = {"train k=2 end-to-end": {"accuracy": np.zeros(3), "computed_as": "the learn-rate study, seed 0"},
            "train k=1 end-to-end": {"accuracy": np.zeros(3)}, "snr": {"end-to-end|1|float64": {}}}
    note = demo.provenance(runs)
    assert "train k=2 end-to-end (the learn-rate study, seed 0)" in note and "k=1" not in note
    assert demo.provenance({"train k=1 end-to-end": {"accuracy": np.zeros(3)}}) is None
