"""Recommended defaults per machine: from ``tuned.json`` when tuning ran, else from the data.

``archive-bench tune`` writes ``results/<machine_key>/tuned.json`` with the settings to ship
and why. Where it has not run, the report still suggests a configuration: the threads and
batch size with the highest geometric-mean speedup over every cell that measured them, marked
as derived so nobody mistakes it for a tuned profile.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recommendation:
    machine_key: str
    label: str
    source: str  # "tuned" or "derived" or "none"
    thread_pool_size: int | None
    parallel_batch_size: int | None
    parallel_threshold: int | None
    speedup: float
    explanation: str
    memory_budget_bytes: float = math.nan


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def from_tuned(machine_key: str, label: str, tuned: dict[str, Any]) -> Recommendation:
    settings = tuned.get("settings") or {}
    chosen = tuned.get("chosen_speedup", tuned.get("best_speedup"))
    try:
        speedup = float(chosen)
    except (TypeError, ValueError):
        speedup = math.nan
    try:
        budget = float(tuned.get("memory_budget_bytes"))
    except (TypeError, ValueError):
        budget = math.nan
    return Recommendation(
        machine_key,
        str(tuned.get("platform_label") or label),
        "tuned",
        _as_int(settings.get("thread_pool_size")),
        _as_int(settings.get("parallel_batch_size")),
        _as_int(settings.get("parallel_threshold")),
        speedup,
        str(tuned.get("explanation") or ""),
        budget,
    )


def derived(
    machine_key: str, label: str, rows: pd.DataFrame, cores: int | None = None
) -> Recommendation:
    """Best geometric-mean speedup over (threads, batch size), among configs seen most often,
    within the usable cores (more threads than cores only when nothing within them exists)."""
    mine = rows[(rows["machine_key"] == machine_key)].dropna(subset=["speedup", "threads"])
    mine = mine[mine["speedup"] > 0]
    if cores and (mine["threads"] <= cores).any():
        mine = mine[mine["threads"] <= cores]
    if mine.empty:
        return Recommendation(
            machine_key,
            label,
            "none",
            None,
            None,
            None,
            math.nan,
            "no valid parallel cell with a speedup to choose from",
        )
    keys = ["threads", "batch_size"]
    stats = mine.groupby(keys, dropna=False)["speedup"].agg(
        cells="count", geomean=lambda s: float(np.exp(np.log(s).mean()))
    )
    widest = stats["cells"].max()
    best_key = stats[stats["cells"] == widest]["geomean"].idxmax()
    best = stats.loc[best_key]
    threads, batch = best_key
    return Recommendation(
        machine_key,
        label,
        "derived",
        _as_int(threads),
        _as_int(batch) if batch == batch else None,
        None,
        float(best["geomean"]),
        f"not tuned: highest geometric-mean speedup over {int(best['cells'])} cells in these "
        "results; run 'archive-bench tune' to choose with the memory budget",
    )


def recommendations(
    platforms: list[str],
    labels: dict[str, str],
    tuned: dict[str, dict],
    rows: pd.DataFrame,
    cores: dict[str, int] | None = None,
) -> list[Recommendation]:
    result = []
    for key in platforms:
        if key in tuned:
            result.append(from_tuned(key, labels.get(key, key), tuned[key]))
        else:
            result.append(derived(key, labels.get(key, key), rows, (cores or {}).get(key)))
    return result
