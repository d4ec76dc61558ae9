"""The codec targets in the report: ``bench.codec_targets``' own evaluation, per machine.

A target compares two cells (a tar.zst creation against the tar.gz reference loop, say) by
the ratio of their median times with a 95% bootstrap interval, which needs their raw timing
values: those are in each run's ``cells.jsonl``, not in ``results.csv``. So the records of a
machine's runs are gathered (the latest run's record of a cell wins) and evaluated exactly as
``python -m bench.codec_targets`` evaluates them, with the same labels and verdict words; only
targets whose two cells were measured are listed. The size targets (a tar.zst no larger than
the tar.gz of the same tree) follow, with the two archives' bytes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from reports.formatting import interval, ratio
from reports.loading import ResultSet

logger = logging.getLogger(__name__)

CELLS_FILE = "cells.jsonl"


@dataclass
class TargetRow:
    target: str
    workload: str
    at_least: float
    ratio: str
    interval: str
    verdict: str


def machine_records(result_set: ResultSet, machine_key: str) -> list[dict[str, Any]]:
    """The raw records of a machine's runs, the latest run's record of each cell winning."""
    from bench.results import read_records

    by_cell: dict[str, dict[str, Any]] = {}
    for run in sorted(result_set.runs, key=lambda r: r.run_id):
        if run.machine_key != machine_key:
            continue
        try:
            records = read_records(run.folder / CELLS_FILE)
        except OSError as exc:
            logger.warning("cannot read %s: %s", run.folder / CELLS_FILE, exc)
            continue
        for record in records:
            by_cell[str(record.get("cell_id"))] = record
    return list(by_cell.values())


def target_rows(records: list[dict[str, Any]]) -> tuple[list[TargetRow], int]:
    """The codec targets these records can decide, and how many they cannot (absent)."""
    from bench.codec_targets import default_targets, evaluate, size_rows

    if not records:
        return [], 0
    try:
        evaluated = evaluate(records, default_targets())
    except (KeyError, TypeError, ValueError) as exc:  # records of another layout
        logger.warning("codec targets not evaluated: %s", exc)
        return [], 0
    rows = [
        TargetRow(
            r["target"],
            r["workload"],
            r["at_least"],
            ratio(r["ratio"]),
            interval(r["low"], r["high"]),
            r["verdict"] or "inconclusive",
        )
        for r in evaluated
        if r["verdict"] != "absent"
    ]
    decided = len(rows)
    rows += [  # sizes are exact: the bytes themselves stand where an interval would
        TargetRow(
            r["target"],
            r["workload"],
            1.0,
            ratio(r["ratio"]),
            f"{r['bytes']:,} vs {r['other_bytes']:,} bytes",
            r["verdict"],
        )
        for r in size_rows(records)
    ]
    return rows, len(evaluated) - decided


__all__ = ["TargetRow", "machine_records", "target_rows"]
