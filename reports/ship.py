"""What to ship: per machine and workload, each format and backend side by side.

For every format the library writes (tar.gz, zip, tar.zst, tar.bz2, tar.xz) and, where the
format has one, every deflate backend (zlib, zlib-ng, isal; rapidgzip only reads), a row
gives the create time, the extract time, the archive's size and the peak memory of both,
each from the fastest valid parallel cell of the latest run that measured it. The lowest
value of each column is marked best, and one sentence names what this machine unpacks
fastest. The rows are the same on every machine, so a cell that a machine did not measure
(an optional package missing, an invalid output, not in its sweep) says so and why instead
of vanishing. Archives made by other tools get their own small table (extract only), and the
codec targets (``reports.codec_targets``) follow, per machine.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import pandas as pd

from bench.codec_axes import (
    CREATE_BACKENDS,
    DEFLATE_BASES,
    NOT_MEASURED,
    READ_BACKENDS,
    base_format,
    codec_name,
    is_foreign,
)
from bench.codec_targets import contention_lines
from bench.schema import MEMORY_SOURCE_LABELS
from reports.codec_targets import TargetRow, chance_note, machine_runs, target_rows
from reports.formatting import interval, ratio, seconds, size
from reports.loading import ResultSet

logger = logging.getLogger(__name__)

FORMAT_ORDER = ("tar.gz", "zip", "tar.zst", "tar.bz2", "tar.xz", "tar")
BACKEND_ORDER = ("zlib", "zlib-ng", "isal", "rapidgzip")
#: the realistic deploy package first: it is what a Pi team ships
WORKLOAD_ORDER = ("package", "medium", "small")
OPERATIONS = ("create", "extract")
NOT_IN_SWEEP = "not in this machine's sweep"
#: inflaters that write nothing (rapidgzip)
READ_ONLY_BACKENDS = tuple(b for b in READ_BACKENDS if b not in CREATE_BACKENDS)
READ_ONLY = "rapidgzip only reads; archives are written with zlib, zlib-ng or isal"
EMULATED = (
    "Measured under an emulator: the times say nothing about the machine it stands for, so "
    "no recommendation (sizes still hold)."
)


@dataclass
class Value:
    """One cell of a table: its text, the number behind it (NaN when missing), and why it
    is missing."""

    text: str
    value: float = math.nan
    why: str = ""
    best: bool = False
    #: the why goes in the tooltip only (the row's create or extract cell already says it)
    quiet: bool = False
    #: how it was measured (the tooltip of a measured cell), e.g. "2 threads"
    detail: str = ""

    @property
    def measured(self) -> bool:
        return math.isfinite(self.value)


@dataclass
class ShipRow:
    format: str
    codec: str
    create: Value
    extract: Value
    size: Value
    create_peak: Value
    extract_peak: Value

    @property
    def name(self) -> str:
        """``tar.gz with isal``; ``tar.zst`` (its codec goes without saying)."""
        return f"{self.format} with {self.codec}" if self.format in DEFLATE_BASES else self.format

    def values(self) -> list[Value]:
        return [self.create, self.extract, self.size, self.create_peak, self.extract_peak]


@dataclass
class ShipTable:
    workload: str
    memory_label: str
    rows: list[ShipRow]
    recommendation: str


@dataclass
class ForeignRow:
    format: str
    reader: str
    extract: Value
    vs_extractall: Value
    peak: Value


@dataclass
class ShipSection:
    key: str
    label: str
    tables: list[ShipTable] = field(default_factory=list)
    foreign: list[tuple[str, str, list[ForeignRow]]] = field(default_factory=list)
    targets: list[TargetRow] = field(default_factory=list)
    targets_absent: int = 0
    #: what chance alone does to that many verdicts (``reports.codec_targets.chance_note``)
    targets_chance: str = ""
    #: per workload measured side by side: how much of the CPUs other work took in its rounds
    contention: list[str] = field(default_factory=list)


def _order(value: str, order: tuple[str, ...]) -> tuple[int, str]:
    return (order.index(value), value) if value in order else (len(order), value)


def _missing(text: str, why: str) -> Value:
    return Value(text, math.nan, why)


def _why(rows: pd.DataFrame) -> str:
    """Why none of ``rows`` (all invalid) gives a value: the latest one's reason."""
    reason = str(rows.sort_values("run_id").iloc[-1]["invalid_reason"] or "no reason recorded")
    if reason.startswith(NOT_MEASURED):
        return reason[len(NOT_MEASURED) :]
    return f"invalid output: {reason[:160]}"


def _pick(rows: pd.DataFrame, operation: str, fmt: str, backend: str | None):
    """(the fastest valid parallel row of the latest run per configuration, or None; why
    there is none)."""
    mine = rows[(rows["operation"] == operation) & (rows["format"] == fmt)]
    mine = mine[mine["variant"] == "parallel"]
    if backend is not None:
        mine = mine[mine["backend"] == backend]
    if mine.empty:
        return None, NOT_IN_SWEEP
    valid = mine[mine["valid"].astype(bool) & mine["median_s"].notna()]
    if valid.empty:
        return None, _why(mine)
    keys = ["threads", "batch_size", "backend"]
    latest = valid.sort_values("run_id", kind="stable").drop_duplicates(keys, keep="last")
    return latest.loc[latest["median_s"].idxmin()], ""


def _number(row: pd.Series | None, column: str) -> float:
    if row is None:
        return math.nan
    try:
        value = float(row[column])
    except (KeyError, TypeError, ValueError):
        return math.nan
    return value if math.isfinite(value) else math.nan


def _absent(why: str, quiet: bool = False) -> Value:
    """A cell without a value: "n/a" where the row cannot have one, else "not measured"."""
    value = _missing("n/a" if why == READ_ONLY else "not measured", why)
    value.quiet = quiet
    return value


def _time(row: pd.Series | None, why: str) -> Value:
    if row is None:
        return _absent(why)
    threads = int(row["threads"]) if row["threads"] == row["threads"] else None
    detail = f"{threads} threads, {row['backend']}, run {row['run_id']}" if threads else ""
    return Value(seconds(row["median_s"]), float(row["median_s"]), detail=detail)


def _bytes(value: float, why: str) -> Value:
    """A size or a peak; when missing, the time beside it has already said why."""
    return Value(size(value), value) if math.isfinite(value) else _absent(why, quiet=True)


def _archive(value: float, why: str) -> Value:
    """An archive's size: two decimals (a few percent decide between backends), the exact
    bytes in the tooltip."""
    if not math.isfinite(value):
        return _absent(why, quiet=True)
    return Value(size(value, 2), value, detail=f"{value:,.0f} bytes")


def _archive_size(rows: pd.DataFrame, create: pd.Series | None, fmt: str, backend) -> float:
    """The archive's size: the chosen create cell's, else any valid library create cell's
    of the same format and backend (the bytes never depend on the thread count)."""
    found = _number(create, "output_bytes")
    if math.isfinite(found):
        return found
    same = rows[
        (rows["operation"] == "create")
        & (rows["format"] == fmt)
        & rows["variant"].isin(("parallel", "sequential"))
        & rows["valid"].astype(bool)
    ]
    if backend is not None:
        same = same[same["backend"] == backend]
    sizes = pd.to_numeric(same["output_bytes"], errors="coerce").dropna()
    return float(sizes.iloc[-1]) if not sizes.empty else math.nan


def _memory_column(rows: pd.DataFrame) -> tuple[str, str]:
    """(column, label) of the peak memory shown: OS peak RSS wherever it was measured (it is
    measured with either memory source and is what a small device feels), else memray's heap.
    One source per table, never mixed."""
    if rows["peak_rss_bytes"].notna().any() or not rows["peak_heap_bytes"].notna().any():
        return "peak_rss_bytes", MEMORY_SOURCE_LABELS["rusage"]
    return "peak_heap_bytes", MEMORY_SOURCE_LABELS["memray"]


def _own_rows(table: pd.DataFrame) -> list[tuple[str, str | None]]:
    """(format, backend or None) of every own-format row any machine measured."""
    own = table[
        table["operation"].isin(OPERATIONS)
        & (table["variant"] == "parallel")
        & (table["format"] != "")
        & ~table["format"].map(is_foreign)
    ]
    combos: set[tuple[str, str | None]] = set()
    for (fmt, backend), _ in own.groupby(["format", "backend"]):
        combos.add((fmt, backend if base_format(fmt) in DEFLATE_BASES else None))
    return sorted(
        combos,
        key=lambda c: (_order(c[0], FORMAT_ORDER), _order(c[1] or "", BACKEND_ORDER)),
    )


def _mark_best(rows: list[ShipRow] | list[ForeignRow], columns: list[str]) -> None:
    for column in columns:
        values = [getattr(r, column) for r in rows]
        measured = [v.value for v in values if v.measured]
        if len(measured) < 2:
            continue
        lowest = min(measured)
        for v in values:
            v.best = v.measured and v.value == lowest


def _ship_row(rows: pd.DataFrame, fmt: str, backend: str | None, memory: str) -> ShipRow:
    codec = codec_name(fmt, backend or "") or "default"  # tables from before backends
    if backend in READ_ONLY_BACKENDS:
        create, create_why = None, READ_ONLY
    else:
        create, create_why = _pick(rows, "create", fmt, backend)
    extract, extract_why = _pick(rows, "extract", fmt, backend)
    return ShipRow(
        fmt,
        codec,
        _time(create, create_why),
        _time(extract, extract_why),
        _archive(_archive_size(rows, create, fmt, backend), create_why or "size not recorded"),
        _bytes(_number(create, memory), create_why or "memory not measured"),
        _bytes(_number(extract, memory), extract_why or "memory not measured"),
    )


def recommendation(rows: list[ShipRow], memory_label: str) -> str:
    """One sentence for a team picking a format for its devices, from this machine's row."""
    unpacked = [r for r in rows if r.extract.measured]
    if not unpacked:
        return "Nothing was unpacked on this machine for this workload: no recommendation."
    fastest = min(unpacked, key=lambda r: r.extract.value)
    peak = fastest.extract_peak
    peak_text = f", {size(peak.value)} {memory_label}" if peak.measured else ""
    parts = [
        f"Fastest to unpack on this machine: {fastest.name} "
        f"({seconds(fastest.extract.value)}{peak_text})"
    ]
    sized = [r for r in rows if r.size.measured]
    if sized:
        smallest = min(sized, key=lambda r: r.size.value)
        parts.append(f"smallest archive: {smallest.name} ({size(smallest.size.value)})")
    created = [r for r in rows if r.create.measured]
    if created:
        quickest = min(created, key=lambda r: r.create.value)
        parts.append(f"fastest to create: {quickest.name} ({seconds(quickest.create.value)})")
    return "; ".join(parts) + "."


def ship_table(
    rows: pd.DataFrame, combos: list[tuple[str, str | None]], workload: str
) -> ShipTable:
    """The table of one machine's ``rows`` on one workload."""
    mine = rows[rows["workload"] == workload]
    memory, label = _memory_column(mine[mine["variant"] == "parallel"])
    table_rows = [_ship_row(mine, fmt, backend, memory) for fmt, backend in combos]
    _mark_best(table_rows, ["create", "extract", "size", "create_peak", "extract_peak"])
    if not mine.empty and mine["emulated"].astype(bool).all():
        sentence = EMULATED
    else:
        sentence = recommendation(table_rows, label)
    return ShipTable(workload, label, table_rows, sentence)


def foreign_rows(rows: pd.DataFrame, memory: str) -> list[ForeignRow]:
    """Extraction of archives made by other tools, one row per format and reader."""
    foreign = rows[
        (rows["operation"] == "extract")
        & (rows["variant"] == "parallel")
        & rows["format"].map(is_foreign)
    ]
    out = []
    combos = sorted(
        {(f, b) for f, b in zip(foreign["format"], foreign["backend"], strict=True)},
        key=lambda c: (c[0], _order(c[1], BACKEND_ORDER)),
    )
    for fmt, backend in combos:
        row, why = _pick(foreign, "extract", fmt, backend)
        vs = _number(row, "speedup_vs_reference")
        if row is not None and math.isfinite(vs):
            low, high = row["speedup_vs_reference_ci_low"], row["speedup_vs_reference_ci_high"]
            # higher is better here: the negated ratio lets the lowest value mark the best
            gain = Value(f"{ratio(vs)} ({interval(low, high)})", -vs)
        else:
            gain = _missing("n/a", why or "the old way was not measured")
        out.append(
            ForeignRow(
                fmt,
                backend,
                _time(row, why),
                gain,
                _bytes(_number(row, memory), why or "memory not measured"),
            )
        )
    _mark_best(out, ["extract", "vs_extractall", "peak"])
    return out


def _workloads(rows: pd.DataFrame, foreign: bool) -> list[str]:
    """Workloads with create or extract cells of own formats (or of other tools' archives)."""
    archive = rows[rows["operation"].isin(OPERATIONS) & (rows["format"] != "")]
    archive = archive[archive["format"].map(is_foreign) == foreign]
    names = [w for w in dict.fromkeys(archive["workload"]) if w]
    return sorted(names, key=lambda w: _order(w.split(" x")[0], WORKLOAD_ORDER))


def ship_sections(result_set: ResultSet) -> list[ShipSection]:
    """One section per machine: its what-to-ship tables, other tools' archives, targets."""
    table = result_set.table
    if table.empty:
        return []
    combos = _own_rows(table)
    sections = []
    for key in result_set.platforms:
        rows = table[table["machine_key"] == key]
        section = ShipSection(key, result_set.label(key))
        if combos:
            section.tables = [ship_table(rows, combos, w) for w in _workloads(rows, False)]
        for workload in _workloads(rows, True):
            mine = rows[rows["workload"] == workload]
            memory, label = _memory_column(mine[mine["variant"] == "parallel"])
            found = foreign_rows(mine, memory)
            if found:
                section.foreign.append((workload, label, found))
        found = machine_runs(result_set, key)
        section.targets, section.targets_absent = target_rows(found)
        section.targets_chance = chance_note(section.targets)
        section.contention = [
            line for records in found.pooled for line in contention_lines(records, None)
        ]
        sections.append(section)
    return sections


__all__ = [
    "ShipRow",
    "ShipSection",
    "ShipTable",
    "recommendation",
    "ship_sections",
    "ship_table",
]
