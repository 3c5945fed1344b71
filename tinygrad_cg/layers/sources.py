"""Source layers: the leaves of the graph. They have no inputs; their ``output`` comes from outside.

- ``Input``: fed each step (``graph.forward({"x": X})``).
- ``Variable``: a trainable parameter. Its ``output`` is the parameter array, its ``delta`` the
  gradient d loss / d parameter after ``Graph.backward``; optimizers read ``delta`` and update ``output``.
- ``Constant``: a fixed array that is never differentiated.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import checks
from ..errors import ArgumentError, FeedError, GraphError
from ..graph import Shape, Source, fmt_shape, shapes_match

NUMERIC_KINDS = "biuf"  # bool, signed and unsigned int, float: what casts to a float without losing anything


def real_array(value: Any, what: str, error: type[ValueError]) -> np.ndarray:
    """``value`` as an array of real numbers, or ``error`` naming ``what``. Complex numbers (whose cast would
    drop the imaginary part), objects (e.g. ``None``) and strings are refused, not coerced."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise error(f"{what}: cannot be read as an array ({exc})") from None
    if array.dtype.kind not in NUMERIC_KINDS:
        raise error(f"{what}: needs real numbers, got an array of dtype {array.dtype}"
                    + (" (a complex value would lose its imaginary part)" if array.dtype.kind == "c" else ""))
    return array


def _as_float_array(value: Any, owner: str) -> np.ndarray:
    return np.array(real_array(value, f"{owner}: value", GraphError), dtype=np.float64)


class Input(Source):
    """A fed value, e.g. a batch of examples ``(N, n)`` or labels.

    Args:
        name: the feed key.
        shape: optional declared shape, ``None`` for dimensions set by the feed (the batch), e.g.
            ``(None, 30)``. Builders such as ``nn.affine`` read it to size their weights, and a feed
            of another shape raises ``FeedError``.
    """

    def __init__(self, name: str, shape: Shape | None = None):
        if not isinstance(name, str) or not name:
            raise GraphError(f"Input needs a non-empty string name, got {name!r}")
        if shape is not None:
            if not isinstance(shape, tuple | list):
                raise ArgumentError(f"Input '{name}': shape must be a tuple such as (None, 30), got {shape!r}")
            shape = tuple(None if d is None else checks.integer(f"Input '{name}'", "every size in shape", d, 1)
                          for d in shape)
        super().__init__(name=name, shape=shape)

    def set_value(self, value: Any, dtype: np.dtype) -> None:
        """Store a fed array, cast to the graph's dtype, after checking it: real numbers only, not empty,
        and of the declared shape."""
        array = real_array(value, f"{self.describe()}: the fed value", FeedError).astype(dtype, copy=False)
        if array.size == 0:
            raise FeedError(f"{self.describe()}: fed an empty array of shape {array.shape} (an empty batch has no "
                            "mean loss)")
        if not shapes_match(self.shape, array.shape):
            raise FeedError(
                f"{self.describe()}: fed an array of shape {array.shape}, declared {fmt_shape(self.shape)}"
            )
        self.output = array


class Variable(Source):
    """A trainable parameter; the graph casts ``value`` to its dtype."""

    def __init__(self, value: Any, name: str | None = None):
        array = _as_float_array(value, f"Variable '{name}'")
        super().__init__(name=name, shape=array.shape)
        self.output = array


class Constant(Source):
    """A fixed array: part of the computation, never trained, never given a delta."""

    def __init__(self, value: Any, name: str | None = None):
        array = _as_float_array(value, f"Constant '{name}'")
        super().__init__(name=name, shape=array.shape)
        self.output = array
