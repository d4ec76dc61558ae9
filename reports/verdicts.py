"""Verdicts against the 2x and 4x targets: the best valid parallel cell of each group.

A group is (platform, operation, format, workload). Only rows with ``valid`` True and
``variant == "parallel"`` count. The best cell is the one with the highest speedup; its 95%
interval decides: ``meets`` when the low end is at or above the target, ``misses`` when the
high end is below it, ``inconclusive`` when the interval straddles it or is unknown. bench
writes the same verdicts as columns; they are used when present, and derived from the interval
when a column is blank (an older or partial table).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import pandas as pd

logger = logging.getLogger(__name__)

TARGETS = (2.0, 4.0)
MEETS, MISSES, INCONCLUSIVE, NO_DATA = "meets", "misses", "inconclusive", "no valid data"
VERDICTS = (MEETS, MISSES, INCONCLUSIVE)
GROUP_KEYS = ["platform_key", "operation", "format", "workload"]


def classify(low: float, high: float, target: float) -> str:
    """meets / misses / inconclusive for an interval against a target ratio."""
    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return INCONCLUSIVE
    if low >= target:
        return MEETS
    if high < target:
        return MISSES
    return INCONCLUSIVE


@dataclass(frozen=True)
class Verdict:
    """The best valid parallel cell of one group, and what it says against each target."""

    platform_key: str
    operation: str
    format: str
    workload: str
    speedup: float
    ci_low: float
    ci_high: float
    threads: float
    batch_size: float
    backend: str
    verdict_2x: str
    verdict_4x: str
    valid_cells: int
    invalid_cells: int
    memory_delta_bytes: float
    note: str = ""

    @property
    def verdicts(self) -> dict[str, str]:
        return {"2x": self.verdict_2x, "4x": self.verdict_4x}


def parallel_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Rows that can take part in a verdict: parallel variant, usable columns, real hardware
    (an emulated run's timings say nothing about the CPU it pretends to be)."""
    if table.empty:
        return table
    real = ~table["emulated"].astype(bool) if "emulated" in table else True
    return table[(table["variant"] == "parallel") & table["_usable"].astype(bool) & real]


def _stated_or_derived(row: pd.Series, column: str, target: float) -> str:
    stated = str(row.get(column, "") or "").strip().lower()
    if stated in VERDICTS:
        return stated
    return classify(row["speedup_ci_low"], row["speedup_ci_high"], target)


def _verdict_for_group(key: tuple, group: pd.DataFrame) -> Verdict:
    platform, operation, fmt, workload = key
    valid = group[group["valid"]]
    invalid_count = len(group) - len(valid)
    if valid.empty:
        return Verdict(
            platform,
            operation,
            fmt,
            workload,
            math.nan,
            math.nan,
            math.nan,
            math.nan,
            math.nan,
            "",
            NO_DATA,
            NO_DATA,
            0,
            invalid_count,
            math.nan,
            note=f"all {invalid_count} cell(s) invalid",
        )
    measured = valid.dropna(subset=["speedup"])
    if measured.empty:
        best = valid.iloc[0]
        note = "no sequential baseline, speedup unknown"
        v2 = v4 = INCONCLUSIVE
    else:
        best = measured.loc[measured["speedup"].idxmax()]
        note = ""
        v2 = _stated_or_derived(best, "verdict_2x", TARGETS[0])
        v4 = _stated_or_derived(best, "verdict_4x", TARGETS[1])
        if math.isnan(best["speedup_ci_low"]) or math.isnan(best["speedup_ci_high"]):
            note = "no confidence interval"
    return Verdict(
        platform,
        operation,
        fmt,
        workload,
        float(best["speedup"]),
        float(best["speedup_ci_low"]),
        float(best["speedup_ci_high"]),
        float(best["threads"]),
        float(best["batch_size"]),
        str(best["backend"]),
        v2,
        v4,
        len(valid),
        invalid_count,
        float(best["memory_delta_bytes"]),
        note,
    )


def best_verdicts(table: pd.DataFrame) -> list[Verdict]:
    """One Verdict per (platform, operation, format, workload) seen among parallel rows."""
    rows = parallel_rows(table)
    if rows.empty:
        return []
    verdicts = [
        _verdict_for_group(key, group)
        for key, group in rows.groupby(GROUP_KEYS, sort=False, dropna=False)
    ]
    order = {k: i for i, k in enumerate(dict.fromkeys(rows["platform_key"]))}
    verdicts.sort(key=lambda v: (order.get(v.platform_key, 0), v.operation, v.format, v.workload))
    return verdicts


def tally(verdicts: list[Verdict], target: str) -> dict[str, int]:
    """How many groups meet, miss, are inconclusive, or have no valid data for a target."""
    counts = dict.fromkeys((*VERDICTS, NO_DATA), 0)
    for verdict in verdicts:
        counts[verdict.verdicts[target]] += 1
    return counts
