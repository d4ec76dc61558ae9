"""The codec targets in the report: ``bench.codec_targets``' own evaluation, per machine.

A target compares two cells (a tar.zst creation against the tar.gz reference loop, say) by
the ratio of their median times with a 95% bootstrap interval, which needs their raw timing
values: those are in each run's ``cells.jsonl``, not in ``results.csv``. The machine's newest
run decides which code is judged: every run of that machine that measured the same code
(``bench.provenance.pooling_key``) is judged together with it, their rounds pooled, exactly as
``python -m bench.codec_targets RUN RUN`` does, and each row says how many runs it rests on and
what each said alone (and each run's ratio where two runs' intervals do not overlap: then the
pooled verdict stands only if every run gives it alone). A target that none of those runs
measured falls back to the latest record of each of its cells in any run of the machine.
Targets whose cells were not measured are counted, not listed. A target whose cell failed
output verification in any of those runs is listed as invalid, with the reason and the runs
(a valid record of another run never stands in for it), and never counts as met. The size
targets (a tar.zst no larger than the tar.gz of the same tree) follow, with the two
archives' bytes. Where the runs filed CPU readings, each row also says where its ratio comes
from: the cores each side kept busy and the measured cell's CPU time against the baseline's
(``bench.work_split``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from bench.schema import CELLS_FILE
from reports.formatting import interval, ratio
from reports.loading import ResultSet, RunInfo

logger = logging.getLogger(__name__)


@dataclass
class TargetRow:
    target: str
    workload: str
    at_least: float
    ratio: str
    interval: str
    verdict: str
    #: how many runs the ratio pools, and each one's own verdict when there are several
    runs: int = 1
    run_verdicts: str = ""
    #: each run's own ratio and interval, where two runs' intervals do not overlap
    disagreement: str = ""
    #: a size target: bytes, exact, no interval and nothing left to chance
    exact: bool = False
    #: why the verdict is invalid: which cell failed output verification, in which runs
    invalid: str = ""
    #: where the ratio comes from: cores busy on each side, CPU time (``bench.work_split``)
    work: str = ""
    #: how a level target whose interval straddles its line was met (``Target.level_within``)
    level: str = ""


@dataclass
class MachineRuns:
    """A machine's records for the codec targets: the runs of its newest code, oldest first,
    the latest record of every cell in any of its runs (the fallback), and the pooled runs'
    ids (to name a run whose cell failed verification)."""

    pooled: list[list[dict[str, Any]]]
    latest: list[dict[str, Any]]
    names: list[str] = field(default_factory=list)


def _read(run: RunInfo) -> list[dict[str, Any]] | None:
    from bench.results import read_records

    try:
        return read_records(run.folder / CELLS_FILE)
    except OSError as exc:
        logger.warning("cannot read %s: %s", run.folder / CELLS_FILE, exc)
        return None


def machine_runs(result_set: ResultSet, machine_key: str) -> MachineRuns:
    """What the codec targets of ``machine_key`` are judged from (see the module docstring)."""
    from bench.codec_targets import latest_records
    from bench.provenance import newest_code_runs

    runs = sorted(
        (r for r in result_set.runs if r.machine_key == machine_key), key=lambda r: r.run_id
    )
    read = [(run, records) for run in runs if (records := _read(run))]
    if not read:
        return MachineRuns([], [])
    picked = newest_code_runs([run.run for run, _ in read])
    return MachineRuns(
        [read[i][1] for i in picked],
        latest_records([records for _, records in read]),
        [read[i][0].run_id for i in picked],
    )


def target_rows(found: MachineRuns) -> tuple[list[TargetRow], int]:
    """The codec targets a machine's runs measured (decided, or invalid for a cell that failed
    verification), and how many they did not measure (absent)."""
    from bench.codec_targets import (
        default_targets,
        disagreement,
        evaluate_runs,
        level_note,
        size_rows,
    )
    from bench.work_split import describe

    if not found.latest:
        return [], 0
    try:
        evaluated = evaluate_runs(
            found.pooled, default_targets(), fallback=found.latest, names=found.names or None
        )
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
            r["runs"],
            ", ".join(r["run_verdicts"]),
            disagreement(r["run_ratios"]) if r["runs_disagree"] else "",
            invalid=r["invalid"],
            work=describe(r.get("work")),
            level=level_note(r),
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
            exact=True,
        )
        for r in size_rows(found.latest)
    ]
    return rows, len(evaluated) - decided


def chance_note(rows: list[TargetRow], confidence: float = 0.95) -> str:
    """What chance alone does to this many verdicts from intervals (empty under five)."""
    from bench.stats import chance_misjudgements

    judged = sum(not row.exact for row in rows)
    if judged < 5:
        return ""
    return (
        f"{judged} ratios are judged here at {confidence:.0%} each, so about "
        f"{chance_misjudgements(judged, confidence):.1f} of them may land on the wrong side of "
        "their line by chance alone. Runs of the same code on a machine are pooled: measuring "
        "again firms up a lone verdict on the line, or shows it was chance."
    )


__all__ = ["MachineRuns", "TargetRow", "chance_note", "machine_runs", "target_rows"]
