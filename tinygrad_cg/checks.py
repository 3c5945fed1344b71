"""Argument checks shared by layers, builders and optimizers: one place that says what a valid size,
stride or rate is, and raises ``ArgumentError`` naming the owner, the argument and the value."""

from __future__ import annotations

import math
import numbers
from typing import Any

from .errors import ArgumentError

__all__ = ["ArgumentError", "integer", "integer_pair", "real", "owner_name"]


def integer(owner: str, arg: str, value: Any, minimum: int) -> int:
    """``value`` as an int >= ``minimum`` (bools and non-integral floats are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ArgumentError(f"{owner}: {arg} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def integer_pair(owner: str, arg: str, value: Any, minimum: int) -> tuple[int, int]:
    """An int or a pair (along H, along W), each >= ``minimum``."""
    if isinstance(value, tuple | list):
        if len(value) != 2:
            raise ArgumentError(f"{owner}: {arg} must be an int or a pair (along H, along W), got {value!r}")
        return integer(owner, arg, value[0], minimum), integer(owner, arg, value[1], minimum)
    size = integer(owner, arg, value, minimum)
    return size, size


def real(owner: str, arg: str, value: Any, low: float = -math.inf, high: float = math.inf,
         high_open: bool = False, low_open: bool = False) -> float:
    """``value`` as a finite float in [low, high] (a bound is excluded when ``*_open``)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
    if not ok:
        interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        raise ArgumentError(f"{owner}: {arg} must be a finite number in {interval}, got {value!r}")
    return float(value)


def owner_name(kind: str, name: str | None) -> str:
    """How an error names a layer before ``Layer.__init__`` has run: ``Im2Col 'c'`` or ``Im2Col``."""
    return f"{kind} '{name}'" if name is not None else kind
