"""Compare two runs cell by cell: what got faster or slower, and is it significant.

Cells join on ``cell_id``. The change of each cell is new median / old median with a 95%
bootstrap interval over both runs' raw pyperf values; a cell is ``faster`` or ``slower`` only
when the interval excludes 1 and the change exceeds ``min_change``, otherwise ``same``. As a
gate (``--fail-above PCT``, the habit of ``asv continuous`` and ``pyperf compare_to``) a cell
fails when even the interval's low end is more than PCT% slower. Two runs from different
machines or core counts are compared all the same, with a warning. Raw values come from each
run's cells.jsonl (or its pyperf JSON files). A run made without pandas has no
``results.csv`` yet: its table is built first (``bench.results.build_missing_tables``, as
``report`` and ``tune`` build it). Nothing to compare (a folder that is no run or does not
exist, no machine with two runs) is a ``ValueError`` of one line, never an empty comparison.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import pandas as pd

from bench import stats
from bench.results import build_missing_tables, load_results, read_records
from bench.schema import (
    CELLS_FILE,
    FINGERPRINT_FILE,
    RESULTS_FILE,
    RUN_FILE,
    SIDE_BY_SIDE_PRESETS,
)

logger = logging.getLogger(__name__)

DEFAULT_MIN_CHANGE = 0.03


def raw_values(run_dir: Path) -> dict[str, list[float]]:
    """cell_id -> raw values of a run (cells.jsonl, else pyperf JSON files)."""
    values = {r["cell_id"]: list(r.get("values", [])) for r in read_records(run_dir / CELLS_FILE)}
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
    keep = ["cell_id", "operation", "format", "workload", "scale", "variant", "threads"]
    merged = old_t[[*keep, "median_s", "valid"]].merge(
        new_t[["cell_id", "median_s", "valid"]], on=["cell_id"], suffixes=("_old", "_new")
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


def is_sweep(run_dir: Path) -> bool:
    """Whether ``run_dir`` is a sweep, not a side-by-side check of one (its run.json's preset
    is none of ``SIDE_BY_SIDE_PRESETS``; a run.json that cannot be read counts as a sweep)."""
    try:
        preset = json.loads((run_dir / RUN_FILE).read_text(encoding="utf-8")).get("preset")
    except (OSError, ValueError, AttributeError):
        return True
    return preset not in SIDE_BY_SIDE_PRESETS


def latest_runs(results_root: Path) -> dict[str, list[Path]]:
    """machine key (folder) -> its sweeps' run folders (with results.csv), oldest first."""
    runs: dict[str, list[Path]] = {}
    for csv in sorted(results_root.glob(f"*/*/{RESULTS_FILE}")):
        if is_sweep(csv.parent):
            runs.setdefault(csv.parent.parent.name, []).append(csv.parent)
    return {k: sorted(v, key=lambda p: p.name) for k, v in runs.items()}


def run_table(run_dir: Path) -> Path:
    """``run_dir``, its ``results.csv`` built from ``cells.jsonl`` first when it has none (a
    run made without pandas), as ``report`` and ``tune`` build it; ``ValueError`` in one line
    when it is no run folder."""
    if not run_dir.is_dir():
        raise ValueError(f"{run_dir}: no such folder")
    if (run_dir / CELLS_FILE).is_file():
        build_missing_tables([run_dir])
    if not (run_dir / RESULTS_FILE).is_file():
        raise ValueError(f"{run_dir}: not a run folder (no {RESULTS_FILE} or {CELLS_FILE})")
    return run_dir


def run_pairs(
    old: Path | None, new: Path | None, results_root: Path
) -> tuple[list[tuple[Path, Path]], list[str]]:
    """The (old, new) runs to compare and notes for stderr: ``old`` and ``new`` when given,
    else each machine's newest two sweeps under ``results_root`` (tables built where missing;
    side-by-side checks, ``is_sweep``, are left out).
    ``ValueError`` in one line when there is nothing to compare: a folder that is not a run
    or does not exist, or no machine with two runs."""
    if old is not None and new is not None:
        return [(run_table(old), run_table(new))], []
    if not results_root.is_dir():
        raise ValueError(f"{results_root}: no such folder, nothing to compare (--results DIR)")
    build_missing_tables([results_root])
    runs = latest_runs(results_root)
    pairs = [(found[-2], found[-1]) for found in runs.values() if len(found) >= 2]
    lonely = [key for key, found in runs.items() if len(found) < 2]
    if not runs:
        raise ValueError(f"{results_root}: no runs in it, nothing to compare")
    if not pairs:
        raise ValueError(
            f"{results_root}: nothing to compare, every machine has one sweep only "
            f"({', '.join(lonely)}); give OLD and NEW, or measure again"
        )
    return pairs, [f"{key}: only one sweep, nothing to compare" for key in lonely]


def _fingerprint(run_dir: Path) -> dict:
    try:
        return json.loads((Path(run_dir) / FINGERPRINT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def mismatch_warnings(old: Path, new: Path) -> list[str]:
    """Why the two runs may not be comparable: other machine, other usable cores, scales."""
    a, b = _fingerprint(old), _fingerprint(new)
    notes = [
        f"{side} {path} is a side-by-side check of a sweep, not a sweep: it holds only the "
        "cells it checked, timed another way"
        for side, path in (("OLD", old), ("NEW", new))
        if not is_sweep(path)
    ]
    name_a, name_b = (
        a.get("machine") or a.get("platform_key"),
        b.get("machine") or b.get("platform_key"),
    )
    if name_a != name_b:
        notes.append(f"different machines: {name_a} -> {name_b}; differences may be the machine")
    if a.get("cores_usable") != b.get("cores_usable"):
        notes.append(f"different usable cores: {a.get('cores_usable')} -> {b.get('cores_usable')}")
    scales_a = set(load_results([old])["scale"].dropna())
    scales_b = set(load_results([new])["scale"].dropna())
    if scales_a and scales_b and scales_a != scales_b:
        notes.append(
            "different workload scales: "
            f"{', '.join(f'{x:g}' for x in sorted(scales_a))} -> "
            f"{', '.join(f'{x:g}' for x in sorted(scales_b))}; only cells at the same scale match"
        )
    return notes


def regressions(table: pd.DataFrame, fail_above_pct: float) -> list[str]:
    """Cells slower by more than ``fail_above_pct`` percent with 95% confidence."""
    if table.empty:
        return []
    limit = 1.0 + fail_above_pct / 100.0
    return table.loc[table["time_ratio_ci_low"] > limit, "cell_id"].tolist()


def _row_text(r) -> str:
    return (
        f"{r.cell_id}: {r.old_median_s:.4g}s -> {r.new_median_s:.4g}s "
        f"(x{r.time_ratio:.3f}, 95% CI {r.time_ratio_ci_low:.3f}-{r.time_ratio_ci_high:.3f})"
    )


def format_comparison(
    table: pd.DataFrame,
    old: Path | None = None,
    new: Path | None = None,
    fmt: str = "text",
    fail_above_pct: float | None = None,
) -> str:
    """The comparison as text (default), Markdown or JSON."""
    failing = set(regressions(table, fail_above_pct)) if fail_above_pct is not None else set()
    if fmt == "json":
        rows = json.loads(table.to_json(orient="records")) if not table.empty else []
        for row in rows:
            row["fails_gate"] = row["cell_id"] in failing
        return json.dumps(
            {
                "old": str(old),
                "new": str(new),
                "fail_above_pct": fail_above_pct,
                "warnings": mismatch_warnings(old, new) if old and new else [],
                "failing_cells": sorted(failing),
                "cells": rows,
            },
            indent=1,
        )
    if table.empty:
        return "no cell is valid in both runs (different scales or grids?)"
    if fmt == "markdown":
        lines = [
            f"## {old} -> {new}",
            "",
            "| cell | old | new | new/old | 95% interval | change |",
            "|---|--:|--:|--:|--:|---|",
        ]
        for r in table.sort_values("time_ratio", ascending=False).itertuples(index=False):
            flag = " **fails gate**" if r.cell_id in failing else ""
            lines.append(
                f"| {r.cell_id} | {r.old_median_s:.4g}s | {r.new_median_s:.4g}s | "
                f"{r.time_ratio:.3f} | {r.time_ratio_ci_low:.3f}-{r.time_ratio_ci_high:.3f} | "
                f"{r.change}{flag} |"
            )
        return "\n".join(lines)
    lines = [f"{old} -> {new}"] if old and new else []
    for change in ("faster", "slower", "same", "unknown"):
        part = table[table["change"] == change].sort_values("time_ratio")
        lines.append(f"{change}: {len(part)} cell(s)")
        if change in ("faster", "slower"):
            lines += [f"  {_row_text(r)}" for r in part.itertuples(index=False)]
    return "\n".join(lines)
