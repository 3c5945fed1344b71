"""Numba kernels equal the NumPy references on random shapes, strides and paddings; dispatch works."""

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_cg import kernels
from tinygrad_cg.kernels import reference as R

pytest.importorskip("numba")
from tinygrad_cg.kernels import numba_kernels as N  # noqa: E402

few = settings(max_examples=25, deadline=None)


@st.composite
def conv_case(draw):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride = draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    oh, ow = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    # choose H, W so that the windows tile: H + 2 ph - kh = (oh - 1) stride
    h, w = (oh - 1) * stride + kh - 2 * ph, (ow - 1) * stride + kw - 2 * pw
    if h < 1 or w < 1:
        h, w, ph, pw = (oh - 1) * stride + kh, (ow - 1) * stride + kw, 0, 0
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    return (n, c, h, w), kh, kw, stride, (ph, pw), dtype, draw(st.integers(0, 2**31 - 1))


@few
@given(conv_case())
def test_im2col_and_col2im_agree(case):
    shape, kh, kw, stride, padding, dtype, seed = case
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape).astype(dtype)
    cols = R.im2col(x, kh, kw, stride, padding)
    np.testing.assert_array_equal(N.im2col(x, kh, kw, stride, padding), cols)
    delta = rng.normal(size=cols.shape).astype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(N.col2im(delta, shape, kh, kw, stride, padding),
                               R.col2im(delta, shape, kh, kw, stride, padding), rtol=tol, atol=tol)


@few
@given(conv_case())
def test_col2im_is_the_adjoint_of_im2col(case):
    """<im2col(x), D> = <x, col2im(D)>: the backward pass is the transpose of the forward map."""
    shape, kh, kw, stride, padding, _, seed = case
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape)
    cols = R.im2col(x, kh, kw, stride, padding)
    D = rng.normal(size=cols.shape)
    assert np.sum(cols * D) == pytest.approx(np.sum(x * R.col2im(D, shape, kh, kw, stride, padding)))


def test_col2im_sums_overlapping_windows():
    x_shape = (1, 1, 3, 3)
    cols = np.ones((4, 4))  # 2x2 windows, stride 1: the centre is in all four
    expected = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=float)
    for impl in (R, N):
        np.testing.assert_array_equal(impl.col2im(cols, x_shape, 2, 2, 1, 0)[0, 0], expected)


@few
@given(n=st.integers(1, 3), c=st.integers(1, 3), k=st.integers(1, 3), stride=st.integers(1, 3),
       oh=st.integers(1, 4), ow=st.integers(1, 4), seed=st.integers(0, 2**31 - 1),
       integers=st.booleans())
def test_pooling_kernels_agree(n, c, k, stride, oh, ow, seed, integers):
    rng = np.random.default_rng(seed)
    shape = (n, c, (oh - 1) * stride + k, (ow - 1) * stride + k)
    # small integers make ties common: both must route to the same (first) maximum
    x = rng.integers(0, 3, size=shape).astype(float) if integers else rng.normal(size=shape)
    out_r, arg_r = R.maxpool_forward(x, k, stride)
    out_n, arg_n = N.maxpool_forward(x, k, stride)
    np.testing.assert_array_equal(out_n, out_r)
    np.testing.assert_array_equal(arg_n, arg_r)
    delta = rng.normal(size=out_r.shape)
    np.testing.assert_allclose(N.maxpool_backward(delta, arg_n, shape, k, stride),
                               R.maxpool_backward(delta, arg_r, shape, k, stride), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(N.avgpool_forward(x, k, stride), R.avgpool_forward(x, k, stride), rtol=1e-12)
    np.testing.assert_allclose(N.avgpool_backward(delta, shape, k, stride),
                               R.avgpool_backward(delta, shape, k, stride), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("size", [7, 8])
def test_max_pool_2x2_fast_path_agrees_with_the_reference(size):
    """k = stride = 2 takes unrolled Numba kernels: same maxima, same (first) winners on ties, the floor rule on
    odd sizes, and backward the very same numbers, into a fresh array or added into one."""
    rng = np.random.default_rng(size)
    for x in (rng.normal(size=(3, 2, size, size)).astype(np.float32),
              rng.integers(0, 3, size=(3, 2, size, size)).astype(np.float64)):
        out_r, arg_r = R.maxpool_forward(x, 2, 2)
        out_n, arg_n = N.maxpool_forward(x, 2, 2)
        np.testing.assert_array_equal(out_n, out_r)
        np.testing.assert_array_equal(arg_n, arg_r)
        delta = rng.normal(size=out_r.shape).astype(x.dtype)
        np.testing.assert_array_equal(N.maxpool_backward(delta, arg_n, x.shape, 2, 2),
                                      R.maxpool_backward(delta, arg_r, x.shape, 2, 2))
        before = rng.normal(size=x.shape).astype(x.dtype)
        into = before.copy()
        N.maxpool_backward(delta, arg_n, x.shape, 2, 2, add_to=into)
        np.testing.assert_array_equal(into, before + R.maxpool_backward(delta, arg_r, x.shape, 2, 2))
        # a fresh gradient overwrites whatever the memory held, the row and column in no window too
        garbage = np.full(x.shape, np.nan, dtype=x.dtype)
        N._maxpool2_backward(delta, arg_n, garbage, True)
        np.testing.assert_array_equal(garbage, R.maxpool_backward(delta, arg_r, x.shape, 2, 2))


def test_max_pool_ties_go_to_the_first_maximum():
    x = np.zeros((1, 1, 2, 2))
    for impl in (R, N):
        out, argmax = impl.maxpool_forward(x, 2, 2)
        assert argmax[0, 0, 0, 0] == 0
        grad = impl.maxpool_backward(np.ones((1, 1, 1, 1)), argmax, x.shape, 2, 2)
        np.testing.assert_array_equal(grad[0, 0], [[1, 0], [0, 0]])


@few
@given(m=st.integers(1, 20), k=st.integers(1, 20), n=st.integers(1, 20), seed=st.integers(0, 2**31 - 1))
def test_matmul_agrees_with_blas(m, k, n, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(m, k)), rng.normal(size=(k, n))
    np.testing.assert_allclose(N.matmul(a, b), R.matmul(a, b), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("transposed_out", [False, True])
def test_add_outer_adds_in_place_as_the_reference_does(dtype, transposed_out):
    rng = np.random.default_rng(3)
    u, v = rng.normal(size=7).astype(dtype), rng.normal(size=5).astype(dtype)
    start = rng.normal(size=(5, 7)).astype(dtype).T if transposed_out else rng.normal(size=(7, 5)).astype(dtype)
    expected = start + np.outer(u, v)
    for impl in (R, N):
        out = start.copy(order="K")
        assert impl.add_outer(out, u, v) is out
        assert out.dtype == dtype
        np.testing.assert_allclose(out, expected, rtol=1e-6 if dtype == np.float32 else 1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_backward_agrees_with_the_reference_nan_and_inf_included(dtype):
    rng = np.random.default_rng(4)
    delta = rng.normal(size=(6, 9)).astype(dtype)
    output = np.maximum(rng.normal(size=(6, 9)), 0).astype(dtype)
    delta[0, :3] = [np.nan, np.inf, -np.inf]
    output[0, :3] = 0  # an inactive unit still passes NaN on: inf * 0 and NaN * 0 are NaN, as in NumPy
    output[1, 0] = np.nan  # NaN > 0 is False: the unit counts as inactive
    start = rng.normal(size=(6, 9)).astype(dtype)
    results = []
    with np.errstate(invalid="ignore"):  # inf * 0
        for impl in (R, N):
            add_to = start.copy()
            assert impl.relu_backward(delta, output, add_to) is add_to
            results.append(add_to)
        np.testing.assert_array_equal(results[1][1:], (start + delta * (output > 0))[1:])
    np.testing.assert_array_equal(results[1], results[0])
    assert results[1].dtype == dtype and np.isnan(results[1][0, :3]).all()


def test_relu_backward_adds_into_a_strided_view_too():
    rng = np.random.default_rng(5)
    delta, output = rng.normal(size=(4, 6)), np.maximum(rng.normal(size=(4, 6)), 0)
    base = rng.normal(size=(6, 4))
    expected = base.T + delta * (output > 0)
    N.relu_backward(delta, output, base.T)  # not C-contiguous: the wrapper falls back to the reference
    np.testing.assert_array_equal(base.T, expected)


def test_the_numba_in_place_kernels_refuse_shapes_that_disagree():
    with pytest.raises(ValueError, match=r"add_outer: out \(3, 4\)"):
        N.add_outer(np.zeros((3, 4)), np.ones(3), np.ones(5))
    with pytest.raises(ValueError, match=r"relu_backward: delta \(2, 3\), output \(3, 2\)"):
        N.relu_backward(np.ones((2, 3)), np.ones((3, 2)), np.zeros((2, 3)))


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("shapes", [((8, 1), (1, 6)), ((8, 3), (3, 6))])
def test_add_matmul_adds_the_product_in_place(monkeypatch, backend, shapes):
    monkeypatch.setenv("TINYGRAD_CG_KERNELS", backend)
    rng = np.random.default_rng(6)
    a, b = rng.normal(size=shapes[0]), rng.normal(size=shapes[1])
    out = rng.normal(size=(8, 6))
    expected = out + a @ b
    assert kernels.add_matmul(out, a, b) is out
    np.testing.assert_allclose(out, expected, rtol=1e-13)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sum_rows_is_the_sum_over_the_batch(dtype):
    a = np.random.default_rng(7).normal(size=(9, 4)).astype(dtype)
    total = kernels.sum_rows(a)
    assert total.shape == (4,) and total.dtype == dtype
    np.testing.assert_allclose(total, a.sum(axis=0), rtol=1e-5 if dtype == np.float32 else 1e-13)
    np.testing.assert_array_equal(kernels.sum_rows(np.arange(6.0).reshape(3, 2)), [6.0, 9.0])
    np.testing.assert_array_equal(kernels.sum_rows(np.arange(3.0)), 3.0)  # not 2-D: NumPy's sum


def test_backend_selection(monkeypatch):
    monkeypatch.setenv("TINYGRAD_CG_KERNELS", "numpy")
    assert kernels.backend() == "numpy" and kernels.implementation() is R
    monkeypatch.setenv("TINYGRAD_CG_KERNELS", "numba")
    assert kernels.backend() == "numba" and kernels.implementation() is N
    monkeypatch.setenv("TINYGRAD_CG_KERNELS", "cuda")
    with pytest.raises(ValueError, match="TINYGRAD_CG_KERNELS"):
        kernels.backend()


def test_importing_the_package_does_not_import_numba():
    code = "import sys, tinygrad_cg; import tinygrad_cg.layers; print('numba' in sys.modules)"
    env = dict(os.environ, TINYGRAD_CG_KERNELS="numba")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "False"
