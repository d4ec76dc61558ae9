"""Tables shaped for charts: one row per configuration, and the scaling curve of a verdict.

A results root can hold several runs of the same cell on one machine. Charts show one value
per configuration, the one from the latest run (run ids start with a timestamp), so a curve
is one sweep, not a mix. Verdicts, by contrast, look at every valid row (verdicts.py).
"""

from __future__ import annotations

import logging

import pandas as pd

from reports.verdicts import Verdict, parallel_rows

logger = logging.getLogger(__name__)

CONFIG_KEYS = [
    "machine_key",
    "operation",
    "format",
    "workload",
    "scale",
    "variant",
    "threads",
    "batch_size",
    "backend",
]
MIB = 2**20


def latest_valid_parallel(table: pd.DataFrame) -> pd.DataFrame:
    """Valid parallel rows, one per configuration (latest run wins)."""
    rows = parallel_rows(table)
    if rows.empty:
        return rows
    rows = rows[rows["valid"]].sort_values("run_id", kind="stable")
    return rows.drop_duplicates(subset=CONFIG_KEYS, keep="last")


def curve_for(rows: pd.DataFrame, verdict: Verdict) -> pd.DataFrame:
    """The scaling curve (speedup over threads) at the verdict's batch size and backend."""
    same_group = (
        (rows["machine_key"] == verdict.machine_key)
        & (rows["operation"] == verdict.operation)
        & (rows["format"] == verdict.format)
        & (rows["workload"] == verdict.workload)
    )
    same_config = (rows["backend"] == verdict.backend) & (
        (rows["batch_size"] == verdict.batch_size)
        | (rows["batch_size"].isna() & pd.isna(verdict.batch_size))
    )
    curve = rows[same_group & same_config].dropna(subset=["threads", "speedup"])
    # Several scales of one workload can coexist; keep one value per thread count.
    curve = curve.sort_values(["threads", "speedup"]).drop_duplicates("threads", keep="last")
    return curve.sort_values("threads")


def series_label(fmt: str, workload: str | None = None) -> str:
    """A readable name for a format (checksum and walk have none)."""
    name = fmt or "no format"
    return f"{name} / {workload}" if workload else name
