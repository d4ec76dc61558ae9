"""Verdicts against the 2x and 4x targets: the best trustworthy parallel cell of each group.

The targets mean "2-4x faster than the old way", so a verdict compares with the reference
loop (``speedup_vs_reference``) and falls back to the library's own sequential path only
where no reference was measured; the baseline is named wherever a verdict is shown. A group is
(machine, operation, format, workload). Only valid parallel rows that are not noisy decide;
the best is the one with the highest gain. Its 95% interval decides: ``meets`` when the low
end is at or above the target, ``misses`` when the high end is below it, ``inconclusive``
when it straddles it, and ``beyond this machine`` when the target is more than the machine's
usable cores allow (cores x the sequential path's own gain over the old way). bench writes
each cell's own verdicts as columns; a group of one cell uses them when present, and derives
them when blank.

A group of several configurations is judged as a family: picking the fastest of K cells
picks the one luck favoured most, and its own 95% interval no longer holds 95% of the time:
twelve configurations whose true gain is exactly 2x, each with a +-5% interval, read "meets
2x" about a quarter of the time instead of one time in forty. So each cell's interval is
widened to the level ``1 - 0.05 / K`` (Bonferroni: the K intervals then hold together at
least 95% of the time), from its 95% interval on a log scale (``widened``). The group meets
a target when the best cell's widened low end reaches it, and misses it only when every
cell's widened high end is below it.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from statistics import NormalDist

import pandas as pd

from bench.codec_axes import NOT_MEASURED
from bench.newest_code import ROW_KEYS, current_rows, sweep_rows
from bench.schema import BEYOND, INCONCLUSIVE, MEETS, MISSES

logger = logging.getLogger(__name__)

TARGETS = (2.0, 4.0)
NO_DATA = "no valid data"
VERDICTS = (MEETS, MISSES, INCONCLUSIVE, BEYOND)
GROUP_KEYS = list(ROW_KEYS)
BASELINE_NAMES = {"reference": "vs the old way", "sequential": "vs own sequential"}
#: the confidence of every interval in the results table
CONFIDENCE = 0.95


def family_confidence(family: int, confidence: float = CONFIDENCE) -> float:
    """The level each of ``family`` intervals needs so that they all hold together at
    ``confidence`` at least (Bonferroni)."""
    return 1.0 - (1.0 - confidence) / max(1, family)


def widened(
    point: float, low: float, high: float, family: int, confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """The interval of ``point`` at ``family_confidence(family)``, from its interval
    (``low``, ``high``) at ``confidence``: each side's distance from the point on a log scale
    grows as the normal quantiles do (a ratio's bootstrap interval is close to log-normal).
    One member, or a bound that is missing or not positive, leaves the interval as it is."""
    if family <= 1 or not all(x > 0 for x in (point, low, high)):  # NaN fails too
        return low, high
    quantile = NormalDist().inv_cdf
    scale = quantile(1 - (1 - family_confidence(family, confidence)) / 2) / quantile(
        1 - (1 - confidence) / 2
    )
    return point * (low / point) ** scale, point * (high / point) ** scale


def classify(low: float, high: float, target: float, ceiling: float = math.inf) -> str:
    """meets / misses / inconclusive / beyond this machine for an interval and a target."""
    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return INCONCLUSIVE
    if low >= target:
        return MEETS
    if target > ceiling:
        return BEYOND
    if high < target:
        return MISSES
    return INCONCLUSIVE


@dataclass(frozen=True)
class Verdict:
    """The best trustworthy parallel cell of one group, and what it says per target."""

    machine_key: str
    operation: str
    format: str
    workload: str
    speedup: float  # vs own sequential (the scaling view)
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
    gain: float = math.nan  # vs the baseline the verdicts use (the old way when measured)
    gain_low: float = math.nan
    gain_high: float = math.nan
    baseline: str = "reference"
    noisy_cells: int = 0
    median_s: float = math.nan  # the best cell's median time
    #: the configurations the best was picked from; above 1 the intervals shown are widened
    #: to ``family_confidence(family)`` (module docstring)
    family: int = 1
    #: whether a steady cell decided (not so for a group of noisy cells only: no verdict)
    judged: bool = True

    @property
    def confidence(self) -> float:
        """The level of the intervals shown: 95%, or more for the best of a family."""
        return family_confidence(self.family)

    @property
    def verdicts(self) -> dict[str, str]:
        return {"2x": self.verdict_2x, "4x": self.verdict_4x}

    @property
    def baseline_name(self) -> str:
        return BASELINE_NAMES.get(self.baseline, self.baseline)


def not_measured(table: pd.DataFrame) -> pd.Series:
    """Rows of cells the sweep did not run because the machine lacks an optional package
    (``bench.codec_axes.missing_package``): nothing went wrong, there is nothing to judge."""
    return table["invalid_reason"].astype(str).str.startswith(NOT_MEASURED)


def parallel_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Rows that can take part in a verdict: parallel variant, usable columns, real hardware
    (an emulated run's timings say nothing about the CPU it pretends to be), measured, not
    slowed by a throttled CPU (tables written before bench marked such cells noisy), and of a
    sweep, not of a side-by-side check of one (``sweep_rows``)."""
    if table.empty:
        return table
    real = ~table["emulated"].astype(bool) if "emulated" in table else True
    steady_clock = ~table["throttled"].astype(bool) if "throttled" in table else True
    return sweep_rows(
        current_rows(
            table[
                (table["variant"] == "parallel")
                & table["_usable"].astype(bool)
                & real
                & steady_clock
                & ~not_measured(table)
            ]
        )
    )


def with_gain(rows: pd.DataFrame) -> pd.DataFrame:
    """Add ``_gain``/``_gain_low``/``_gain_high``/``_baseline``: vs the old way where measured."""
    rows = rows.copy()
    on_ref = rows["speedup_vs_reference"].notna() & rows["speedup_vs_reference_ci_low"].notna()
    rows["_gain"] = rows["speedup_vs_reference"].where(on_ref, rows["speedup"])
    rows["_gain_low"] = rows["speedup_vs_reference_ci_low"].where(on_ref, rows["speedup_ci_low"])
    rows["_gain_high"] = rows["speedup_vs_reference_ci_high"].where(on_ref, rows["speedup_ci_high"])
    rows["_baseline"] = on_ref.map({True: "reference", False: "sequential"})
    return rows


def _ceiling(row: pd.Series) -> float:
    cores = row.get("cores_usable")
    if cores is None or cores != cores:
        return math.inf
    if row["_baseline"] == "reference":
        speedup, gain = row.get("speedup"), row.get("_gain")
        if speedup and gain and speedup == speedup and gain == gain and speedup > 0:
            return float(cores) * max(1.0, gain / speedup)  # sequential's own gain
    return float(cores)


def _stated_or_derived(row: pd.Series, column: str, target: float) -> str:
    stated = str(row.get(column, "") or "").strip().lower()
    if stated in VERDICTS:
        return stated
    return classify(row["_gain_low"], row["_gain_high"], target, _ceiling(row))


def _no_data(key: tuple, invalid_count: int) -> Verdict:
    machine, operation, fmt, workload = key
    nan = math.nan
    return Verdict(
        machine, operation, fmt, workload, nan, nan, nan, nan, nan, "", NO_DATA, NO_DATA,
        0, invalid_count, nan, note=f"all {invalid_count} cell(s) invalid",
    )  # fmt: skip


def _family_verdict(rows: pd.DataFrame, best: pd.Series, target: float) -> str:
    """A group's verdict from its cells' widened intervals (module docstring)."""
    if best["_family_low"] >= target:
        return MEETS
    if target > _ceiling(best):
        return BEYOND
    if (rows["_family_high"] < target).all():
        return MISSES
    return INCONCLUSIVE


def _with_family_intervals(rows: pd.DataFrame) -> pd.DataFrame:
    """Add ``_family_low``/``_family_high`` (the gain's) and ``_family_ci_low``/``_high``
    (the speedup's): each cell's interval widened for a family of ``len(rows)`` cells."""
    family = len(rows)
    rows = rows.copy()
    for point, low, high, out in (
        ("_gain", "_gain_low", "_gain_high", "_family"),
        ("speedup", "speedup_ci_low", "speedup_ci_high", "_family_ci"),
    ):
        bounds = [
            widened(float(p), float(lo), float(hi), family)
            for p, lo, hi in zip(rows[point], rows[low], rows[high])
        ]
        rows[f"{out}_low"] = [b[0] for b in bounds]
        rows[f"{out}_high"] = [b[1] for b in bounds]
    return rows


def _verdict_for_group(key: tuple, group: pd.DataFrame) -> Verdict:
    machine, operation, fmt, workload = key
    valid = group[group["valid"]]
    invalid_count = len(group) - len(valid)
    if valid.empty:
        return _no_data(key, invalid_count)
    valid = with_gain(valid)
    measured = valid.dropna(subset=["_gain"])
    steady = measured[~measured["noisy"].astype(bool)]
    noisy_count = len(measured) - len(steady)
    family = 1
    if measured.empty:
        best = valid.iloc[0]
        note = "no baseline, gain unknown"
        v2 = v4 = INCONCLUSIVE
    elif steady.empty:
        best = measured.loc[measured["_gain"].idxmax()]
        note = f"only noisy cells ({noisy_count}): no verdict"
        v2 = v4 = INCONCLUSIVE
    elif len(steady) == 1:
        best = steady.iloc[0]
        note = f"{noisy_count} noisy cell(s) left out" if noisy_count else ""
        v2 = _stated_or_derived(best, "verdict_2x", TARGETS[0])
        v4 = _stated_or_derived(best, "verdict_4x", TARGETS[1])
    else:  # the best of several: judged as a family (module docstring)
        family = len(steady)
        steady = _with_family_intervals(steady)
        best = steady.loc[steady["_gain"].idxmax()].copy()
        note = f"{noisy_count} noisy cell(s) left out" if noisy_count else ""
        v2 = _family_verdict(steady, best, TARGETS[0])
        v4 = _family_verdict(steady, best, TARGETS[1])
        best["_gain_low"], best["_gain_high"] = best["_family_low"], best["_family_high"]
        best["speedup_ci_low"], best["speedup_ci_high"] = (
            best["_family_ci_low"],
            best["_family_ci_high"],
        )
    if not steady.empty and (math.isnan(best["_gain_low"]) or math.isnan(best["_gain_high"])):
        note = "no confidence interval"
    return Verdict(
        machine,
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
        float(best["_gain"]),
        float(best["_gain_low"]),
        float(best["_gain_high"]),
        str(best["_baseline"]),
        noisy_count,
        float(best["median_s"]),
        family,
        judged=not steady.empty,
    )


def best_verdicts(table: pd.DataFrame) -> list[Verdict]:
    """One Verdict per (machine, operation, format, workload) seen among parallel rows."""
    rows = parallel_rows(table)
    if rows.empty:
        return []
    verdicts = [
        _verdict_for_group(key, group)
        for key, group in rows.groupby(GROUP_KEYS, sort=False, dropna=False)
    ]
    order = {k: i for i, k in enumerate(dict.fromkeys(rows["machine_key"]))}
    verdicts.sort(key=lambda v: (order.get(v.machine_key, 0), v.operation, v.format, v.workload))
    return verdicts


def _slower_than_the_old_way(rows: pd.DataFrame) -> pd.Series:
    return (
        rows["valid"].astype(bool)
        & (rows["variant"] != "reference")
        & (rows["speedup_vs_reference_ci_high"] < 1.0)
    )


def _configuration_keys(rows: pd.DataFrame) -> list[str]:
    """What makes two rows the same configuration of the same code on the same machine."""
    return ["machine_key", "cell_id", *(["_code"] if "_code" in rows else [])]


def _side_by_side_checks(rows: pd.DataFrame) -> pd.DataFrame:
    """The newest valid side-by-side row with an interval of each configuration (its ratio
    to the old way timed in paired rounds: ``side_by_side``)."""
    if "side_by_side" not in rows:
        return rows.iloc[0:0]
    checks = rows[
        rows["side_by_side"].astype(bool)
        & rows["valid"].astype(bool)
        & rows["speedup_vs_reference_ci_high"].notna()
    ]
    if "_run_order" in checks:
        checks = checks.sort_values("_run_order", kind="stable")
    return checks.drop_duplicates(_configuration_keys(checks), keep="last")


def _checked(rows: pd.DataFrame, checks: pd.DataFrame) -> pd.Series:
    """Which of ``rows`` are of a configuration ``checks`` holds a row of."""
    keys = _configuration_keys(rows)
    checked = set(checks[keys].astype(str).itertuples(index=False, name=None))
    return pd.Series(
        [tuple(row) in checked for row in rows[keys].astype(str).itertuples(index=False)],
        index=rows.index,
        dtype=bool,
    )


def regressions(table: pd.DataFrame) -> pd.DataFrame:
    """Valid configurations slower than the old way (interval high end below 1), worst first.

    Where the same configuration of the same code was also timed side by side with the old way
    (``side_by_side``: paired rounds in one process, as ``archive-bench run`` checks what its
    sweep read slower), the newest such row decides for it, alone: a sweep times each cell in
    its own minutes, and a load or a disk's writeback that struck only the old way's cell
    reads as a regression there, where paired rounds share it."""
    if table.empty:
        return table
    rows = current_rows(table)
    checks = _side_by_side_checks(rows)
    sweep = rows[~_checked(rows, checks)]
    judged = pd.concat([sweep, checks]) if not checks.empty else sweep
    return judged[_slower_than_the_old_way(judged)].sort_values("speedup_vs_reference")


@dataclass(frozen=True)
class ClearedRegression:
    """A configuration a sweep read slower than the old way (``sweep``) that its side-by-side
    check (``check``) did not find slower."""

    sweep: pd.Series
    check: pd.Series


def cleared_regressions(table: pd.DataFrame) -> list[ClearedRegression]:
    """The rows a sweep read slower than the old way that the newest side-by-side timing of
    the same configuration and code did not (``regressions`` leaves them out), worst first."""
    if table.empty:
        return []
    rows = current_rows(table)
    checks = _side_by_side_checks(rows)
    if checks.empty:
        return []
    keys = _configuration_keys(rows)
    cleared = checks[~_slower_than_the_old_way(checks)]
    by_key = {tuple(map(str, r[keys])): r for _, r in cleared.iterrows()}
    sweep = rows[~rows["side_by_side"].astype(bool) & _slower_than_the_old_way(rows)]
    out: dict[tuple[str, ...], ClearedRegression] = {}
    for _, r in sweep.sort_values("speedup_vs_reference").iterrows():
        key = tuple(map(str, r[keys]))
        if key in by_key and key not in out:  # the worst sweep reading of it
            out[key] = ClearedRegression(r, by_key[key])
    return list(out.values())


def tally(verdicts: list[Verdict], target: str) -> dict[str, int]:
    """How many groups meet, miss, are inconclusive, beyond the machine, or have no data."""
    counts = dict.fromkeys((*VERDICTS, NO_DATA), 0)
    for verdict in verdicts:
        counts[verdict.verdicts[target]] += 1
    return counts
