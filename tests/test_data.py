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


def test_line_images_hold_one_line_whose_slope_gives_the_label():
    images, labels = data.line_images(400, rng=0)
    assert images.shape == (400, 1, 28, 28) and set(np.unique(images)) <= {0.0, 1.0}
    counts = images.sum(axis=(1, 2, 3))
    assert counts.min() >= 1 and counts.max() <= 21  # at most 2 * 11 - 1 distinct pixels
    assert set(np.unique(labels)) == {-1.0, 1.0} and abs(labels.mean()) < 0.15
    # the label is the sign of the line's slope: correlation of x and y over its pixels
    checked = 0
    for image, label in zip(images[:, 0], labels, strict=True):
        y, x = np.nonzero(image)
        if len(x) >= 4 and np.std(x) > 0 and np.std(y) > 0:  # lines with a measurable slope
            assert np.sign(np.corrcoef(x, y)[0, 1]) == label
            checked += 1
    assert checked > 300


def test_line_tuples_target_is_the_parity_of_the_labels():
    images, labels, target = data.line_tuples(3, 50, rng=1)
    assert images.shape == (50, 3, 1, 28, 28) and labels.shape == (50, 3)
    np.testing.assert_array_equal(target[:, 0], np.prod(labels, axis=1))


def test_stock_gains_best_stock_always_gains():
    best_stock = np.random.default_rng(0).integers(7, size=20)
    x, z, best = data.stock_gains(5_000, best_stock, 7, rng=1)
    assert x.shape == (5_000, 20) and z.shape == (5_000, 7)
    np.testing.assert_array_equal(x.sum(axis=1), 1)
    np.testing.assert_array_equal(best, best_stock[x.argmax(axis=1)])
    np.testing.assert_array_equal(z[np.arange(5_000), best], 1)
    others = z.copy()
    others[np.arange(5_000), best] = 0
    assert set(np.unique(z)) == {-1.0, 1.0} and abs(others.sum() / (5_000 * 6)) < 0.02  # fair signs elsewhere
    with pytest.raises(ValueError, match="stock indices in 0..6"):
        data.stock_gains(3, np.array([0, 7]), 7)
