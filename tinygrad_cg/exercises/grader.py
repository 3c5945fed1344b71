"""Grading a workspace: each exercise's code against the library's own, in words a learner can act on.

A layer's backward is driven directly (no Graph, so that one exercise never waits for another): the same
inputs go through the learner's layer and the library's, the same delta comes back, and every input's delta
is compared. Each input's delta is filled with random numbers first, so that "assigned instead of adding"
shows. A difference is explained where it has a common cause (assigned with ``=``, the sign, the batch size,
a transpose, the shape), else by the first entries that differ; where the library agrees, the learner's
deltas are also checked by finite differences of the learner's own forward pass. Optimizers are compared step
by step on a fixed sequence of gradients; kernels on arrays; the graph's loops on small graphs made of layers
defined here. The inputs include the awkward ones: a batch of one, ties, large logits, overlapping windows.

``grade(id, folder)`` returns a ``Verdict`` ("done", "failing" or "not started", and a message);
``assert_done`` is what the workspace's tests call.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np

from .catalogue import EXERCISES, get
from .workspace import PACKAGE, load_state

CHECKS: dict[str, Callable[[ModuleType, ModuleType], None]] = {}


class Failing(Exception):
    """The learner's code ran and is wrong; the message says how."""


@dataclass
class Verdict:
    exercise: str
    status: str      # "done", "failing", "not started"
    message: str


def check(exercise_id: str) -> Callable:
    """Register the decorated function as exercise ``exercise_id``'s check: ``function(learner, reference)``
    raises ``Failing`` (or lets the learner's error out) when the learner's code is wrong."""
    def register(function: Callable) -> Callable:
        CHECKS[exercise_id] = function
        return function
    return register


# --- loading the learner's package --------------------------------------------------------------------

def learner_package(folder: str | Path) -> ModuleType:
    """The workspace's ``mygrad``, imported afresh (so an edit since the last check counts)."""
    folder = str(Path(folder).resolve())
    load_state(folder)
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
        del sys.modules[name]
    if folder in sys.path:
        sys.path.remove(folder)
    sys.path.insert(0, folder)
    importlib.invalidate_caches()
    return importlib.import_module(PACKAGE)


def grade(exercise_id: str, folder: str | Path) -> Verdict:
    """Check one exercise of the workspace in ``folder``."""
    import tinygrad_cg

    get(exercise_id)
    try:
        learner = learner_package(folder)
        with np.errstate(all="ignore"):  # an overflow in the learner's code is reported as the values it made
            CHECKS[exercise_id](learner, tinygrad_cg)
    except NotImplementedError as error:
        text = str(error)
        if text.startswith(f"Exercise {exercise_id}:") or not text.startswith("Exercise "):
            return Verdict(exercise_id, "not started", where_to_write(exercise_id))
        other = text.split(":")[0].removeprefix("Exercise ")
        return Verdict(exercise_id, "not started",
                       f"waits for exercise {other} ({get(other).title}), which this check uses")
    except Failing as failure:
        return Verdict(exercise_id, "failing", str(failure))
    except Exception as error:  # noqa: BLE001 - the learner's code raised: say what and where
        where = _learner_frame(error)
        return Verdict(exercise_id, "failing", f"your code raised {type(error).__name__}: {error}{where}")
    capstone = not get(exercise_id).targets
    return Verdict(exercise_id, "done", "done: trains as the library does" if capstone else
                   "done: agrees with the library on every case")


def where_to_write(exercise_id: str) -> str:
    exercise = get(exercise_id)
    places = ", ".join(f"{qualname} in {PACKAGE}/{file}" for file, qualname in exercise.targets)
    if not places:
        return "not started: it passes once the exercises it uses are done"
    return f"not started: write {places} (hints: tinygrad-cg exercises hint {exercise_id})"


def _learner_frame(error: BaseException) -> str:
    frame = None
    tb = error.__traceback__
    while tb is not None:
        if f"{PACKAGE}/" in tb.tb_frame.f_code.co_filename.replace("\\", "/"):
            frame = tb
        tb = tb.tb_next
    if frame is None:
        return ""
    path = frame.tb_frame.f_code.co_filename.replace("\\", "/")
    return f" (at {PACKAGE}/{path.split(PACKAGE + '/', 1)[1]}:{frame.tb_lineno}, in {frame.tb_frame.f_code.co_name})"


def assert_done(exercise_id: str, folder: str | Path) -> None:
    """For the workspace's tests: fail with the verdict's message (no traceback) unless the exercise is done."""
    import pytest

    verdict = grade(exercise_id, folder)
    if verdict.status != "done":
        pytest.fail(f"Exercise {exercise_id}: {verdict.message}", pytrace=False)


def status(folder: str | Path) -> list[Verdict]:
    """Every exercise of the workspace, graded."""
    return [grade(i, folder) for i in load_state(folder)["exercises"]]


# --- comparing arrays, in a learner's words --------------------------------------------------------------

def close(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-6, atol=1e-9))


def first_differences(got: np.ndarray, expected: np.ndarray, count: int = 3) -> str:
    wrong = np.argwhere(~np.isclose(got, expected, rtol=1e-6, atol=1e-9))[:count]
    return "; ".join(f"[{', '.join(map(str, index))}] is {got[tuple(index)]:.6g}, expected "
                     f"{expected[tuple(index)]:.6g}" for index in wrong) or "none"


def explain(what: str, got, expected: np.ndarray, before: np.ndarray | None, batch: int | None) -> str | None:
    """None if ``got`` is right, else what is wrong with it. ``before`` is what the array held before the
    learner's code ran (the filled delta), ``batch`` the batch size where a mean over it is involved."""
    if got is None:
        return f"{what} is None: nothing was added into it"
    got = np.asarray(got, dtype=float)
    if got.shape != expected.shape:
        turned = " (transposed?)" if got.shape == expected.shape[::-1] else ""
        return f"{what} has shape {got.shape}, expected {expected.shape}{turned}"
    if not np.all(np.isfinite(got)):
        return (f"{what} holds {int(np.sum(~np.isfinite(got)))} non-finite value(s) (inf or NaN): with large "
                "inputs, compute it from the stable quantities forward stored rather than from exp()")
    if close(got, expected):
        return None
    base = np.zeros_like(expected) if before is None else before
    want, added = expected - base, got - base
    if before is not None and np.any(base) and close(got, want):
        return f"{what}: looks like you assigned (=) instead of adding (+=) into the delta"
    if np.any(want) and close(added, np.zeros_like(added)):
        return f"{what}: nothing was added into it (is the line that updates it reached?)"
    if close(added, -want):
        return f"{what}: the sign is flipped"
    if batch and batch > 1 and close(added, want * batch):
        return (f"{what}: {batch} times too large, the batch size: the loss is the mean over the batch, so every "
                "delta carries 1/N")
    if batch and batch > 1 and close(added * batch, want):
        return f"{what}: {batch} times too small, the batch size: divide by N once, not twice"
    if added.ndim == 2 and added.shape[0] == added.shape[1] and close(added, want.T):
        return f"{what}: transposed (the values are right, rows and columns swapped)"
    nonzero = np.abs(want) > 1e-12
    if np.any(nonzero) and np.allclose(added[~nonzero], 0, atol=1e-9):
        ratio = added[nonzero] / want[nonzero]
        if np.allclose(ratio, ratio[0], rtol=1e-6):
            return f"{what}: off by a constant factor of {ratio[0]:.4g}"
    return f"{what} differs from the library's; first entries that differ: {first_differences(got, expected)}"


# --- layers, driven without a Graph ------------------------------------------------------------------------

@dataclass
class Case:
    """One input set for a layer check: the arrays, which of them get a delta, and the batch size."""

    name: str
    arrays: list[np.ndarray]
    trained: list[bool]            # False: a label or constant (no delta)
    batch: int | None = None


def run_layer(lib: ModuleType, build, case: Case, delta: np.ndarray, fills: list) -> tuple:
    """Forward, then backward with ``delta``; the inputs' deltas start as ``fills``."""
    L = lib.layers
    inputs = [L.Variable(a.copy(), name=f"input{i}") if trained else L.Constant(a.copy(), name=f"input{i}")
              for i, (a, trained) in enumerate(zip(case.arrays, case.trained, strict=True))]
    layer = build(L, *inputs)
    layer.forward()
    for inp, fill, trained in zip(inputs, fills, case.trained, strict=True):
        inp.needs_delta = trained
        inp.delta = None if fill is None else fill.copy()
    layer.delta = np.array(delta, dtype=float, copy=True)
    layer.backward()
    return layer, [inp.delta for inp in inputs]


def finite_differences(lib: ModuleType, build, case: Case, delta: np.ndarray, which: int, rng, h: float = 1e-6,
                       entries: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """(indices, d/dx of sum(output * delta)) for a few entries of input ``which``, from ``build``'s forward."""
    def value(arrays):
        L = lib.layers
        inputs = [L.Variable(a, name=f"input{i}") for i, a in enumerate(arrays)]
        layer = build(L, *inputs)
        layer.forward()
        return float(np.sum(np.asarray(layer.output) * delta))

    x = case.arrays[which]
    flat = rng.choice(x.size, size=min(entries, x.size), replace=False)
    slopes = []
    for index in flat:
        plus, minus = [a.copy() for a in case.arrays], [a.copy() for a in case.arrays]
        plus[which].flat[index] += h
        minus[which].flat[index] -= h
        slopes.append((value(plus) - value(minus)) / (2 * h))
    return flat, np.array(slopes)


def check_layer(learner: ModuleType, reference: ModuleType, build, cases: list[Case], seed: int = 0,
                numeric: bool = True, mistakes: dict | None = None) -> None:
    """Every case through the learner's layer and the library's (``build(L, *inputs)`` makes it from a
    ``layers`` module); ``Failing`` with the first problem. ``mistakes``: for an input's index, (message,
    wrong(*arrays, delta)) pairs: a common wrong answer and what to say when the learner's equals it."""
    rng = np.random.default_rng(seed)
    for case in cases:
        ref_layer = build(reference.layers, *[reference.layers.Variable(a.copy()) for a in case.arrays])
        ref_layer.forward()
        delta = rng.normal(size=np.shape(ref_layer.output))
        fills = [rng.normal(size=a.shape) if trained else None for a, trained in zip(case.arrays, case.trained,
                                                                                      strict=True)]
        _, expected = run_layer(reference, build, case, delta, fills)
        try:
            _, got = run_layer(learner, build, case, delta, fills)
        except ValueError as error:
            if "broadcast" not in str(error):
                raise
            shapes = ", ".join(f"{a.shape}" for a in case.arrays)
            raise Failing(f"{case.name}: adding into a delta failed ({error}): what you add into an input's delta "
                          f"must have that input's shape (the inputs here: {shapes}); a 0-d input used against a "
                          "whole array gets the sum over it (_sum_to_shape)") from None
        for i, (g, e, fill) in enumerate(zip(got, expected, fills, strict=True)):
            if not case.trained[i]:
                continue
            problem = explain(f"the delta of input {i} {describe_input(case, i)}", g, e, fill, case.batch)
            for message, wrong in (mistakes or {}).get(i, []):
                if problem and g is not None and close(np.asarray(g, dtype=float) - fill, wrong(*case.arrays, delta)):
                    problem = message
            if problem:
                raise Failing(f"{case.name}: {problem}")
            if numeric:
                index, slopes = finite_differences(learner, build, case, delta, i, rng)
                added = (np.asarray(g, dtype=float) - fill).ravel()[index]
                if not np.allclose(added, slopes, rtol=1e-4, atol=1e-6):
                    raise Failing(f"{case.name}: input {i}'s delta agrees with the library but not with finite "
                                  "differences of your forward pass: has forward been changed?")


def describe_input(case: Case, i: int) -> str:
    return f"(shape {case.arrays[i].shape})"


def signs(rng, n: int) -> np.ndarray:
    return rng.choice([-1.0, 1.0], size=(n, 1))


def away_from(rng, shape, point: float = 0.0, gap: float = 0.1) -> np.ndarray:
    """Normal values at least ``gap`` from ``point`` (no kink within a finite-difference step)."""
    x = rng.normal(size=shape)
    return np.where(np.abs(x - point) < gap, point + gap * np.sign(x - point + 1e-12) * 2, x)


from . import checks as _checks  # noqa: E402, F401 - registers every exercise's check in CHECKS

assert set(CHECKS) == {e.id for e in EXERCISES}, "every exercise has a check, every check an exercise"
