"""Can a run folder's table be trusted as complete? Checks against the raw records beside it.

bench appends one JSON line per measured cell to ``cells.jsonl`` and rebuilds
``results.csv`` from it, so the two must agree. Reading the table
(``bench.results.read_run_table``) leaves out a row cut short and rebuilds the row of a
recorded cell that has none, each with a note; what is left here is a line of the records
torn or unreadable. Each becomes a counted problem line for the data-quality box; a folder
with any of them is never shown as clean.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from bench.schema import CELLS_FILE

logger = logging.getLogger(__name__)


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


def check_run_folder(folder: Path) -> list[str]:
    """Problems of one run folder's records: torn or unreadable lines."""
    cells = folder / CELLS_FILE
    if not cells.is_file():
        return []
    try:
        _ids, torn = record_ids(cells)
    except OSError as exc:
        return [f"{cells}: unreadable ({exc})"]
    return [f"{cells}: {torn} torn or unreadable line(s) (a write was cut)"] if torn else []
