"""Checking side by side what a sweep read slower than the old way.

A sweep times each cell in its own minutes (``bench.runner``), so a load, a disk's writeback
or a slower stretch of a shared machine that struck the old way's cell alone reads as a
regression of the library, with an interval too narrow to show it: each side's values came
from one stretch of time. Here each such cell is timed again together with its old-way cell,
in alternating rounds in one process (``bench.interleaved.measure_cells``), so whatever slows
a round slows both sides of it, and the records are filed as a run of their own (preset
``confirm``; run.json's ``checks`` names the sweep). The report lets the side-by-side ratio
decide for that configuration (``reports.verdicts.regressions``). Cells are checked worst
first, as many as the time budget holds, estimated from the sweep's own medians.
"""

from __future__ import annotations

import json
import logging
import math
import os
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.grid import Workload
from bench.results import read_records, record_ratio
from bench.schema import CELLS_FILE, FINGERPRINT_FILE, RUN_FILE, SIDE_BY_SIDE_PRESETS
from bench.scratch import SCRATCH_ENV

logger = logging.getLogger(__name__)

PRESET = SIDE_BY_SIDE_PRESETS[0]
DEFAULT_ROUNDS = 15
DEFAULT_BUDGET_MIN = 5.0
#: a round takes longer than its two timed runs: each case's output is removed before it
ROUND_OVERHEAD = 1.5


@dataclass(frozen=True)
class Suspect:
    """A cell a sweep read slower than the old way, and the old way's cell of it."""

    cell: dict[str, Any]
    reference: dict[str, Any]
    ratio: float
    low: float
    high: float

    @property
    def round_s(self) -> float:
        """About how long one round of the two takes."""
        medians = (statistics.median(r["values"]) for r in (self.cell, self.reference))
        return ROUND_OVERHEAD * sum(medians)


def _cell_fields(record: dict[str, Any]) -> dict[str, Any]:
    from bench.grid import Cell

    return Cell.from_dict(record).to_dict()


def suspects(records: list[dict[str, Any]]) -> list[Suspect]:
    """The valid cells of a sweep's ``records`` whose ratio to the old way has an interval
    wholly below 1 (``regression`` of the results table), worst first."""
    from bench import stats

    references = {
        (r["operation"], r["format"], r["workload"], r["scale"]): r
        for r in records
        if r["variant"] == "reference" and r.get("valid")
    }
    found = []
    for i, record in enumerate(sorted(records, key=lambda r: r["cell_id"])):
        if record["variant"] == "reference" or not record.get("valid"):
            continue
        reference = references.get(
            (record["operation"], record["format"], record["workload"], record["scale"])
        )
        if reference is None:
            continue
        # the seed build_table gives this record's ratio, so both read the same interval
        ratio, low, high = record_ratio(reference, record, stats.DEFAULT_SEED + i + 7919)
        if math.isfinite(high) and high < 1.0:
            found.append(Suspect(record, reference, ratio, low, high))
    return sorted(found, key=lambda s: s.ratio)


def within_budget(found: list[Suspect], rounds: int, budget_s: float) -> list[Suspect]:
    """The first of ``found`` whose rounds fit in ``budget_s`` together (at least one)."""
    chosen: list[Suspect] = []
    spent = 0.0
    for suspect in found:
        cost = rounds * suspect.round_s
        if chosen and spent + cost > budget_s:
            break
        chosen.append(suspect)
        spent += cost
    return chosen


def cells_by_workload(chosen: list[Suspect]) -> dict[Workload, list[dict[str, Any]]]:
    """Each chosen cell and its old-way cell, once each, per workload."""
    grouped: dict[Workload, dict[str, dict[str, Any]]] = {}
    for suspect in chosen:
        workload = Workload(suspect.cell["workload"], float(suspect.cell["scale"]))
        cells = grouped.setdefault(workload, {})
        for record in (suspect.reference, suspect.cell):
            cells.setdefault(record["cell_id"], _cell_fields(record))
    return {workload: list(cells.values()) for workload, cells in grouped.items()}


@dataclass
class Check:
    """What ``check_run`` did: the suspects, the ones it timed, and the run it filed."""

    found: list[Suspect]
    checked: list[Suspect]
    run_dir: Path | None = None


def other_machine(run_dir: Path, info: dict[str, Any], here: dict[str, Any]) -> str | None:
    """Why this machine (``here``, its named fingerprint) is not the one that measured the
    sweep in ``run_dir`` (``info``, its run.json): another machine key (name and usable
    cores), platform or CPU model; None when it is the same."""
    try:
        then = json.loads((run_dir / FINGERPRINT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        then = {}
    for field in ("machine_key", "platform_key", "cpu_model"):
        recorded = info.get(field) or then.get(field)
        if recorded and here.get(field) and recorded != here[field]:
            return (
                f"{run_dir} was measured on {recorded}, this machine is {here[field]}: "
                "check it where it was measured"
            )
    return None


def scratch_place(run_dir: Path) -> Path:
    """Where the check writes: where the sweep's cells wrote (``$ARCHIVE_BENCH_SCRATCH``,
    else the sweep's own file system, beside its run folder)."""
    chosen = os.environ.get(SCRATCH_ENV)
    return Path(chosen) if chosen else run_dir.parent


def check_run(
    run_dir: Path,
    rounds: int = DEFAULT_ROUNDS,
    budget_min: float = DEFAULT_BUDGET_MIN,
    results_root: Path | None = None,
    argv: list[str] | None = None,
) -> Check:
    """Time side by side, ``rounds`` alternating rounds each, the cells of the sweep in
    ``run_dir`` that read slower than the old way, worst first, as many as ``budget_min``
    minutes hold; file them as a run beside it. Raises ValueError when this machine is not
    the one that measured the sweep (``other_machine``), or the code, the Python or the
    scratch storage a check would time is not what the sweep timed (the report would judge the
    two apart); ImportError without numpy."""
    from bench import fingerprint as fp_mod
    from bench import provenance
    from bench.interleaved import measure_cells, save_run
    from bench.machine import name_fingerprint

    info = json.loads((run_dir / RUN_FILE).read_text(encoding="utf-8"))
    root = results_root if results_root is not None else run_dir.parent.parent
    found = suspects(read_records(run_dir / CELLS_FILE))
    check = Check(found, within_budget(found, rounds, budget_min * 60.0))
    if not check.checked:
        return check
    here = name_fingerprint(fp_mod.collect_fingerprint(root), info.get("machine"))
    problem = other_machine(run_dir, info, here)
    library = provenance.library_identity()
    base = scratch_place(run_dir)
    now = {"library": library, "scratch_place": provenance.scratch_identity(base)}
    if problem is None and provenance.pooling_key(now) != provenance.pooling_key(info):
        problem = (
            f"{run_dir} measured other code, another Python or other storage than a check "
            "would time now: measure a new sweep"
        )
    if problem is not None:
        raise ValueError(problem)
    records = measure_cells(cells_by_workload(check.checked), rounds, base=base, results_root=root)
    check.run_dir = save_run(
        records,
        root,
        argv or ["archive-bench", "confirm", str(run_dir)],
        rounds,
        info.get("machine"),
        library=library,
        base=base,
        preset=PRESET,
        about={"checks": run_dir.name},
    )
    return check


def describe(check: Check, rounds: int, budget_option: str) -> list[str]:
    """What was checked, in a line or two (the verdicts are the headline's)."""
    if not check.found:
        return []
    left = len(check.found) - len(check.checked)
    lines = [
        f"checked side by side with the old way ({rounds} alternating rounds): "
        f"{len(check.checked)} of {len(check.found)} cell(s) the sweep read slower"
    ]
    if left:
        lines.append(
            f"not checked: {left} cell(s) over the time budget (raise it with {budget_option})"
        )
    return lines


__all__ = ["Check", "Suspect", "check_run", "describe", "suspects", "within_budget"]
