import numpy as np
import pytest

from tinygrad_cg import init


def test_fans_for_affine_and_conv_layouts():
    assert init.fans((30, 300)) == (30, 300)
    assert init.fans((16, 3, 5, 5)) == (75, 400)


@pytest.mark.parametrize("shape", [(400, 300), (64, 8, 5, 5)])
def test_initializer_statistics(shape):
    fan_in, fan_out = init.fans(shape)
    u = init.uniform(shape, rng=0)
    assert np.abs(u).max() <= 1 / np.sqrt(fan_in) and u.std() == pytest.approx(1 / np.sqrt(3 * fan_in), rel=0.05)
    x = init.xavier_uniform(shape, rng=0)
    assert np.abs(x).max() <= np.sqrt(6 / (fan_in + fan_out))
    assert init.he_normal(shape, rng=0).std() == pytest.approx(np.sqrt(2 / fan_in), rel=0.05)
    t = init.truncated_normal(shape, rng=0)
    std = 1 / np.sqrt(fan_in)
    assert np.abs(t).max() <= 2 * std
    # a N(0,1) truncated at +-2 has std 0.8796
    assert t.std() == pytest.approx(0.8796 * std, rel=0.05)
    assert np.all(init.zeros(shape) == 0)


def test_seeded_initializers_are_reproducible():
    assert np.array_equal(init.truncated_normal((5, 5), rng=3), init.truncated_normal((5, 5), rng=3))
    assert init.truncated_normal((3, 3), rng=1, std=10.0).std() > 3
