"""The busy-machine benchmark builds every step it times, ours and (where torch is installed) PyTorch's."""

import importlib.util
import os
import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(autouse=True)
def environment_and_path_restored(monkeypatch):
    """The benchmarks set thread variables for their children (``common.pin_threads``) and put their folder
    on sys.path: undone after each test."""
    saved = dict(os.environ)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield
    os.environ.clear()
    os.environ.update(saved)


def busy_steps():
    sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location("busy_steps", BENCHMARKS / "busy_steps.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("which", ["parity", "flat", "depth", "lenet", "e2e k=1"])
def test_every_busy_step_builds_and_trains(which):
    module = busy_steps()
    step = module.build(which, "ours")
    for _ in range(2):
        step()


@pytest.mark.parametrize("which", ["parity", "flat", "depth"])
def test_the_pytorch_mlp_steps_are_ours_in_float64(which):
    pytest.importorskip("torch")
    module = busy_steps()
    step = module.build(which, "PyTorch")
    step()
    inputs, widths, batch = module.mlp_shapes(which)
    X, Y = module.mlp_feed(which)
    assert X.shape == (batch, inputs) and X.dtype == np.float64 and len(Y) == batch


def test_the_old_blas_rule_is_only_for_the_child_that_asks(monkeypatch):
    from tinygrad_cg.kernels import threads

    monkeypatch.setattr(threads, "ONE_THREAD_BELOW", threads.ONE_THREAD_BELOW)  # restored after the test
    module = busy_steps()
    module.build("parity", "ours, BLAS's threads (before)")
    assert threads.ONE_THREAD_BELOW == 0
