"""Argument checks shared by layers, builders and optimizers: one place that says what a valid size,
stride or rate is, and raises ``ArgumentError`` naming the owner, the argument and the value."""

from __future__ import annotations

import math
import numbers
from typing import Any

from .errors import ArgumentError

__all__ = ["ArgumentError", "describe_range", "integer", "integer_pair", "real", "owner_name"]


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
        raise ArgumentError(f"{owner}: {arg} must be {describe_range(low, high, low_open, high_open)}, got {value!r}")
    return float(value)


def describe_range(low: float, high: float, low_open: bool = False, high_open: bool = False) -> str:
    """The allowed values in words: "positive", "a number >= 0", "a number in [0, 1)"; finite is implied."""
    if math.isinf(low) and math.isinf(high):
        return "a finite number"
    if math.isinf(high):
        if low == 0:
            return "positive" if low_open else "a number >= 0"
        return f"a number {'>' if low_open else '>='} {low:g}"
    if math.isinf(low):
        return f"a number {'<' if high_open else '<='} {high:g}"
    return f"a number in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"


def owner_name(kind: str, name: str | None) -> str:
    """How an error names a layer before ``Layer.__init__`` has run: ``Im2Col 'c'`` or ``Im2Col``."""
    return f"{kind} '{name}'" if name is not None else kind
