"""kernels/threads.py: the batch split over threads, and the kernels that use it giving the serial numbers."""

import contextlib
import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from tinygrad_cg.kernels import numba_kernels as N
from tinygrad_cg.kernels import reference as R
from tinygrad_cg.kernels import threads


@pytest.mark.parametrize("n,parts", [(10, 3), (7, 7), (3, 5), (0, 2), (1000, 2)])
def test_split_covers_the_range_in_order_with_sizes_one_apart(n, parts):
    ranges = threads.split(n, parts)
    assert [i for start, stop in ranges for i in range(start, stop)] == list(range(n))
    sizes = [stop - start for start, stop in ranges]
    assert all(size > 0 for size in sizes) and (not sizes or max(sizes) - min(sizes) <= 1)
    assert len(ranges) == min(n, parts)


def test_count_follows_the_override_and_blas(monkeypatch):
    monkeypatch.setenv("TINYGRAD_CG_THREADS", "3")
    assert threads.count() == 3
    monkeypatch.setenv("TINYGRAD_CG_THREADS", "0")
    with pytest.raises(ValueError, match="TINYGRAD_CG_THREADS must be a positive integer, got '0'"):
        threads.count()
    monkeypatch.delenv("TINYGRAD_CG_THREADS")
    with threadpool_limits(1, user_api="blas"):
        assert threads.count() == 1      # BLAS held to one thread: everything stays serial


def test_map_parts_runs_each_part_on_its_own_thread_with_blas_on_one(monkeypatch):
    monkeypatch.setenv("TINYGRAD_CG_THREADS", "2")
    seen = []

    def work(start, stop):
        seen.append((threading.get_ident(), blas_threads()))
        return start, stop

    assert threads.map_parts(work, 10) == [(0, 5), (5, 10)]
    assert len({ident for ident, _ in seen}) == 2 and all(blas == 1 for _, blas in seen)
    seen.clear()
    assert threads.map_parts(work, 10, min_items=6) == [(0, 10)]   # parts of 5 < 6: one part, this thread
    assert seen[0][0] == threading.get_ident()


def test_map_parts_raises_what_a_part_raised(monkeypatch):
    monkeypatch.setenv("TINYGRAD_CG_THREADS", "2")

    def work(start, stop):
        if start:
            raise ValueError("second part")

    with pytest.raises(ValueError, match="second part"):
        threads.map_parts(work, 4)


@pytest.mark.parametrize("k,stride", [(2, 2), (3, 2), (2, 1)])
def test_threaded_pooling_kernels_give_the_reference_numbers(monkeypatch, k, stride):
    """The Numba pooling kernels cut the batch over 3 threads; max-pool backward adds into ``add_to``."""
    monkeypatch.setenv("TINYGRAD_CG_THREADS", "3")
    monkeypatch.setattr(threads, "MIN_PART_BYTES", 1)
    rng = np.random.default_rng(k * 10 + stride)
    x = rng.integers(0, 4, size=(7, 2, 9, 9)).astype(np.float32)  # ties: the first maximum must win everywhere
    out_r, arg_r = R.maxpool_forward(x, k, stride)
    out_n, arg_n = N.maxpool_forward(x, k, stride)
    np.testing.assert_array_equal(out_n, out_r)
    np.testing.assert_array_equal(arg_n, arg_r)
    delta = rng.normal(size=out_r.shape).astype(np.float32)
    before = rng.normal(size=x.shape).astype(np.float32)
    for impl, argmax in ((R, arg_r), (N, arg_n)):
        grad = impl.maxpool_backward(delta, argmax, x.shape, k, stride)
        into = before.copy()
        assert impl.maxpool_backward(delta, argmax, x.shape, k, stride, add_to=into) is into
        np.testing.assert_allclose(into, before + grad, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(N.maxpool_backward(delta, arg_n, x.shape, k, stride),
                               R.maxpool_backward(delta, arg_r, x.shape, k, stride), rtol=1e-6)


def blas_threads() -> int:
    return threads._blas_libraries()[0].num_threads


def test_a_team_holds_blas_to_one_thread_and_gives_back_its_count(monkeypatch):
    monkeypatch.setenv("TINYGRAD_CG_THREADS", "2")
    with threadpool_limits(2, user_api="blas"):
        with threads.team():
            assert threads.count() == 2 and blas_threads() == 1
            with threads.team():            # nested: nothing changes
                assert threads.count() == 2 and blas_threads() == 1
            assert blas_threads() == 1
        assert blas_threads() == 2 and threads._state["team"] == 0
        with pytest.raises(RuntimeError), threads.team():   # an error inside still restores BLAS
            raise RuntimeError
        assert blas_threads() == 2 and threads._state["team"] == 0


@pytest.mark.parametrize("shape", [(300, 400, 50), (2000, 30, 300), (64, 3000, 20)])
def test_large_products_are_split_by_rows_in_a_team_and_equal_blas(monkeypatch, shape):
    from tinygrad_cg import kernels

    monkeypatch.setenv("TINYGRAD_CG_THREADS", "2")
    m, k, n = shape
    rng = np.random.default_rng(m)
    a, b = rng.normal(size=(m, k)).astype(np.float32), rng.normal(size=(k, n)).astype(np.float32)
    calls = []
    map_parts = threads.map_parts
    monkeypatch.setattr(threads, "map_parts",
                        lambda work, n, min_items=1: calls.append(n) or map_parts(work, n, min_items))
    np.testing.assert_allclose(kernels.matmul(a, b), a @ b, rtol=1e-5, atol=1e-4)
    assert calls == []                       # outside a team BLAS threads the product itself
    with threads.team():
        for left in (a, np.ascontiguousarray(a.T).T):   # C-ordered, and a transposed view (a weight gradient's x^T)
            np.testing.assert_allclose(kernels.matmul(left, b), a @ b, rtol=1e-5, atol=1e-4)
        assert calls == [m, m]               # every shape here is past SPLIT_MULTIPLY_ADDS
        small = rng.normal(size=(8, 8)).astype(np.float32)
        np.testing.assert_allclose(kernels.matmul(small, small), small @ small, rtol=1e-6)
        assert calls == [m, m]


def test_only_graphs_with_batch_parallel_layers_run_as_a_team(monkeypatch):
    import tinygrad_cg as cg
    from tinygrad_cg import layers as L

    monkeypatch.setenv("TINYGRAD_CG_THREADS", "2")
    seen = []
    monkeypatch.setattr(threads, "team", lambda: seen.append(1) or contextlib.nullcontext())
    x = L.Input("x", shape=(None, 1, 6, 6))
    conv_net = cg.Graph(L.Sum(L.MaxPool2D(cg.nn.conv2d(x, 2, 3, padding=1, rng=0, fused=True), 2)))
    mlp = cg.Graph(L.Sum(cg.nn.mlp(L.Flatten(x), [4, 1], rng=0)))
    feed = {"x": np.ones((2, 1, 6, 6))}
    mlp.forward(feed)
    mlp.backward()
    assert seen == []
    conv_net.forward(feed)
    conv_net.backward()
    assert seen == [1, 1]


def test_an_mlp_pass_holds_blas_to_one_thread_while_its_products_are_small(monkeypatch):
    """Small products: BLAS on one thread during the pass (its spinning threads cannot collapse the step beside
    another busy process); a product past ONE_THREAD_BELOW: BLAS keeps its threads. The numbers are the same."""
    import tinygrad_cg as cg
    from tinygrad_cg import layers as L
    from tinygrad_cg.kernels import threads as kernel_threads

    seen = []

    class Probe(L.Sum):
        def forward(self):
            seen.append(max(lib.num_threads for lib in kernel_threads._blas_libraries()))
            super().forward()

    monkeypatch.setenv("TINYGRAD_CG_THREADS", "2")
    x = L.Input("x", shape=(None, 8))
    graph = cg.Graph(Probe(cg.nn.mlp(x, [16, 1], rng=0)), dtype=np.float64)
    feed = {"x": np.random.default_rng(0).normal(size=(32, 8))}
    with threadpool_limits(2, user_api="blas"):
        first = graph.forward(feed)   # the first pass checks the shapes and decides
        second = graph.forward(feed)
        monkeypatch.setattr(kernel_threads, "ONE_THREAD_BELOW", 16)  # every product is now "large"
        graph.forward({"x": feed["x"][:31]})  # new shapes: decided again
        third = graph.forward({"x": feed["x"][:31]})
    assert seen == [2, 1, 1, 2]  # decided after the first pass of each new shape
    assert second == first and np.isfinite(third)
