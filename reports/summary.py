"""The headline and the verdicts as Markdown, for terminals and CI logs.

The headline lines first (headline.py: the gain over the old way per machine, regressions,
targets beyond the machine, memory, trust), the what-to-ship sentence of each machine and
workload (ship.py), then the same verdict table as the HTML report (verdicts.py), plus one
line per warning heading.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from reports import quality
from reports.formatting import integer, interval, ratio, size
from reports.headline import headline_lines
from reports.loading import ResultSet, load_results
from reports.ship import ship_sections
from reports.verdicts import best_verdicts, tally

logger = logging.getLogger(__name__)

HEADER = (
    "| machine | operation | format | workload | best gain | interval (95% for the family) | "
    "configurations | baseline | "
    "vs own sequential | threads | batch | backend | memory delta | 2x | 4x |"
)
RULE = "|---|---|---|---|--:|--:|--:|---|--:|--:|--:|---|--:|---|---|"


def _escape(text: str) -> str:
    return str(text).replace("|", "\\|")


def text_summary(result_set_or_paths: ResultSet | Sequence[Path | str] | Path | str) -> str:
    """Markdown: one verdict row per (platform, operation, format, workload), then warnings."""
    if isinstance(result_set_or_paths, ResultSet):
        result_set = result_set_or_paths
    elif isinstance(result_set_or_paths, str | Path):
        result_set = load_results([result_set_or_paths])
    else:
        result_set = load_results(result_set_or_paths)
    lines = ["# archive-parallel: gain over the old way (target 2x-4x)", ""]
    if result_set.is_empty:
        lines.append("No results to summarise.")
        lines.extend(f"- {p}" for p in result_set.problems)
        return "\n".join(lines) + "\n"
    verdicts = best_verdicts(result_set.table)
    lines += ["```", *headline_lines(result_set), "```", ""]
    for platform in result_set.platforms:
        mine = [v for v in verdicts if v.machine_key == platform]
        counts = "; ".join(
            f"{target}: " + ", ".join(f"{n} {name}" for name, n in tally(mine, target).items() if n)
            for target in ("2x", "4x")
        )
        lines.append(
            f"- **{_escape(result_set.label(platform))}** ({platform}): {counts or 'no cells'}"
        )
    recommendations = [
        f"- **{_escape(section.label)}**, {table.workload}: {_escape(table.recommendation)}"
        for section in ship_sections(result_set)
        for table in section.tables
    ]
    if recommendations:
        lines += ["", "What to ship (see the report's table):", *recommendations]
    lines += ["", HEADER, RULE]
    for v in verdicts:
        cells = [
            v.machine_key,
            v.operation,
            v.format or "-",
            v.workload,
            ratio(v.gain),
            interval(v.gain_low, v.gain_high),
            str(v.family),
            v.baseline_name,
            ratio(v.speedup),
            integer(v.threads),
            integer(v.batch_size),
            v.backend or "-",
            size(v.memory_delta_bytes),
            v.verdict_2x,
            v.verdict_4x,
        ]
        lines.append("| " + " | ".join(_escape(c) for c in cells) + " |")
    warnings = quality.collect(result_set, verdicts)
    if warnings:
        lines += ["", "Warnings:"]
        lines += [f"- {w.title} ({len(w.items)})" for w in warnings]
    return "\n".join(lines) + "\n"
