"""How numbers read in the report and the summary: ratios, intervals, bytes, seconds.

Every formatter accepts NaN/None and answers "n/a", so templates never branch on missing data.
"""

from __future__ import annotations

import math
from typing import Any


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def ratio(value: Any) -> str:
    return "n/a" if _missing(value) else f"{float(value):.2f}x"


def interval(low: Any, high: Any) -> str:
    if _missing(low) or _missing(high):
        return "n/a"
    return f"{float(low):.2f}-{float(high):.2f}"


def integer(value: Any) -> str:
    return "n/a" if _missing(value) else str(int(float(value)))


def number(value: Any, digits: int = 2) -> str:
    return "n/a" if _missing(value) else f"{float(value):.{digits}f}"


def seconds(value: Any) -> str:
    if _missing(value):
        return "n/a"
    value = float(value)
    if value < 1e-3:
        return f"{value * 1e6:.0f} µs"
    if value < 1:
        return f"{value * 1e3:.1f} ms"
    return f"{value:.2f} s"


def size(value: Any, digits: int = 1) -> str:
    """Bytes as MiB/GiB (binary units, signed: a memory delta can be negative)."""
    if _missing(value):
        return "n/a"
    value = float(value)
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(value) >= scale:
            return f"{value / scale:.{digits}f} {unit}"
    return f"{value:.0f} B"


def sort_key(value: Any) -> str:
    """A value for data-sort attributes: numbers as plain floats, missing as empty."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return "" if _missing(value) else repr(float(value))
    return str(value)


FILTERS = {
    "ratio": ratio,
    "interval": interval,
    "integer": integer,
    "number": number,
    "seconds": seconds,
    "size": size,
    "sort_key": sort_key,
}
