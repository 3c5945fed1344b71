"""The parity demo: its --quick run asserts the paper's claims on measured values."""

import numpy as np
import pytest

from demos import parity as demo


@pytest.fixture(scope="module")
def quick_result(demo_runs):
    return demo.run(quick=True, out=demo_runs, show_progress=False)


def claim(result, text):
    return next(c for c in result.claims if text in c.claim)


def test_small_d_is_learned_and_large_d_stays_at_chance(quick_result):
    assert claim(quick_result, "d = 10 is learned").held
    assert claim(quick_result, "d = 30 makes no progress").held


def test_gradient_variance_claims(quick_result):
    assert claim(quick_result, "falls from d = 10 to d = 20").held
    assert claim(quick_result, "decays exponentially").held
    assert claim(quick_result, "below the bound").held


def test_linear_periodic_flat_and_figures(quick_result):
    assert claim(quick_result, "linear-periodic").held
    assert len(quick_result.figures) == 3 and all(p.exists() for p in quick_result.figures)


def test_linear_periodic_closed_form_matches_monte_carlo():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400_000, 2))
    for w in ([0.0, 0.0], [1.0, -0.5], [2.5, 1.0]):
        w = np.array(w)
        mc = np.mean((np.cos(x @ w) - np.cos(x @ np.array([2.0, 2.0]))) ** 2)
        assert demo.linear_periodic_loss(w) == pytest.approx(mc, abs=5e-3)
    assert demo.linear_periodic_loss(np.array([2.0, 2.0])) == pytest.approx(0.0, abs=1e-12)


def test_exact_variance_is_below_the_theorem_bound_at_small_d():
    rng = np.random.default_rng(1)
    for d in (4, 6, 8):
        variance, stderr, G2 = demo.parity_gradient_variance(d, 0, rng)
        assert stderr == 0.0  # every parity enumerated
        assert variance <= G2 * 2.0**-d * 1.2  # G^2 itself is estimated on 256 examples
