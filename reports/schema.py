"""How a raw results CSV is made tidy, by the column kinds of ``bench.schema``.

bench writes the table; its column list (``bench.schema``, documented in
docs/results-schema.md) is the one contract, imported here rather than copied. Every value is
read as text first and converted here, so a missing column, a blank cell or a stray word
becomes NaN plus a note for the warnings section instead of an exception. A table of an
unknown schema version is read as far as it goes and flagged. Columns that the reader adds
start with an underscore.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from bench.schema import (
    ADDED_IN_VERSION_2,
    FLAG_COLUMNS,
    KNOWN_VERSIONS,
    NUMBER_COLUMNS,
    TEXT_COLUMNS,
)

logger = logging.getLogger(__name__)

ALL_COLUMNS = TEXT_COLUMNS + NUMBER_COLUMNS + FLAG_COLUMNS

#: the columns of tables written before schema versions (version 1)
V1_COLUMNS = frozenset(
    set(ALL_COLUMNS)
    - {
        "schema_version",
        "machine",
        "machine_key",
        "cores_usable",
        "median_interval_share",
        "verdict_baseline",
        "regression",
        "oversubscribed",
        "suspect_note",
        "memory_budget_verdict",
        "emulated",
    }
)

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
    # columns added since a table was written are expected to be missing from it
    optional_missing = [
        c for c in missing if c not in ESSENTIAL_COLUMNS and c not in ADDED_IN_VERSION_2
    ]
    version_1 = "schema_version" not in table.columns
    if version_1:
        # written before versions: the columns added since are expected to be missing
        optional_missing = [c for c in optional_missing if c in V1_COLUMNS]
    if optional_missing:
        notes.append(f"{source}: lacks column(s) {', '.join(optional_missing)} (shown as n/a)")
    if not version_1:
        versions = set(pd.to_numeric(table["schema_version"], errors="coerce").dropna())
        unknown = sorted(v for v in versions if v not in KNOWN_VERSIONS) or (
            [] if versions else ["blank"]
        )
        if unknown:
            notes.append(
                f"{source}: unknown schema version {', '.join(map(str, unknown))} (this reader "
                f"knows {', '.join(map(str, KNOWN_VERSIONS))}); values may be misread"
            )

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
    if (table["machine_key"] == "").all():
        table["machine_key"] = table["platform_key"]
    for column in (
        "noisy",
        "throttled",
        "regression",
        "oversubscribed",
        "emulated",
        "side_by_side",
    ):
        if column in table.columns:
            table[column], _ = _to_flags(table[column])
        else:
            table[column] = False
    table["_usable"] = not essential_missing
    return table, notes
