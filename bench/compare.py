"""Compare two runs cell by cell: what got faster or slower, and is it significant.

Cells join on ``cell_id``. The change of each cell is new median / old median with a 95%
bootstrap interval over both runs' raw pyperf values; a cell is ``faster`` or ``slower`` only
when the interval excludes 1 and the change exceeds ``min_change``, otherwise ``same``. As a
gate (``--fail-above PCT``, the habit of ``asv continuous`` and ``pyperf compare_to``) a cell
fails when even the interval's low end is more than PCT% slower. Two runs from different
machines or core counts are compared all the same, with a warning. Raw values come from each
run's cells.jsonl (or its pyperf JSON files). A run made without pandas has no
``results.csv`` yet: its table is built first (``bench.results.build_missing_tables``, as
``report`` and ``tune`` build it). A cell valid in OLD whose output check failed in NEW is
not compared but listed apart, and fails the gate. Nothing to compare (a folder that is no
run or does not exist, no machine with two runs, a run without measured cells, no cell valid
in both) is a ``ValueError`` of one line, never an empty comparison.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
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


#: what names a cell in a comparison
CELL_KEYS = ["cell_id", "operation", "format", "workload", "scale", "variant", "threads"]
#: the columns of a comparison's table, one row per cell valid in both runs
RATIO_COLUMNS = [
    *CELL_KEYS,
    "old_median_s",
    "new_median_s",
    "time_ratio",
    "time_ratio_ci_low",
    "time_ratio_ci_high",
    "change",
]


@dataclass
class Comparison:
    """Two runs cell by cell: ``table`` compares the cells valid in both (``compare_runs``),
    ``turned_invalid`` lists the cells valid in OLD whose output check failed in NEW
    (``cell_id``, ``invalid_reason``), and ``warnings`` says why the runs may not compare."""

    old: Path
    new: Path
    table: pd.DataFrame
    turned_invalid: pd.DataFrame
    warnings: list[str]


def compare_pair(
    old: Path, new: Path, min_change: float = DEFAULT_MIN_CHANGE, gate: bool = False
) -> Comparison:
    """``old`` and ``new`` compared. ``ValueError`` in one line when there is nothing to
    compare: either run holds no measured cell (an empty table, a run stopped before its first
    cell), or no cell is valid in both, unless ``gate`` is set and cells turned invalid (then
    they are what the gate reports)."""
    read: dict[str, list[str]] = {"OLD": [], "NEW": []}
    old_t, new_t = load_results([old], read["OLD"]), load_results([new], read["NEW"])
    for side, path, found in (("OLD", old, old_t), ("NEW", new, new_t)):
        if found.empty:
            why = "; ".join(read[side]) or f"its {RESULTS_FILE} has no row"
            raise ValueError(f"{path}: {side} holds no measured cell ({why}), nothing to compare")
    merged = old_t[[*CELL_KEYS, "median_s", "valid"]].merge(
        new_t[["cell_id", "median_s", "valid", "invalid_reason"]],
        on=["cell_id"],
        suffixes=("_old", "_new"),
    )
    valid_old, valid_new = merged["valid_old"].astype(bool), merged["valid_new"].astype(bool)
    turned = merged.loc[valid_old & ~valid_new, ["cell_id", "invalid_reason"]]
    table = _ratios(merged[valid_old & valid_new], old, new, min_change)
    if table.empty and (turned.empty or not gate):
        failed = f"; {_turned_text(turned)}" if not turned.empty else ""
        raise ValueError(
            f"{old} -> {new}: no cell is valid in both runs (different scales or grids?)"
            f"{failed}, nothing to compare"
        )
    notes = [*read["OLD"], *read["NEW"], *mismatch_warnings(old, new, old_t, new_t)]
    fixed = int((~valid_old & valid_new).sum())
    if fixed:
        notes.append(f"{fixed} cell(s) invalid in OLD are valid in NEW: not compared")
    only_old = len(set(old_t["cell_id"]) - set(new_t["cell_id"]))
    if only_old:
        notes.append(f"{only_old} cell(s) of OLD are not in NEW: not compared")
    return Comparison(old, new, table, turned.reset_index(drop=True), notes)


def compare_runs(old: Path, new: Path, min_change: float = DEFAULT_MIN_CHANGE) -> pd.DataFrame:
    """One row per cell present in both runs, valid in both."""
    return compare_pair(old, new, min_change).table


def _ratios(merged: pd.DataFrame, old: Path, new: Path, min_change: float) -> pd.DataFrame:
    """One row per cell of ``merged`` (valid in both runs): new/old time, its interval."""
    old_v, new_v = raw_values(Path(old)), raw_values(Path(new))
    rows = []
    for i, r in enumerate(merged.itertuples(index=False)):
        # time ratio new/old: below 1 is faster
        inv, inv_lo, inv_hi = stats.bootstrap_ratio_ci(
            new_v.get(r.cell_id, []), old_v.get(r.cell_id, []), seed=stats.DEFAULT_SEED + i
        )
        rows.append(
            {
                **{k: getattr(r, k) for k in CELL_KEYS},
                "old_median_s": r.median_s_old,
                "new_median_s": r.median_s_new,
                "time_ratio": inv,
                "time_ratio_ci_low": inv_lo,
                "time_ratio_ci_high": inv_hi,
                "change": classify(inv_lo, inv_hi, inv, min_change),
            }
        )
    return pd.DataFrame(rows, columns=RATIO_COLUMNS)


def _turned_text(turned: pd.DataFrame) -> str:
    """ "2 cell(s) valid in OLD failed their output check in NEW: a, b" """
    names = ", ".join(turned["cell_id"].astype(str).head(5))
    more = ", ..." if len(turned) > 5 else ""
    return f"{len(turned)} cell(s) valid in OLD failed their output check in NEW: {names}{more}"


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


def mismatch_warnings(
    old: Path, new: Path, old_table: pd.DataFrame, new_table: pd.DataFrame
) -> list[str]:
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
    scales_a = set(old_table["scale"].dropna())
    scales_b = set(new_table["scale"].dropna())
    if scales_a and scales_b and scales_a != scales_b:
        notes.append(
            "different workload scales: "
            f"{', '.join(f'{x:g}' for x in sorted(scales_a))} -> "
            f"{', '.join(f'{x:g}' for x in sorted(scales_b))}; only cells at the same scale match"
        )
    return notes


def regressions(table: pd.DataFrame, fail_above_pct: float) -> list[str]:
    """Cells slower by more than ``fail_above_pct`` percent with 95% confidence."""
    limit = 1.0 + fail_above_pct / 100.0
    return table.loc[table["time_ratio_ci_low"] > limit, "cell_id"].tolist()


def gate_failures(comparison: Comparison, fail_above_pct: float) -> list[str]:
    """What fails the gate, one line each: cells slower by more than ``fail_above_pct``
    percent with 95% confidence, and cells whose output check failed in NEW only."""
    lines = []
    slower = regressions(comparison.table, fail_above_pct)
    if slower:
        lines.append(
            f"{len(slower)} cell(s) slower by more than {fail_above_pct:g}% with 95% "
            f"confidence ({comparison.old} -> {comparison.new})"
        )
    if not comparison.turned_invalid.empty:
        lines.append(
            f"{_turned_text(comparison.turned_invalid)} ({comparison.old} -> {comparison.new})"
        )
    return lines


def _row_text(r) -> str:
    return (
        f"{r.cell_id}: {r.old_median_s:.4g}s -> {r.new_median_s:.4g}s "
        f"(x{r.time_ratio:.3f}, 95% CI {r.time_ratio_ci_low:.3f}-{r.time_ratio_ci_high:.3f})"
    )


def format_comparison(
    comparison: Comparison, fmt: str = "text", fail_above_pct: float | None = None
) -> str:
    """The comparison as text (default), Markdown or JSON. Cells valid in OLD whose output
    check failed in NEW are listed apart, and fail the gate (``fail_above_pct``)."""
    table, turned = comparison.table, comparison.turned_invalid
    old, new = comparison.old, comparison.new
    gate = fail_above_pct is not None
    failing = set(regressions(table, fail_above_pct)) if gate else set()
    if gate:
        failing |= set(turned["cell_id"])
    if fmt == "json":
        rows = json.loads(table.to_json(orient="records")) if not table.empty else []
        for row in rows:
            row["fails_gate"] = row["cell_id"] in failing
        return json.dumps(
            {
                "old": str(old),
                "new": str(new),
                "fail_above_pct": fail_above_pct,
                "warnings": comparison.warnings,
                "failing_cells": sorted(failing),
                "turned_invalid": json.loads(turned.to_json(orient="records")),
                "cells": rows,
            },
            indent=1,
        )
    turned_lines = [
        f"{r.cell_id}: {r.invalid_reason or 'no reason recorded'}" for r in turned.itertuples()
    ]
    if fmt == "markdown":
        lines = [f"## {old} -> {new}", ""]
        if not table.empty:
            lines += [
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
        if turned_lines:
            lines += ["", f"**Output check failed in NEW only** ({len(turned)} cell(s)):", ""]
            lines += [f"- {line}" for line in turned_lines]
        return "\n".join(lines)
    lines = [f"{old} -> {new}"]
    for change in ("faster", "slower", "same", "unknown"):
        part = table[table["change"] == change].sort_values("time_ratio")
        lines.append(f"{change}: {len(part)} cell(s)")
        if change in ("faster", "slower"):
            lines += [f"  {_row_text(r)}" for r in part.itertuples(index=False)]
    if turned_lines:
        lines.append(f"invalid in NEW only (output check failed): {len(turned)} cell(s)")
        lines += [f"  {line}" for line in turned_lines]
    return "\n".join(lines)
