import itertools

import numpy as np
import pytest

from tinygrad_cg import data


def test_parity_labels_are_products_over_the_subset():
    X, y, subset = data.parity(12, n=300, rng=0)
    assert X.shape == (300, 12) and y.shape == (300, 1) and subset.dtype == bool and subset.any()
    assert set(np.unique(X)) == {-1.0, 1.0}
    np.testing.assert_array_equal(y[:, 0], np.prod(X[:, subset], axis=1))
    X2, y2, same = data.parity(12, subset, n=10, rng=1)
    assert np.array_equal(same, subset)


def test_parity_subset_shape_checked():
    with pytest.raises(ValueError, match="subset must be a boolean mask of shape \\(5,\\)"):
        data.parity(5, np.ones(4, dtype=bool), n=3)


def test_random_subset_has_probability_one_half_and_is_never_empty():
    rng = np.random.default_rng(0)
    masks = np.array([data.random_subset(3, rng) for _ in range(4000)])
    assert masks.any(axis=1).all()
    assert masks.mean() == pytest.approx(4 / 7, abs=0.02)  # 1/2 conditioned on non-empty, d = 3


def test_hypercube_enumerates_every_point_once():
    cube = data.hypercube(4)
    assert cube.shape == (16, 4)
    assert sorted(map(tuple, cube)) == sorted(itertools.product([-1.0, 1.0], repeat=4))
