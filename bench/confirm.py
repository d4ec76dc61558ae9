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
from bench.results import (
    OLD_WAY_SEED_OFFSET,
    baselines_by_key,
    in_table_order,
    old_way_of,
    read_records,
    record_ratio,
)
from bench.schema import (
    CELLS_FILE,
    CHECK_PRESET,
    FINGERPRINT_FILE,
    RUN_FILE,
    SIDE_BY_SIDE_PRESETS,
)
from bench.scratch import SCRATCH_ENV

logger = logging.getLogger(__name__)

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
    wholly below 1 (``regression`` of the results table, read with the table's own seeds),
    worst first."""
    baselines = baselines_by_key(records)
    found = []
    for seed, record in in_table_order(records):
        reference = old_way_of(baselines, record)
        if record["variant"] == "reference" or reference is None:
            continue
        ratio, low, high = record_ratio(reference, record, seed + OLD_WAY_SEED_OFFSET)
        if record.get("valid") and math.isfinite(high) and high < 1.0:
            found.append(Suspect(record, reference, ratio, low, high))
    return sorted(found, key=lambda s: s.ratio)


def within_budget(found: list[Suspect], rounds: int, budget_s: float) -> list[Suspect]:
    """The first of ``found`` whose rounds, the untimed warm-up included, fit in
    ``budget_s`` together (at least one)."""
    from bench.interleaved import WARMUP_ROUNDS

    chosen: list[Suspect] = []
    spent = 0.0
    for suspect in found:
        cost = (rounds + WARMUP_ROUNDS) * suspect.round_s
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


class CheckRefused(ValueError):
    """A run a side-by-side check cannot time again (the one-line reason is the message)."""


def read_run_info(run_dir: Path) -> dict[str, Any]:
    """``run_dir``'s run.json, refused in one line naming it when it is missing, unreadable or
    not a JSON object, or when the folder is a check itself or has no cell measured."""
    path = run_dir / RUN_FILE
    if not path.is_file():
        raise CheckRefused(f"{run_dir}: not a run folder (no {RUN_FILE})")
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CheckRefused(f"{path}: unreadable {RUN_FILE} ({exc})") from None
    if not isinstance(info, dict):
        raise CheckRefused(f"{path}: unreadable {RUN_FILE} (not a JSON object)")
    if info.get("preset") in SIDE_BY_SIDE_PRESETS:
        checked = f" (it checks {info['checks']})" if info.get("checks") else ""
        raise CheckRefused(
            f"{run_dir} is a side-by-side run, not a sweep{checked}: confirm the sweep"
        )
    if not (run_dir / CELLS_FILE).is_file():
        raise CheckRefused(f"{run_dir}: no cell measured in it yet, nothing to check")
    return info


#: what must match between the machine that measured a sweep and this one
MACHINE_FIELDS = ("hostname", "platform_key", "cpu_model", "cores_usable")


def _named_by_its_user(fingerprint: dict[str, Any]) -> bool:
    """Whether the sweep's machine name was chosen (``--machine``) rather than made from its
    host name: a chosen name is the machine's identity, whatever a container calls its host."""
    from bench.machine import default_name

    name = fingerprint.get("machine")
    return bool(name) and name != default_name(fingerprint)


def other_machine(run_dir: Path, then: dict[str, Any], here: dict[str, Any]) -> str | None:
    """Why this machine (``here``, its fingerprint) is not the one that measured the sweep in
    ``run_dir`` (``then``, the sweep's fingerprint.json): its platform, CPU model or usable
    cores differ, or its host name does where the sweep's machine name was made from it (a
    container started again gets a new host name; a machine named with ``--machine`` keeps
    its name); None when none does (or the sweep recorded none of them)."""
    named = _named_by_its_user(then)
    for field in MACHINE_FIELDS:
        if field == "hostname" and named:
            continue
        recorded, current = then.get(field), here.get(field)
        if recorded not in (None, "") and current not in (None, "") and recorded != current:
            return (
                f"{run_dir} was measured on another machine ({field} {recorded} there, "
                f"{current} here): check it where it was measured"
            )
    return None


def other_code_or_storage(
    run_dir: Path, info: dict[str, Any], library: dict[str, Any], place: dict[str, Any]
) -> str | None:
    """Why a check would time other code or other storage than the sweep in ``run_dir``
    (``info``, its run.json) did: what the report would judge apart from the sweep, so the
    check could decide nothing for it. ``library`` and ``place`` are this process's
    (``provenance.library_identity``, ``provenance.scratch_identity``)."""
    from bench import provenance

    if info.get("library_changed"):
        return f"{run_dir} was resumed under other code than it began with: measure a new sweep"
    if provenance.pooling_key({"library": library}) != provenance.pooling_key(
        {"library": info.get("library")}
    ):
        return f"{run_dir} measured other code or another Python than this one: measure a new sweep"
    then = (info.get("scratch_place") or {}).get("filesystem")
    if info.get("scratch_changed"):
        return f"{run_dir} wrote to two storage places (resumed elsewhere): measure a new sweep"
    if then and place.get("filesystem") and then != place["filesystem"]:
        chosen = os.environ.get(SCRATCH_ENV)
        now = f"{SCRATCH_ENV}={chosen}" if chosen else f"{SCRATCH_ENV} not set"
        return (
            f"{run_dir} wrote its cells to {then} storage, a check would write to "
            f"{place['filesystem']} ({now}): set {SCRATCH_ENV} as the sweep had it"
        )
    return None


def scratch_place(run_dir: Path) -> Path:
    """Where the check writes: where the sweep's cells wrote (``$ARCHIVE_BENCH_SCRATCH``,
    else the sweep's own file system, beside its run folder)."""
    chosen = os.environ.get(SCRATCH_ENV)
    return Path(chosen) if chosen else run_dir.parent


@dataclass
class Check:
    """What ``check_run`` did: the suspects, the ones it timed, and the run it filed."""

    found: list[Suspect]
    checked: list[Suspect]
    run_dir: Path | None = None


def check_run(
    run_dir: Path,
    rounds: int = DEFAULT_ROUNDS,
    budget_min: float = DEFAULT_BUDGET_MIN,
    results_root: Path | None = None,
    argv: list[str] | None = None,
) -> Check:
    """Time side by side, ``rounds`` alternating rounds each, the cells of the sweep in
    ``run_dir`` that read slower than the old way, worst first, as many as ``budget_min``
    minutes hold; file them as a run beside it, under the sweep's machine. Raises
    ``CheckRefused`` for a folder that is no sweep with cells (``read_run_info``), another
    machine (``other_machine``), or other code, Python or storage than the sweep timed
    (``other_code_or_storage``); ImportError without numpy."""
    from bench import fingerprint as fp_mod
    from bench import provenance
    from bench.interleaved import measure_cells, save_run

    info = read_run_info(run_dir)
    root = results_root if results_root is not None else run_dir.parent.parent
    found = suspects(read_records(run_dir / CELLS_FILE))
    check = Check(found, within_budget(found, rounds, budget_min * 60.0))
    if not check.checked:
        return check
    try:
        then = json.loads((run_dir / FINGERPRINT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        then = {}
    here = fp_mod.collect_fingerprint(root)
    library = provenance.library_identity()
    base = scratch_place(run_dir)
    problem = other_machine(
        run_dir, then if isinstance(then, dict) else {}, here
    ) or other_code_or_storage(run_dir, info, library, provenance.scratch_identity(base))
    if problem is not None:
        raise CheckRefused(problem)
    records = measure_cells(cells_by_workload(check.checked), rounds, base=base, results_root=root)
    check.run_dir = save_run(
        records,
        root,
        argv or ["archive-bench", "confirm", str(run_dir)],
        rounds,
        info.get("machine"),
        library=library,
        base=base,
        preset=CHECK_PRESET,
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


__all__ = [
    "Check",
    "CheckRefused",
    "Suspect",
    "check_run",
    "describe",
    "suspects",
    "within_budget",
]
