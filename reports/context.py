"""Everything the HTML template shows, computed once from a ResultSet.

The template only lays out; decisions (which verdict, which chart, which warning, how each
number reads) are made here and in the modules it calls, so they can be tested without HTML.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from bench import memory_reporting
from bench.codec_axes import NOT_MEASURED
from bench.schema import MEMORY_SOURCE_LABELS
from reports import charts, defaults, quality
from reports.formatting import integer, interval, number, ratio, seconds, size, sort_key
from reports.headline import machine_headlines
from reports.loading import ResultSet
from reports.shaping import latest_valid_parallel
from reports.ship import ship_sections
from reports.verdicts import TARGETS, Verdict, best_verdicts, cleared_regressions, tally

logger = logging.getLogger(__name__)

FINGERPRINT_FIELDS = (
    ("machine", "Machine name"),
    ("machine_key", "Machine key"),
    ("platform_label", "Model"),
    ("os", "OS"),
    ("os_version", "OS version"),
    ("arch", "Architecture"),
    ("cpu_model", "CPU"),
    ("cores_logical", "Logical cores"),
    ("cores_usable", "Usable cores"),
    ("cpu_quota", "cgroup CPU quota"),
    ("cores_performance", "Performance cores"),
    ("cores_efficiency", "Efficiency cores"),
    ("memory_bytes", "Memory"),
    ("free_page_reporting", "Memory handed back to a hypervisor"),
    ("python_version", "Python"),
    ("python_implementation", "Implementation"),
    ("python_build", "Build"),
    ("storage", "Storage"),
    ("pi_model", "Pi model"),
    ("emulation", "Emulated (timings decide nothing)"),
    ("temperature_c_before", "Temperature before (°C)"),
    ("temperature_c_after", "Temperature after (°C)"),
    ("throttled_before", "Throttled before"),
    ("throttled_after", "Throttled after"),
    ("hostname", "Host name"),
    ("collected_at", "Collected at"),
)


@dataclass
class Cell:
    text: str
    sort: str = ""
    css: str = ""
    href: str = ""


@dataclass
class PlatformSection:
    key: str
    label: str
    tally_2x: dict[str, int]
    tally_4x: dict[str, int]
    verdicts: list[Verdict]
    scaling: list[charts.Chart] = field(default_factory=list)
    heatmaps: list[charts.Chart] = field(default_factory=list)
    cores: int | None = None
    memory: list[charts.Chart] = field(default_factory=list)
    results_rows: list[list[Cell]] = field(default_factory=list)


def _fingerprint_value(key: str, value: Any) -> str:
    if key == "free_page_reporting":
        return memory_reporting.describe(value)
    if value is None or value == "":
        return "n/a"
    if key == "memory_bytes":
        return size(value)
    if key == "storage" and isinstance(value, dict):
        sd = " (SD card)" if value.get("is_sd_card") else ""
        parts = [str(value.get(k)) for k in ("filesystem", "device", "path") if value.get(k)]
        return " on ".join(parts[:2]) + (f" at {parts[2]}" if len(parts) > 2 else "") + sd
    return str(value)


def _link(run_dir: str, relative: str, output_dir: Path) -> str:
    """A link from the report to a file of the run folder, or "" when it is not there."""
    if not relative or not run_dir:
        return ""
    target = Path(run_dir) / relative
    if not target.is_file():
        return ""
    return Path(os.path.relpath(target, output_dir)).as_posix()


RESULT_COLUMNS = (
    "Run",
    "Operation",
    "Format",
    "Workload",
    "Scale",
    "Variant",
    "Threads",
    "Batch",
    "Backend",
    "Samples",
    "Median",
    "Stdev",
    "vs own sequential",
    "95% interval",
    "vs the old way",
    "95% interval (old way)",
    "Efficiency",
    "2x",
    "4x",
    "Oversubscribed",
    "Suspect",
    "Memory source",
    "Peak heap",
    "Peak RSS",
    "Memory delta",
    "Throughput (MB/s)",
    "Valid",
    "Noisy",
    "Throttled",
    "pyperf JSON",
    "Flamegraph",
)


def _verdict_cell(value: str) -> Cell:
    return Cell(value or "-", value, "verdict-cell" if value else "")


def _valid_cell(valid: bool, reason: str) -> Cell:
    if valid:
        return Cell("yes", "1")
    if reason.startswith(NOT_MEASURED):  # an optional package is missing: nothing went wrong
        return Cell(reason, "0", "muted")
    return Cell(f"no: {reason or 'no reason'}", "0", "bad")


def _regression_mark(row: pd.Series, cleared: set[str]) -> str:
    """The mark of a row's ratio to the old way: bad when slower, a warning where a
    side-by-side timing of the same configuration did not find it slower
    (``verdicts.cleared_regressions``), none otherwise."""
    if not row["regression"]:
        return ""
    return "warn" if str(row["cell_id"]) in cleared and not row["side_by_side"] else "bad"


def _result_row(row: pd.Series, output_dir: Path, cleared: set[str]) -> list[Cell]:
    pyperf = _link(row["_run_dir"], row["pyperf_json"], output_dir)
    flame = _link(row["_run_dir"], row["flamegraph"], output_dir)
    valid = bool(row["valid"])
    return [
        Cell(row["run_id"], row["run_id"]),
        Cell(row["operation"], row["operation"]),
        Cell(row["format"] or "-", row["format"]),
        Cell(row["workload"], row["workload"]),
        Cell(number(row["scale"]), sort_key(row["scale"])),
        Cell(row["variant"], row["variant"]),
        Cell(integer(row["threads"]), sort_key(row["threads"])),
        Cell(integer(row["batch_size"]), sort_key(row["batch_size"])),
        Cell(row["backend"] or "-", row["backend"]),
        Cell(integer(row["samples"]), sort_key(row["samples"])),
        Cell(seconds(row["median_s"]), sort_key(row["median_s"])),
        Cell(seconds(row["stdev_s"]), sort_key(row["stdev_s"])),
        Cell(ratio(row["speedup"]), sort_key(row["speedup"])),
        Cell(
            interval(row["speedup_ci_low"], row["speedup_ci_high"]), sort_key(row["speedup_ci_low"])
        ),
        Cell(
            ratio(row["speedup_vs_reference"]),
            sort_key(row["speedup_vs_reference"]),
            _regression_mark(row, cleared),
        ),
        Cell(
            interval(row["speedup_vs_reference_ci_low"], row["speedup_vs_reference_ci_high"]),
            sort_key(row["speedup_vs_reference_ci_low"]),
        ),
        Cell(number(row["efficiency"]), sort_key(row["efficiency"])),
        _verdict_cell(row["verdict_2x"]),
        _verdict_cell(row["verdict_4x"]),
        Cell(
            "yes" if row["oversubscribed"] else "no",
            "1" if row["oversubscribed"] else "0",
            "warn" if row["oversubscribed"] else "",
        ),
        Cell(row["suspect_note"] or "", row["suspect_note"], "warn" if row["suspect_note"] else ""),
        Cell(
            MEMORY_SOURCE_LABELS.get(row["memory_source"], row["memory_source"] or "-"),
            row["memory_source"],
        ),
        Cell(size(row["peak_heap_bytes"]), sort_key(row["peak_heap_bytes"])),
        Cell(size(row["peak_rss_bytes"]), sort_key(row["peak_rss_bytes"])),
        Cell(size(row["memory_delta_bytes"]), sort_key(row["memory_delta_bytes"])),
        Cell(number(row["throughput_mb_s"], 1), sort_key(row["throughput_mb_s"])),
        _valid_cell(valid, row["invalid_reason"]),
        Cell(
            "yes" if row["noisy"] else "no",
            "1" if row["noisy"] else "0",
            "warn" if row["noisy"] else "",
        ),
        Cell(
            "yes" if row["throttled"] else "no",
            "1" if row["throttled"] else "0",
            "bad" if row["throttled"] else "",
        ),
        Cell("pyperf" if pyperf else "", pyperf, "link", pyperf),
        Cell("flamegraph" if flame else "", flame, "link", flame),
    ]


def _platform_section(
    key: str,
    label: str,
    table: pd.DataFrame,
    rows: pd.DataFrame,
    verdicts: list[Verdict],
    output_dir: Path,
    cores: int | None = None,
) -> PlatformSection:
    mine = [v for v in verdicts if v.machine_key == key]
    section = PlatformSection(key, label, tally(mine, "2x"), tally(mine, "4x"), mine)
    section.cores = cores
    mine_rows = rows[rows["machine_key"] == key]
    for operation in dict.fromkeys(v.operation for v in mine):
        chart = charts.scaling_chart(
            label, operation, mine_rows, [v for v in mine if v.operation == operation], cores
        )
        if chart:
            section.scaling.append(chart)
    for operation, fmt in dict.fromkeys((v.operation, v.format) for v in mine):
        chart = charts.heatmap_chart(label, operation, fmt, mine_rows)
        if chart:
            section.heatmaps.append(chart)
    for source in sorted(s for s in mine_rows["memory_source"].unique() if s):
        for chart in (
            charts.memory_chart(label, mine_rows, mine, source),
            charts.tradeoff_chart(label, mine_rows, source),
        ):
            if chart:
                section.memory.append(chart)
    platform_table = table[table["machine_key"] == key]
    platform_table = platform_table.sort_values(
        ["operation", "format", "workload", "variant", "threads", "batch_size"], kind="stable"
    )
    cleared = {str(c.sweep["cell_id"]) for c in cleared_regressions(platform_table)}
    section.results_rows = [
        _result_row(r, output_dir, cleared) for _, r in platform_table.iterrows()
    ]
    return section


def _comparison(verdicts: list[Verdict], platforms: list[str]) -> list[dict[str, Any]]:
    """Rows of (operation, format, workload) with one verdict (or None) per machine, and why
    a machine has none: measured at another scale, or not measured."""
    lookup = {(v.machine_key, v.operation, v.format, v.workload): v for v in verdicts}
    groups = dict.fromkeys((v.operation, v.format, v.workload) for v in verdicts)
    rows = []
    for o, f, w in sorted(groups):
        base = w.split(" x")[0]
        cells = []
        for p in platforms:
            found = lookup.get((p, o, f, w))
            others = [
                v.workload
                for v in verdicts
                if v.machine_key == p and v.operation == o and v.format == f
                and v.workload != w and v.workload.split(" x")[0] == base
            ]  # fmt: skip
            missing = f"measured at another scale ({', '.join(others)})" if others else ""
            cells.append({"verdict": found, "missing": missing or "not measured"})
        rows.append({"operation": o, "format": f, "workload": w, "cells": cells})
    return rows


def build_context(result_set: ResultSet, output: Path, title: str | None) -> dict[str, Any]:
    """The template's variables. ``output`` is where the HTML goes (links are relative to it)."""
    table = result_set.table
    verdicts = best_verdicts(table)
    rows = latest_valid_parallel(table)
    platforms = result_set.platforms
    labels = {p: result_set.label(p) for p in platforms}
    output_dir = output.parent.resolve()
    cores = {p: c for p in platforms if (c := result_set.cores(p))}
    sections = [
        _platform_section(p, labels[p], table, rows, verdicts, output_dir, cores.get(p))
        for p in platforms
    ]
    comparison_charts = [
        c
        for c in (
            charts.platform_bars_chart(verdicts, labels),
            charts.relative_scaling_chart(rows, verdicts, labels, cores),
        )
        if c
    ]
    fingerprints = [
        {
            "label": name,
            "values": [_fingerprint_value(k, result_set.fingerprint(p).get(k)) for p in platforms],
        }
        for k, name in FINGERPRINT_FIELDS
    ]
    runs = [
        {
            "platform": r.machine_key,
            "run_id": r.run_id,
            "folder": str(r.folder),
            "preset": r.run.get("preset") or "n/a",
            "complete": {True: "yes", False: "no", None: "unknown"}[r.complete],
            "started": r.run.get("started_at") or "n/a",
            "finished": r.run.get("finished_at") or "n/a",
        }
        for r in result_set.runs
    ]
    warnings = quality.collect(result_set, verdicts)
    return {
        "headlines": machine_headlines(result_set),
        "ship": ship_sections(result_set),
        "title": title or "archive-parallel: how much faster than the old way, at what cost?",
        "generated_at": _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "sources": [str(s) for s in result_set.sources],
        "targets": TARGETS,
        "platforms": platforms,
        "labels": labels,
        "platform_labels": [labels[p] for p in platforms],
        "sections": sections,
        "verdicts": verdicts,
        "comparison": _comparison(verdicts, platforms),
        "comparison_charts": comparison_charts,
        "recommendations": defaults.recommendations(
            platforms, labels, result_set.tuned, rows, cores
        ),
        "fingerprints": fingerprints,
        "runs": runs,
        "warnings": warnings,
        "warning_count": sum(1 for w in warnings if w.level == "error"),
        "row_count": len(table),
        "invalid_count": len(quality.invalid_rows(table)),
        "result_columns": RESULT_COLUMNS,
    }
