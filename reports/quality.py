"""Warnings about the data: what to distrust before reading a number.

Load problems (missing files, columns, unreadable values), invalid cells (kept in the table,
left out of verdicts), noisy cells, throttled cells or machines, unfinished runs and groups
without a sequential baseline. Each warning is a title and a list of lines, for the HTML and
for the terminal summary alike.

A Raspberry Pi's throttling state before and after the run is judged like each cell's
(``bench.fingerprint.throttled_during``): limited at either end, or a kind of limit that first
occurred during the run, is an error; "has occurred since boot" bits already set before the run
are only a note.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from bench.codec_axes import NOT_MEASURED
from bench.fingerprint import decode_throttled, throttled_during
from reports.loading import ResultSet, RunInfo
from reports.verdicts import NO_DATA, Verdict, not_measured

logger = logging.getLogger(__name__)

#: a fingerprint's throttled value that says "no Pi state was read"
THROTTLE_UNREAD = {"", "none", "null"}


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


def throttle_value(value: Any) -> int | None | str:
    """A fingerprint's get_throttled value as a number (``"0x50000"``, 327680 -> 327680).

    None where no state was read; the text itself where it is no number."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip().lower()
    if text in THROTTLE_UNREAD:
        return None
    for base in (0, 10):  # "0x50000", "327680"; base 10 also takes "0327680"
        try:
            return int(text, base)
        except ValueError:
            pass
    return str(value)


def _state(value: int | None) -> str:
    if value is None:
        return "not read"
    flags = ", ".join(decode_throttled(value))
    return f"0x{value:x}" + (f" ({flags})" if flags else "")


def machine_throttling(runs: Iterable[RunInfo]) -> tuple[list[str], list[str]]:
    """(during, before): a line per run whose Pi was throttled during the run (limited at its
    start or end, or a kind of limit first occurring in between), and per run whose "has
    occurred since boot" bits were already set before it, with no new one after it.

    A state that is no number counts as throttled: it cannot be told apart."""
    during: list[str] = []
    before: list[str] = []
    for run in runs:
        start = throttle_value(run.fingerprint.get("throttled_before"))
        end = throttle_value(run.fingerprint.get("throttled_after"))
        name = f"{run.machine_key} run {run.run_id}"
        if isinstance(start, str) or isinstance(end, str):
            during.append(f"{name}: throttling state unreadable ({start!r} before, {end!r} after)")
        elif throttled_during(start, end):
            during.append(f"{name}: throttled={_state(start)} before, {_state(end)} after the run")
        elif start or end:
            seen = _state(start if end is None else end)
            before.append(
                f"{name}: throttled={seen} already before the run; no limit active at its "
                "start or end, and no new kind of limit occurred during it"
            )
    return during, before


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
    during, before = machine_throttling(result_set.runs)
    if during:
        warnings.append(Warning_("error", "Machine throttled during the run", during))
    if before:
        warnings.append(
            Warning_("note", "Machine throttling had occurred before the run (since boot)", before)
        )
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
    superseded = superseded_runs(table)
    if superseded:
        warnings.append(
            Warning_(
                "note",
                "Runs of older code: shown, but a verdict rests on the newest code that "
                "measured it",
                superseded,
            )
        )
    return warnings


def superseded_runs(table: pd.DataFrame) -> list[str]:
    """Runs none of whose cells decides a verdict or a regression because a newer run of
    other code measured the same groups (``bench.newest_code.superseded_run_dirs``)."""
    from bench.newest_code import superseded_run_dirs

    left_out = set(superseded_run_dirs(table))
    if not left_out:
        return []
    return [
        f"{key}: run {run_id} ({folder})"
        for (key, run_id, folder), _rows in table.groupby(
            ["machine_key", "run_id", "_run_dir"], sort=False
        )
        if str(folder) in left_out
    ]
