"""Compare two runs cell by cell: what got faster or slower, and is it significant.

Cells join on ``cell_id`` (same platform). The change of each cell is new median / old
median with a 95% bootstrap interval over both runs' raw pyperf values; a cell is ``faster``
or ``slower`` only when the interval excludes 1 and the change exceeds ``min_change``,
otherwise ``same``. Raw values come from each run's pyperf JSON files (or its cells.jsonl).
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import pandas as pd

from bench import stats
from bench.results import load_results, read_records

logger = logging.getLogger(__name__)

DEFAULT_MIN_CHANGE = 0.03


def raw_values(run_dir: Path) -> dict[str, list[float]]:
    """cell_id -> raw values of a run (cells.jsonl, else pyperf JSON files)."""
    values = {
        r["cell_id"]: list(r.get("values", [])) for r in read_records(run_dir / "cells.jsonl")
    }
    if values:
        return values
    for path in sorted((run_dir / "pyperf").glob("*.json")):
        try:
            import pyperf

            values[path.stem] = list(pyperf.Benchmark.load(str(path)).get_values())
        except (OSError, ValueError, json.JSONDecodeError) as exc:
            logger.warning("unreadable pyperf file %s: %s", path, exc)
    return values


def classify(low: float, high: float, ratio: float, min_change: float) -> str:
    if any(math.isnan(x) for x in (low, high, ratio)):
        return "unknown"
    if high < 1.0 and ratio <= 1.0 - min_change:
        return "faster"
    if low > 1.0 and ratio >= 1.0 + min_change:
        return "slower"
    return "same"


def compare_runs(old: Path, new: Path, min_change: float = DEFAULT_MIN_CHANGE) -> pd.DataFrame:
    """One row per cell present in both runs, valid in both."""
    old_t, new_t = load_results([old]), load_results([new])
    old_v, new_v = raw_values(Path(old)), raw_values(Path(new))
    keep = ["cell_id", "platform_key", "operation", "format", "workload", "variant", "threads"]
    merged = old_t[[*keep, "median_s", "valid"]].merge(
        new_t[["cell_id", "platform_key", "median_s", "valid"]],
        on=["cell_id", "platform_key"],
        suffixes=("_old", "_new"),
    )
    merged = merged[merged["valid_old"].astype(bool) & merged["valid_new"].astype(bool)]
    rows = []
    for i, r in enumerate(merged.itertuples(index=False)):
        # time ratio new/old: below 1 is faster
        inv, inv_lo, inv_hi = stats.bootstrap_ratio_ci(
            new_v.get(r.cell_id, []), old_v.get(r.cell_id, []), seed=stats.DEFAULT_SEED + i
        )
        rows.append(
            {
                **{k: getattr(r, k) for k in keep},
                "old_median_s": r.median_s_old,
                "new_median_s": r.median_s_new,
                "time_ratio": inv,
                "time_ratio_ci_low": inv_lo,
                "time_ratio_ci_high": inv_hi,
                "change": classify(inv_lo, inv_hi, inv, min_change),
            }
        )
    return pd.DataFrame(rows)


def latest_runs(results_root: Path) -> dict[str, list[Path]]:
    """platform_key -> its run folders (with results.csv), oldest first."""
    runs: dict[str, list[Path]] = {}
    for csv in sorted(results_root.glob("*/*/results.csv")):
        runs.setdefault(csv.parent.parent.name, []).append(csv.parent)
    return {k: sorted(v, key=lambda p: p.name) for k, v in runs.items()}


def format_comparison(table: pd.DataFrame) -> str:
    if table.empty:
        return "no cell is valid in both runs"
    lines = []
    for change in ("faster", "slower", "same", "unknown"):
        part = table[table["change"] == change].sort_values("time_ratio")
        lines.append(f"{change}: {len(part)} cell(s)")
        if change in ("faster", "slower"):
            for r in part.itertuples(index=False):
                lines.append(
                    f"  {r.cell_id}: {r.old_median_s:.4g}s -> {r.new_median_s:.4g}s "
                    f"(x{r.time_ratio:.3f}, 95% CI {r.time_ratio_ci_low:.3f}-"
                    f"{r.time_ratio_ci_high:.3f})"
                )
    return "\n".join(lines)
