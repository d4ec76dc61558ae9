"""File size distributions: fixed, uniform and log-normal, planned to hit an exact group total.

A group of n files with mean m always plans exactly round(n * m) bytes: the raw draws are scaled
to that total, clamped to [min, max], and the rounding remainder is spread one byte at a time in
file order. Totals are then exact and seed-independent (``estimate_bytes`` needs no sampling),
while the shape (many small files, a few large ones) comes from the distribution.

Log-normal draws use only arithmetic that is bit-identical everywhere (Irwin-Hall normal
approximation) plus one ``math.exp`` whose result is rounded to 9 significant digits, so a
last-place difference between platform maths libraries cannot change a planned size.
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass

DISTRIBUTIONS = ("fixed", "uniform", "lognormal")


@dataclass(frozen=True)
class SizeSpec:
    """``fixed`` uses ``value``; ``uniform`` uses ``min``..``max``; ``lognormal`` uses ``mean``
    (bytes), ``sigma`` (spread of log size) and optional ``min``/``max`` bounds."""

    dist: str = "fixed"
    value: int = 0
    min: int = 0
    max: int = 0
    mean: int = 0
    sigma: float = 1.0

    def __post_init__(self) -> None:
        if self.dist not in DISTRIBUTIONS:
            raise ValueError(f"unknown size distribution {self.dist!r}; known: {DISTRIBUTIONS}")
        for key in ("value", "min", "max", "mean"):
            if getattr(self, key) < 0:
                raise ValueError(f"{key} must be >= 0, not {getattr(self, key)}")
        if not (math.isfinite(self.sigma) and self.sigma >= 0):
            raise ValueError(f"sigma must be a finite number >= 0, not {self.sigma}")
        low, high = self.bounds
        if high < low:
            raise ValueError(f"min ({low}) is above max ({high})")

    @property
    def mean_size(self) -> float:
        if self.dist == "fixed":
            return float(self.value)
        if self.dist == "uniform":
            return (self.min + self.max) / 2
        return float(self.mean)

    @property
    def bounds(self) -> tuple[int, int]:
        if self.dist == "fixed":
            return self.value, self.value
        upper = self.max if self.max > 0 else max(1, int(self.mean_size * 1000))
        return self.min, upper

    def scaled(self, factor: float) -> SizeSpec:
        """The same shape with every byte figure multiplied by ``factor``."""
        return SizeSpec(
            dist=self.dist,
            value=round(self.value * factor),
            min=round(self.min * factor),
            max=round(self.max * factor),
            mean=round(self.mean * factor),
            sigma=self.sigma,
        )

    def to_dict(self) -> dict[str, object]:
        return {key: value for key, value in asdict(self).items() if value or key == "dist"}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> SizeSpec:
        return cls(**data)  # type: ignore[arg-type]


def planned_total(spec: SizeSpec, count: int) -> int:
    """The exact number of bytes ``plan_sizes`` gives ``count`` files."""
    low, high = spec.bounds
    return min(count * high, max(count * low, round(count * spec.mean_size)))


def plan_sizes(spec: SizeSpec, count: int, rng: random.Random) -> list[int]:
    """``count`` sizes drawn from ``spec`` whose sum is exactly ``planned_total``."""
    if count <= 0:
        return []
    if spec.dist == "fixed":
        return [spec.value] * count
    if spec.dist == "uniform":
        raw = [spec.min + rng.random() * (spec.max - spec.min) for _ in range(count)]
    else:
        raw = [_lognormal_unit(rng, spec.sigma) for _ in range(count)]
    low, high = spec.bounds
    return _fit_total(raw, low, high, planned_total(spec, count))


def _lognormal_unit(rng: random.Random, sigma: float) -> float:
    normal = sum(rng.random() for _ in range(12)) - 6.0
    return float(f"{math.exp(sigma * normal):.9g}")


def _fit_total(raw: list[float], low: int, high: int, total: int) -> list[int]:
    values = list(raw)
    for _ in range(12):
        current = sum(values)
        if current <= 0:
            values = [float(total) / len(values)] * len(values)
            break
        factor = total / current
        values = [max(float(low), min(float(high), value * factor)) for value in values]
    sizes = [int(value) for value in values]
    remainder = total - sum(sizes)
    while remainder:
        step = 1 if remainder > 0 else -1
        quota = max(1, abs(remainder) // len(sizes))
        moved = False
        for index, size in enumerate(sizes):
            room = (high - size) if step > 0 else (size - low)
            delta = min(room, quota, abs(remainder))
            if delta > 0:
                sizes[index] = size + step * delta
                remainder -= step * delta
                moved = True
                if not remainder:
                    break
        if not moved:
            break
    return sizes
