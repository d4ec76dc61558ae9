"""Can a run folder's table be trusted as complete? Checks against the raw records beside it.

bench appends one JSON line per measured cell to ``cells.jsonl`` and rebuilds
``results.csv`` from it, so the two must agree: every record has its row, no row is cut short
and no line of the records is torn. Each disagreement becomes a counted problem line for the
data-quality box; a folder with any of them is never shown as clean.
"""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path

import pandas as pd

from bench.schema import CELLS_FILE, RESULTS_FILE

logger = logging.getLogger(__name__)


def short_rows(csv_path: Path) -> int:
    """Rows of a CSV with fewer fields than its header (a file cut mid-row)."""
    try:
        with open(csv_path, newline="", encoding="utf-8", errors="replace") as handle:
            reader = csv.reader(handle)
            header = next(reader, [])
            return sum(1 for row in reader if row and len(row) < len(header))
    except (OSError, csv.Error):
        return 0


def record_ids(cells_jsonl: Path) -> tuple[set[str], int]:
    """(cell ids recorded, torn or unreadable lines) of a cells.jsonl."""
    ids: set[str] = set()
    torn = 0
    with open(cells_jsonl, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                ids.add(str(json.loads(line)["cell_id"]))
            except (ValueError, KeyError, TypeError):
                torn += 1
    return ids, torn


def check_run_folder(folder: Path, table: pd.DataFrame | None) -> list[str]:
    """Problems of one run folder: cut rows, torn records, records without a row."""
    problems: list[str] = []
    csv_path = folder / RESULTS_FILE
    cut = short_rows(csv_path) if csv_path.is_file() else 0
    if cut:
        problems.append(f"{csv_path}: {cut} row(s) cut short (file truncated?); read as invalid")
    cells = folder / CELLS_FILE
    if not cells.is_file():
        return problems
    try:
        ids, torn = record_ids(cells)
    except OSError as exc:
        return [*problems, f"{cells}: unreadable ({exc})"]
    if torn:
        problems.append(f"{cells}: {torn} torn or unreadable line(s) (a write was cut)")
    rows = set() if table is None else set(table["cell_id"].astype(str))
    missing = ids - rows
    if missing:
        problems.append(
            f"{folder}: {len(missing)} of {len(ids)} measured cell(s) have no row in "
            f"results.csv (truncated or stale table; 'archive-bench run --resume {folder}' "
            "rebuilds it)"
        )
    return problems
