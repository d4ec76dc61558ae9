"""The results table's columns (see RESULTS_SCHEMA.md) and how a raw CSV is made tidy.

bench writes the table; this module is the reader's copy of the contract. Every value is read
as text first and converted here, so a missing column, a blank cell or a stray word becomes
NaN plus a note for the warnings section instead of an exception. Columns that the reader adds
start with an underscore.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

TEXT_COLUMNS = (
    "run_id",
    "platform_key",
    "platform_label",
    "cell_id",
    "operation",
    "format",
    "workload",
    "variant",
    "backend",
    "verdict_2x",
    "verdict_4x",
    "memory_source",
    "invalid_reason",
    "noise_note",
    "pyperf_json",
    "flamegraph",
)
NUMBER_COLUMNS = (
    "scale",
    "threads",
    "batch_size",
    "samples",
    "median_s",
    "mean_s",
    "stdev_s",
    "min_s",
    "max_s",
    "speedup",
    "speedup_ci_low",
    "speedup_ci_high",
    "speedup_vs_reference",
    "speedup_vs_reference_ci_low",
    "speedup_vs_reference_ci_high",
    "efficiency",
    "peak_rss_bytes",
    "peak_heap_bytes",
    "memory_delta_bytes",
    "bytes_processed",
    "files_processed",
    "throughput_mb_s",
    "serial_fraction",
)
FLAG_COLUMNS = ("valid", "noisy", "throttled", "emulated")
ALL_COLUMNS = TEXT_COLUMNS + NUMBER_COLUMNS + FLAG_COLUMNS

# Without these a row cannot be placed in any verdict or chart.
ESSENTIAL_COLUMNS = ("operation", "variant", "threads", "speedup")

_BLANKS = {"", "nan", "NaN", "none", "None", "null", "NULL", "<NA>", "N/A", "n/a"}
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}


def _blank(series: pd.Series) -> pd.Series:
    return series.isna() | series.astype(str).str.strip().isin(_BLANKS)


def _to_numbers(series: pd.Series) -> tuple[pd.Series, int]:
    """Numbers, and how many non-blank values were not numbers."""
    blank = _blank(series)
    numbers = pd.to_numeric(series.where(~blank), errors="coerce").astype(float)
    bad = int((numbers.isna() & ~blank).sum())
    return numbers, bad


def _to_flags(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Booleans (unknown -> False), and a mask of the values that were not readable."""
    text = series.astype(str).str.strip().str.lower()
    known_true = text.isin(_TRUE)
    known_false = text.isin(_FALSE)
    return known_true, ~(known_true | known_false)


def normalize(raw: pd.DataFrame, source: str) -> tuple[pd.DataFrame, list[str]]:
    """Give ``raw`` (all text) every schema column with the right type; return notes."""
    notes: list[str] = []
    table = raw.copy()
    missing = [c for c in ALL_COLUMNS if c not in table.columns]
    essential_missing = [c for c in ESSENTIAL_COLUMNS if c in missing]
    if essential_missing:
        notes.append(
            f"{source}: lacks essential column(s) {', '.join(essential_missing)}; "
            "its rows cannot take part in verdicts"
        )
    optional_missing = [c for c in missing if c not in ESSENTIAL_COLUMNS]
    if optional_missing:
        notes.append(f"{source}: lacks column(s) {', '.join(optional_missing)} (shown as n/a)")

    for column in TEXT_COLUMNS:
        if column in table.columns:
            values = table[column].astype(object)
            table[column] = values.where(~_blank(values), "").astype(str).str.strip()
        else:
            table[column] = ""
    for column in NUMBER_COLUMNS:
        if column in table.columns:
            table[column], bad = _to_numbers(table[column])
            if bad:
                notes.append(f"{source}: {bad} non-numeric value(s) in '{column}' read as n/a")
        else:
            table[column] = np.nan

    # the same profile at two scales is two workloads: keep their verdicts apart
    scaled = table["scale"].notna() & (table["scale"] != 1.0) & (table["workload"] != "")
    table.loc[scaled, "workload"] = (
        table.loc[scaled, "workload"] + " x" + table.loc[scaled, "scale"].map("{:g}".format)
    )

    if "valid" in table.columns:
        flags, unreadable = _to_flags(table["valid"])
        table["valid"] = flags
        if unreadable.any():
            notes.append(
                f"{source}: {int(unreadable.sum())} row(s) without a readable 'valid' flag "
                "are treated as invalid"
            )
            reason = table["invalid_reason"].where(
                table["invalid_reason"] != "", "validity not recorded"
            )
            table.loc[unreadable, "invalid_reason"] = reason[unreadable]
    else:
        # Nothing recorded at all: the rows cannot be told apart, so keep them and say so.
        table["valid"] = True
    for column in ("noisy", "throttled", "emulated"):
        if column in table.columns:
            table[column], _ = _to_flags(table[column])
        else:
            table[column] = False
    table["_usable"] = not essential_missing
    return table, notes
