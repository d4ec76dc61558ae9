"""Warnings about the data: what to distrust before reading a number.

Load problems (missing files, columns, unreadable values), invalid cells (kept in the table,
left out of verdicts), noisy cells, throttled cells or machines, unfinished runs and groups
without a sequential baseline. Each warning is a title and a list of lines, for the HTML and
for the terminal summary alike.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pandas as pd

from bench.codec_axes import NOT_MEASURED
from reports.loading import ResultSet
from reports.verdicts import NO_DATA, Verdict, not_measured

logger = logging.getLogger(__name__)

THROTTLE_CLEAR = {"", "0x0", "0", "none", "null"}


@dataclass
class Warning_:
    level: str  # "error" (numbers affected) or "note"
    title: str
    items: list[str] = field(default_factory=list)


def _cell_name(row: pd.Series) -> str:
    fmt = row["format"] or "-"
    threads = "n/a" if row["threads"] != row["threads"] else int(row["threads"])
    return (
        f"{row['machine_key']}: {row['operation']} {fmt} {row['workload']} "
        f"({row['variant']}, {threads} threads, cell {row['cell_id'] or '?'})"
    )


def invalid_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Cells whose run failed or whose output was wrong (not those never run for want of an
    optional package)."""
    if table.empty:
        return table
    return table[~table["valid"].astype(bool) & ~not_measured(table)]


def unmeasured_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Cells the sweep did not run: an optional package is not installed on the machine."""
    if table.empty:
        return table
    return table[not_measured(table)]


def collect(result_set: ResultSet, verdicts: list[Verdict]) -> list[Warning_]:
    warnings: list[Warning_] = []
    table = result_set.table
    if result_set.problems:
        warnings.append(Warning_("error", "Problems reading the results", result_set.problems))
    invalid = invalid_rows(table)
    if not invalid.empty:
        warnings.append(
            Warning_(
                "error",
                f"{len(invalid)} invalid cell(s): output not verified, left out of verdicts",
                [
                    f"{_cell_name(r)}: {r['invalid_reason'] or 'no reason recorded'}"
                    for _, r in invalid.iterrows()
                ],
            )
        )
    skipped = unmeasured_rows(table)
    if not skipped.empty:
        warnings.append(
            Warning_(
                "note",
                f"{len(skipped)} cell(s) not measured: an optional package is not installed",
                [
                    f"{_cell_name(r)}: {r['invalid_reason'].removeprefix(NOT_MEASURED)}"
                    for _, r in skipped.iterrows()
                ],
            )
        )
    if not table.empty:
        noisy = table[table["noisy"].astype(bool)]
        if not noisy.empty:
            warnings.append(
                Warning_(
                    "note",
                    f"{len(noisy)} noisy cell(s): timings unstable, intervals wide",
                    [f"{_cell_name(r)}: {r['noise_note'] or 'noisy'}" for _, r in noisy.iterrows()],
                )
            )
        throttled = table[table["throttled"].astype(bool)]
        if not throttled.empty:
            warnings.append(
                Warning_(
                    "error",
                    f"{len(throttled)} cell(s) measured while the CPU was throttled",
                    [_cell_name(r) for _, r in throttled.iterrows()],
                )
            )
    machine_notes = []
    for run in result_set.runs:
        flag = str(run.fingerprint.get("throttled_after") or "").strip().lower()
        if flag not in THROTTLE_CLEAR:
            flags = run.fingerprint.get("throttled_flags_after") or []
            machine_notes.append(
                f"{run.machine_key} run {run.run_id}: throttled={flag} after the run "
                f"{', '.join(map(str, flags))}".rstrip()
            )
    if machine_notes:
        warnings.append(Warning_("error", "Machine throttling reported", machine_notes))
    unmeasured = [
        f"{v.machine_key}: {v.operation} {v.format or '-'} {v.workload}: {v.note}"
        for v in verdicts
        if v.note and v.verdict_2x != NO_DATA
    ]
    no_data = [
        f"{v.machine_key}: {v.operation} {v.format or '-'} {v.workload}: {v.note}"
        for v in verdicts
        if v.verdict_2x == NO_DATA
    ]
    if no_data:
        warnings.append(Warning_("error", "Cells with no valid measurement", no_data))
    if unmeasured:
        warnings.append(Warning_("note", "Verdicts without a full interval", unmeasured))
    return warnings
