"""Statistics of a sweep: bootstrap speedup intervals, verdicts, noise flags, Amdahl fits.

Pure functions over arrays of raw timing values (seconds per operation, as pyperf keeps them).
A speedup is the ratio of two medians; its 95% interval comes from resampling the baseline's
values and the cell's values (percentile bootstrap, seeded numpy Generator so a table rebuilt
from the same raw values is identical): independently when they come from different processes
(a sweep's cells), by whole rounds when they were taken side by side, round after round, in one
process (the interleaved tools), so that load both ways saw in a round stays in both. Values of
one pyperf worker process share that process's luck (memory layout, hash seed, what else ran
meanwhile), so where the worker process of each value is known the resampling is two-stage:
processes first, then values within each drawn process, and a spread between processes widens
the interval as it should. Fewer than ``MIN_SAMPLES`` values on a side (or paired rounds) give
no interval at all: three or four values cover the true ratio far less often than 95%, and
one gives an interval of zero width. The serial fraction is the Amdahl ``f`` that best fits
the median speedups of one scaling curve by least squares.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from bench.schema import MIN_SAMPLES, NOISY_INTERVAL_SHARE

logger = logging.getLogger(__name__)

DEFAULT_BOOTSTRAP = 4000
DEFAULT_SEED = 20261129
#: relative standard deviation above which a cell is flagged noisy (pyperf uses the same 10%)
NOISY_RELATIVE_STDEV = 0.10
#: pyperf's "not enough samples for 1% precision" warning fires for every short quick sweep;
#: it is kept in the note but does not make a cell noisy
_PRECISION_ONLY_WARNING = "Not enough samples"


def summarize(values: Sequence[float]) -> dict[str, float]:
    """median, mean, stdev (sample), min and max of raw values (NaN when empty)."""
    arr = np.asarray(values, dtype=float)
    if arr.size == 0:
        nan = math.nan
        return {"median_s": nan, "mean_s": nan, "stdev_s": nan, "min_s": nan, "max_s": nan}
    return {
        "median_s": float(np.median(arr)),
        "mean_s": float(arr.mean()),
        "stdev_s": float(arr.std(ddof=1)) if arr.size > 1 else 0.0,
        "min_s": float(arr.min()),
        "max_s": float(arr.max()),
    }


def bootstrap_ratio_ci(
    baseline: Sequence[float],
    values: Sequence[float],
    *,
    paired: bool = False,
    base_groups: Sequence[int] | None = None,
    groups: Sequence[int] | None = None,
    n_boot: int = DEFAULT_BOOTSTRAP,
    confidence: float = 0.95,
    seed: int = DEFAULT_SEED,
) -> tuple[float, float, float]:
    """(point, low, high) of median(baseline) / median(values) with a bootstrap interval.

    By default the two samples are resampled independently (they come from different
    processes). ``paired``: the i-th values of both were timed in the same round, side by side
    in one process, so rounds are resampled whole: a round slowed by other work slows both
    values of it and no longer widens the interval as if it had struck one side only. The
    point is the same either way. Paired samples must be of the same length. ``base_groups``
    and ``groups`` name the worker process of each value of an unpaired side: that side is
    then resampled in two stages (``resampled``). Returns NaNs when either sample is empty or
    a median is not positive, and NaN bounds beside the point when a side has fewer than
    ``MIN_SAMPLES`` values.
    """
    base = np.asarray(baseline, dtype=float)
    cell = np.asarray(values, dtype=float)
    if base.size == 0 or cell.size == 0:
        return (math.nan, math.nan, math.nan)
    if paired and base.size != cell.size:
        raise ValueError(f"paired samples differ in length: {base.size} and {cell.size}")
    base_median, cell_median = float(np.median(base)), float(np.median(cell))
    if base_median <= 0 or cell_median <= 0:
        return (math.nan, math.nan, math.nan)
    point = base_median / cell_median
    if min(base.size, cell.size) < MIN_SAMPLES:
        return (point, math.nan, math.nan)
    rng = np.random.default_rng(seed)
    if paired:
        rounds = rng.integers(0, base.size, size=(n_boot, base.size))
        base_boot = np.median(base[rounds], axis=1)
        cell_boot = np.median(cell[rounds], axis=1)
    else:
        base_boot = np.median(resampled(base, base_groups, n_boot, rng), axis=1)
        cell_boot = np.median(resampled(cell, groups, n_boot, rng), axis=1)
    ratios = base_boot / cell_boot
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(ratios, [alpha, 1.0 - alpha])
    return (point, float(low), float(high))


def resampled(
    values: np.ndarray,
    groups: Sequence[int] | None,
    n_boot: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """``n_boot`` bootstrap replicates of ``values`` (rows of an array): with ``groups`` (the
    worker process of each value) naming two or more processes of equal counts, each replicate
    draws processes with replacement, then values with replacement within each drawn process;
    otherwise values with replacement."""
    if groups is not None and len(groups) == values.size:
        labels = np.asarray(groups)
        names = list(dict.fromkeys(labels.tolist()))
        clusters = [values[labels == name] for name in names]
        per = clusters[0].size
        if len(clusters) >= 2 and all(c.size == per for c in clusters):
            table = np.stack(clusters)  # processes x values
            count = len(clusters)
            drawn = rng.integers(0, count, size=(n_boot, count, 1))
            within = rng.integers(0, per, size=(n_boot, count, per))
            return table[drawn, within].reshape(n_boot, count * per)
        if len(clusters) >= 2:
            logger.debug("processes of unequal value counts: resampling values alone")
    return values[rng.integers(0, values.size, size=(n_boot, values.size))]


def pooled_ratio_ci(
    samples: Sequence[tuple[Any, ...]],
    *,
    n_boot: int = DEFAULT_BOOTSTRAP,
    confidence: float = 0.95,
    seed: int = DEFAULT_SEED,
) -> tuple[float, float, float]:
    """(point, low, high) of median(every baseline value) / median(every cell value) over
    several runs, each given as (baseline, values, paired) or (baseline, values, paired,
    baseline_groups, groups) (the worker process of each value, see ``resampled``).

    The bootstrap is stratified by run: each replicate resamples every run within itself (whole
    rounds where it is paired, as ``bootstrap_ratio_ci`` does), so each run keeps its share of
    the values and a run that was slower throughout cannot be drawn twice in place of another.
    Runs with an empty side are left out; one run gives exactly ``bootstrap_ratio_ci``. Fewer
    than ``MIN_SAMPLES`` values on a side in all (or paired rounds) give NaN bounds.
    """
    runs = [
        (
            np.asarray(base, dtype=float),
            np.asarray(cell, dtype=float),
            paired,
            *(list(groups) + [None, None])[:2],
        )
        for base, cell, paired, *groups in samples
        if len(base) and len(cell)
    ]
    if len(runs) == 1:
        base, cell, paired, base_groups, groups = runs[0]
        return bootstrap_ratio_ci(
            base,
            cell,
            paired=paired,
            base_groups=base_groups,
            groups=groups,
            n_boot=n_boot,
            confidence=confidence,
            seed=seed,
        )
    if not runs:
        return (math.nan, math.nan, math.nan)
    for base, cell, paired, *_ in runs:
        if paired and base.size != cell.size:
            raise ValueError(f"paired samples differ in length: {base.size} and {cell.size}")
    base_median = float(np.median(np.concatenate([run[0] for run in runs])))
    cell_median = float(np.median(np.concatenate([run[1] for run in runs])))
    if base_median <= 0 or cell_median <= 0:
        return (math.nan, math.nan, math.nan)
    point = base_median / cell_median
    if min(sum(run[0].size for run in runs), sum(run[1].size for run in runs)) < MIN_SAMPLES:
        return (point, math.nan, math.nan)
    rng = np.random.default_rng(seed)
    base_parts, cell_parts = [], []
    for base, cell, paired, base_groups, groups in runs:
        if paired:
            rounds = rng.integers(0, base.size, size=(n_boot, base.size))
            base_parts.append(base[rounds])
            cell_parts.append(cell[rounds])
        else:
            base_parts.append(resampled(base, base_groups, n_boot, rng))
            cell_parts.append(resampled(cell, groups, n_boot, rng))
    base_boot = np.median(np.concatenate(base_parts, axis=1), axis=1)
    cell_boot = np.median(np.concatenate(cell_parts, axis=1), axis=1)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(base_boot / cell_boot, [alpha, 1.0 - alpha])
    return (point, float(low), float(high))


def chance_misjudgements(judged: int, confidence: float = 0.95) -> float:
    """How many of ``judged`` independent verdicts, each from a ``confidence`` interval, are
    expected to be wrong by chance alone (the interval missed the true ratio)."""
    return judged * (1.0 - confidence)


def verdict(ci_low: float, ci_high: float, target: float, ceiling: float = math.inf) -> str:
    """``meets`` (ci_low >= target), ``misses`` (ci_high < target), else ``inconclusive``;
    ``beyond this machine`` instead of a miss or an open question when ``target`` exceeds
    ``ceiling``, the most the machine's usable cores allow.

    NaN bounds (no baseline, invalid output) give ``""``.
    """
    if math.isnan(ci_low) or math.isnan(ci_high):
        return ""
    if ci_low >= target:
        return "meets"
    if target > ceiling:
        return "beyond this machine"
    if ci_high < target:
        return "misses"
    return "inconclusive"


def median_interval_share(
    values: Sequence[float],
    *,
    groups: Sequence[int] | None = None,
    n_boot: int = 2000,
    seed: int = DEFAULT_SEED,
) -> float:
    """Width of the median's 95% bootstrap interval as a share of the median (NaN if empty),
    resampled in two stages where ``groups`` names each value's worker process."""
    arr = np.asarray(values, dtype=float)
    if arr.size == 0:
        return math.nan
    median = float(np.median(arr))
    if median <= 0:
        return math.nan
    if arr.size == 1:
        return 0.0
    rng = np.random.default_rng(seed)
    boot = np.median(resampled(arr, groups, n_boot, rng), axis=1)
    low, high = np.quantile(boot, [0.025, 0.975])
    return float((high - low) / median)


def noise_flags(
    values: Sequence[float],
    pyperf_warnings: Sequence[str],
    interval_share: float = math.nan,
    max_share: float = NOISY_INTERVAL_SHARE,
) -> tuple[bool, str]:
    """(noisy, note): fewer than ``MIN_SAMPLES`` values, the median's interval wider than
    ``max_share`` of it, pyperf's stability warnings, or a relative stdev over 10%."""
    notes = [w.strip() for w in pyperf_warnings if w.strip()]
    noisy = any(_PRECISION_ONLY_WARNING not in w for w in notes)
    if 0 < len(values) < MIN_SAMPLES:
        noisy = True
        notes.insert(0, f"only {len(values)} value(s): {MIN_SAMPLES} or more judge")
    if interval_share == interval_share and interval_share > max_share:
        noisy = True
        notes.insert(0, f"median interval {interval_share:.0%} of the median > {max_share:.0%}")
    arr = np.asarray(values, dtype=float)
    if arr.size > 1 and arr.mean() > 0:
        rel = float(arr.std(ddof=1) / arr.mean())
        if rel > NOISY_RELATIVE_STDEV:
            noisy = True
            if not any("standard deviation" in w for w in notes):
                notes.append(f"relative stdev {rel:.0%} > {NOISY_RELATIVE_STDEV:.0%}")
    return noisy, "; ".join(notes)


def amdahl_speedup(threads: np.ndarray | float, serial_fraction: float) -> np.ndarray | float:
    """Amdahl's law: S(n) = 1 / (f + (1 - f) / n)."""
    return 1.0 / (serial_fraction + (1.0 - serial_fraction) / np.asarray(threads, dtype=float))


def fit_serial_fraction(threads: Sequence[float], speedups: Sequence[float]) -> float:
    """Least-squares Amdahl serial fraction f in [0, 1] for (threads, median speedup) points.

    NaN when fewer than 2 distinct thread counts have a finite speedup. The fit is a dense
    search over f (then refined), which is exact enough and cannot diverge.
    """
    n = np.asarray(threads, dtype=float)
    s = np.asarray(speedups, dtype=float)
    keep = np.isfinite(n) & np.isfinite(s) & (n >= 1) & (s > 0)
    n, s = n[keep], s[keep]
    if np.unique(n).size < 2:
        return math.nan

    def sse(grid: np.ndarray) -> np.ndarray:
        model = 1.0 / (grid[:, None] + (1.0 - grid[:, None]) / n[None, :])
        return ((model - s[None, :]) ** 2).sum(axis=1)

    grid = np.linspace(0.0, 1.0, 2001)
    best = float(grid[int(np.argmin(sse(grid)))])
    fine = np.clip(np.linspace(best - 0.001, best + 0.001, 2001), 0.0, 1.0)
    return float(fine[int(np.argmin(sse(fine)))])


def geometric_mean(values: Sequence[float]) -> float:
    arr = np.asarray([v for v in values if v is not None and np.isfinite(v) and v > 0], float)
    if arr.size == 0:
        return math.nan
    return float(np.exp(np.log(arr).mean()))
