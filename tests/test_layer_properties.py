"""Property test: every layer passes a float64 finite-difference gradient check on random shapes, strides
and paddings (hypothesis draws the layer and its arguments; 150 cases in all, a few seconds)."""

import numpy as np
from helpers import away_from_zero, check_layer_gradients
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_cg import layers as L


def distinct(rng, shape):
    """Values with no ties and no zeros (max-pool and ReLU have no kink within a finite-difference step)."""
    n = int(np.prod(shape))
    return (rng.permutation(n) + 1.0).reshape(shape) / n * rng.choice([-1.0, 1.0], size=shape)


def margins_away_from_the_kink(rng, shape):
    """Scores s with |s| in [0.2, 0.8] or [1.2, 2]: y s is never within a step of the hinge's kink at 1."""
    magnitude = np.where(rng.random(shape) < 0.5, rng.uniform(0.2, 0.8, shape), rng.uniform(1.2, 2.0, shape))
    return rng.choice([-1.0, 1.0], size=shape) * magnitude


def case(draw_name, rng, n, f):
    """(make, arrays): a layer built from Variables holding ``arrays``, for ``check_layer_gradients``."""
    c, h, w = rng.integers(1, 3), rng.integers(3, 7), rng.integers(3, 7)
    k, stride, padding = int(rng.integers(1, 4)), int(rng.integers(1, 3)), int(rng.integers(0, 3))
    k = min(k, h, w)
    padding = min(padding, k - 1)
    # the convolutions need windows that tile: trim H and W to the nearest size that does
    h -= (h + 2 * padding - k) % stride
    w -= (w + 2 * padding - k) % stride
    images = rng.normal(size=(n, c, h, w))
    signs = rng.choice([-1.0, 1.0], size=(n, 1))
    cases = {
        "ReLU": (L.ReLU, [away_from_zero(rng, (n, f))]),
        "Sigmoid": (L.Sigmoid, [rng.normal(size=(n, f)) * 3]),
        "Tanh": (L.Tanh, [rng.normal(size=(n, f))]),
        "Softmax": (L.Softmax, [rng.normal(size=(n, f))]),
        "Square": (L.Square, [rng.normal(size=(n, f))]),
        # the true derivative of a step is 0 away from its thresholds; the "identity" and "sigmoid" policies
        # are deliberately not the derivative (tests/test_demo_flat_activations.py checks them by their formulas)
        "Step": (lambda x: L.Step(x, [0.0], [-1.0, 1.0], backward="gradient"), [away_from_zero(rng, (n, f))]),
        "Add": (L.Add, [rng.normal(size=(n, f)), rng.normal(size=(n, f))]),
        "Subtract": (L.Subtract, [rng.normal(size=(n, f)), rng.normal(size=(n, f))]),
        "Multiply": (L.Multiply, [rng.normal(size=(n, f)), rng.normal(size=(n, f))]),
        "Multiply-scalar": (L.Multiply, [rng.normal(size=()), rng.normal(size=(n, f))]),
        "MatMul": (L.MatMul, [rng.normal(size=(n, f)), rng.normal(size=(f, 3))]),
        "Sum": (L.Sum, [rng.normal(size=(n, f))]),
        "Mean": (L.Mean, [rng.normal(size=(n, f))]),
        "Affine": (L.Affine, [rng.normal(size=(n, f)), rng.normal(size=(f, 2)), rng.normal(size=2)]),
        "SquaredLoss": (L.SquaredLoss, [rng.normal(size=(n, f)), rng.normal(size=(n, f))]),
        "HingeLoss": (L.HingeLoss, [margins_away_from_the_kink(rng, (n, 1)), signs]),
        "LogisticLoss": (L.LogisticLoss, [rng.normal(size=(n, 1)) * 3, signs]),
        "SoftmaxCrossEntropy": (lambda s: L.SoftmaxCrossEntropy(s, L.Constant(rng.integers(0, f, size=n))),
                                [rng.normal(size=(n, f))]),
        "Reshape": (lambda x: L.Reshape(x, (f, 1)), [rng.normal(size=(n, f))]),
        "Flatten": (L.Flatten, [images]),
        "GroupRows": (lambda x: L.GroupRows(x, n), [rng.normal(size=(n, f))]),
        "Concat": (lambda a, b: L.Concat([a, b]), [rng.normal(size=(n, f)), rng.normal(size=(n, 2))]),
        "Im2Col": (lambda x: L.Im2Col(x, k, k, stride, padding), [images]),
        "FlattenKernel": (L.FlattenKernel, [rng.normal(size=(2, c, k, k))]),
        "Conv2D": (lambda x, K, b: L.Conv2D(x, K, b, stride, padding),
                   [images, rng.normal(size=(2, c, k, k)), rng.normal(size=2)]),
        "MaxPool2D": (lambda x: L.MaxPool2D(x, k, stride), [distinct(rng, images.shape)]),
        "AvgPool2D": (lambda x: L.AvgPool2D(x, k, stride), [images]),
        # at least 3 values per feature: with 2, the normalised output is +-1 whatever x is, its true input
        # gradient is ~eps-sized and finite differences cannot resolve it
        "BatchNorm": (L.BatchNorm, [rng.normal(size=(n + 2, f)), rng.normal(size=f), rng.normal(size=f)]),
    }
    return cases[draw_name]


LAYERS = ["ReLU", "Sigmoid", "Tanh", "Softmax", "Square", "Step", "Add", "Subtract",
          "Multiply", "Multiply-scalar", "MatMul", "Sum", "Mean", "Affine", "SquaredLoss", "HingeLoss",
          "LogisticLoss", "SoftmaxCrossEntropy", "Reshape", "Flatten", "GroupRows", "Concat", "Im2Col",
          "FlattenKernel", "Conv2D", "MaxPool2D", "AvgPool2D", "BatchNorm"]


@settings(max_examples=150, deadline=None, derandomize=True)  # the same 150 cases every run: no flaky CI
@given(layer=st.sampled_from(LAYERS), seed=st.integers(0, 2**32 - 1), n=st.integers(1, 3), f=st.integers(1, 4))
def test_every_layer_passes_float64_gradcheck_on_random_shapes(layer, seed, n, f):
    rng = np.random.default_rng(seed)
    make, arrays = case(layer, rng, n, f)
    check_layer_gradients(make, arrays, rng, tol=1e-5)
