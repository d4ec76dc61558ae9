"""Where a ratio of times comes from: cores kept busy, and CPU time spent.

A cell's time is its CPU seconds spread over the cores it kept busy, so the ratio of two
cells' times is the ratio of their busy cores divided by the ratio of their CPU times: a
parallel path that keeps 1.96 cores busy and spends 1.01x the reference's CPU time is 1.94x
faster, and is bounded by the cores, where one that spends 0.53x the CPU time on 1.6 cores is
bounded by its own serial part. ``bench.interleaved`` files the measuring process's CPU
seconds per timing (``value_cpu``, threads and helper processes alike, and ``value_kernel``,
the part of them spent in the kernel) and the minor page faults it took (``value_faults``);
``split(baseline, measured)`` takes the medians over the rounds of one or more runs (every
round: it explains a ratio, it does not judge one). Faults tell a ratio paid for memory
touched for the first time (a codec's buffers, an allocator handing memory back and taking it
again) from one paid for computing; on some virtual machines each fault costs many times more
at some moments than at others, so a cell that takes tens of thousands varies from round to
round there (docs/benchmarking.md).
The CPU time is counted to the microsecond; its split between the program and the kernel is
sampled by the system at its clock's ticks, so one short timing's kernel share is coarse and
only the median over rounds is shown. Records without those fields (pyperf runs, older runs)
give no split. ``cores_busy`` and ``cpu_ratio`` answer the same for one record, or a pair, over
chosen rounds (``bench.thread_scaling``, per thread count).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class WorkSplit:
    """The medians behind a ratio: each side's busy cores (CPU seconds over wall seconds per
    timing), the measured side's CPU time over the baseline's, and the share of the measured
    side's CPU time spent in the kernel; and each side's median minor page faults per timing
    (NaN where the records did not count them)."""

    cores: float
    baseline_cores: float
    cpu_ratio: float
    kernel_share: float
    faults: float = math.nan
    baseline_faults: float = math.nan


Timing = tuple[float, float, float]  # (wall, cpu, kernel) seconds


def _timings(record: dict[str, Any]) -> list[Timing] | None:
    """(wall, cpu, kernel) seconds per timing of ``record``, None without CPU readings."""
    values = record.get("values") or []
    cpu = _per_timing(record, "value_cpu")
    if cpu is None:
        return None
    kernel = _per_timing(record, "value_kernel") or [math.nan] * len(values)
    return list(zip(values, cpu, kernel))


def _per_timing(record: dict[str, Any], field: str) -> list[Any] | None:
    """``record[field]`` when it holds one reading per timing (per value), else None."""
    values, readings = record.get("values") or [], record.get(field)
    return readings if values and readings and len(readings) == len(values) else None


def _kept(record: dict[str, Any], kept: Sequence[int] | None) -> list[Timing] | None:
    """``record``'s timings of the rounds ``kept`` (all of them when None), None without CPU
    readings or with none kept."""
    timings = _timings(record)
    if timings is None:
        return None
    chosen = timings if kept is None else [timings[i] for i in kept if i < len(timings)]
    return chosen or None


def _cores(timings: list[Timing]) -> float:
    return statistics.median(cpu / wall for wall, cpu, _ in timings if wall > 0)


def _cpu(timings: list[Timing]) -> float:
    return statistics.median(cpu for _, cpu, _ in timings)


def cores_busy(record: dict[str, Any], kept: Sequence[int] | None = None) -> float | None:
    """The median over ``record``'s timings (of the rounds ``kept``) of CPU seconds over wall
    seconds; None without CPU readings."""
    timings = _kept(record, kept)
    return None if timings is None else _cores(timings)


def cpu_ratio(
    baseline: dict[str, Any], measured: dict[str, Any], kept: Sequence[int] | None = None
) -> float | None:
    """``measured``'s median CPU seconds over ``baseline``'s (same rounds ``kept``); None
    without CPU readings on either side."""
    base, mine = _kept(baseline, kept), _kept(measured, kept)
    if base is None or mine is None or _cpu(base) <= 0:
        return None
    return _cpu(mine) / _cpu(base)


def split(
    baseline: Sequence[dict[str, Any]], measured: Sequence[dict[str, Any]]
) -> WorkSplit | None:
    """The split of a ratio over the records of one or more runs (``baseline[k]`` and
    ``measured[k]`` from run ``k``), None unless every record has CPU readings."""
    sides = []
    for records in (baseline, measured):
        timings = [_timings(record) for record in records]
        if not timings or any(t is None for t in timings):
            return None
        sides.append([timing for t in timings for timing in t or ()])
    (base, mine) = sides
    base_cpu, my_cpu = _cpu(base), _cpu(mine)
    if base_cpu <= 0 or my_cpu <= 0:
        return None
    kernel = [k / cpu for _, cpu, k in mine if cpu > 0 and not math.isnan(k)]
    return WorkSplit(
        cores=_cores(mine),
        baseline_cores=_cores(base),
        cpu_ratio=my_cpu / base_cpu,
        kernel_share=statistics.median(kernel) if kernel else math.nan,
        faults=_median_faults(measured),
        baseline_faults=_median_faults(baseline),
    )


def _median_faults(records: Sequence[dict[str, Any]]) -> float:
    """The median of the records' minor page faults per timing (``value_faults``), NaN unless
    every record counted them for every timing."""
    counts = []
    for record in records:
        faults = _per_timing(record, "value_faults")
        if faults is None:
            return math.nan
        counts += faults
    return float(statistics.median(counts))


def describe(work: WorkSplit | None) -> str:
    """``1.96 cores busy against 1.00, 1.01x its CPU time (31% in the kernel), 9,100 page
    faults a timing against 90``; empty without a split."""
    if work is None:
        return ""
    text = (
        f"{work.cores:.2f} cores busy against {work.baseline_cores:.2f}, "
        f"{work.cpu_ratio:.2f}x its CPU time"
    )
    if not math.isnan(work.kernel_share):
        text += f" ({work.kernel_share:.0%} in the kernel)"
    if not (math.isnan(work.faults) or math.isnan(work.baseline_faults)):
        text += f", {work.faults:,.0f} page faults a timing against {work.baseline_faults:,.0f}"
    return text


__all__ = ["WorkSplit", "cores_busy", "cpu_ratio", "describe", "split"]
