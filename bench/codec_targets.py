"""The codec targets of a ``--codecs`` run: ratios of medians between two cells, side by side.

``python -m bench.codec_targets RUN_DIR`` reads the run's ``cells.jsonl`` (raw pyperf values,
archive sizes); ``python -m bench.codec_targets --measure medium,package,small`` measures the
cells the targets need now, side by side in alternating rounds (``bench.interleaved``), which
is what a busy machine needs. Either way it prints one line per target: the ratio of the
baseline's median time to the measured cell's, its 95% bootstrap interval, and met / missed /
inconclusive (the interval decides, as everywhere in bench), and under it, where the cells
carry CPU readings, where the ratio comes from (``bench.work_split``): the cores each side kept
busy and the measured cell's CPU time against the baseline's, which tells a target bounded by
the machine's cores from one bounded by serial work. Targets compare any two cells,
so a tar.zst creation can be set against the tar.gz reference loop, which the per-group
speedup columns of ``results.csv`` cannot do. Cells a run did not measure are listed as absent
(so are cells skipped because the machine lacks an optional package). A target whose cell
failed output verification (its record is not valid) is listed as invalid, with the reason
shortened: it never counts as met, whatever the timings say.
A side-by-side measurement also reads, round by round, how much of the CPUs other work took
(``bench.contention``) and prints it per workload; ``--max-contention 0.1`` judges every ratio
from the rounds at or under that share only, both sides from the same rounds, and says how many
rounds each verdict rests on. ``--measure`` writes in a new folder under ``--dir``,
``ARCHIVE_BENCH_SCRATCH`` or the temporary folder (``bench.scratch``) and names that place and
its file system before the first round.

``python -m bench.codec_targets RUN RUN ...`` judges several runs of the same code on the same
machine together (``bench.provenance`` says which code each run measured; runs of other code
or of another machine are refused): each ratio from all their rounds, every run resampled
within itself (``stats.pooled_ratio_ci``), with each run's own verdict beside it. Runs whose
own intervals do not overlap measured something that changed between them, so their pooled
verdict stands only where every run alone gives it, and the line says so. A cell that failed
verification in any of the runs makes its targets invalid, and the line names those runs: a
valid record of another run never stands in for it. A machine's
folder (``results/<machine>``) stands for its runs of the code its newest run measured, the
runs the report pools. Every listing ends with what chance alone does to that many verdicts
at 95% each: about one in twenty lands on the wrong side of its line, so a lone verdict near
the line is settled by another run, not by the first.
"""

from __future__ import annotations

import argparse
import logging
import math
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import (
    contention,
    memory_reporting,
    parallel_probe,
    provenance,
    side_by_side,
    stats,
    work_split,
)
from bench.codec_axes import FOREIGN_FORMATS, NOT_MEASURED
from bench.results import free_round_indices, pooled_record_ratio, read_records
from bench.schema import INCONCLUSIVE
from bench.scratch import add_dir_argument, measuring_place

MEDIUM = ("medium", 1.0)
#: the verdict of a ratio judged from fewer than ``stats.MIN_SAMPLES`` rounds (no interval)
TOO_FEW = "too few"
#: the verdict of a target whose cell failed output verification
INVALID = "invalid"
#: how much of an invalid cell's reason a listing shows
REASON_CHARS = 80


@dataclass(frozen=True)
class Pick:
    """Which cell: operation, format, variant, backend (threads: 2 for parallel)."""

    operation: str
    format: str
    variant: str
    backend: str = "zlib"


@dataclass(frozen=True)
class Target:
    """``measured`` at least ``at_least`` times as fast as ``baseline`` on ``workload``.

    ``level_within``: a no-regression target (``small`` and ``package`` against the old way
    or the sequential path, at 1.0), also met when its interval straddles the line but the
    ratio itself is at least ``at_least`` and the interval's low end at least this (0.95):
    the noise a level ratio shows on a 2-core machine, as the targets define them."""

    label: str
    measured: Pick
    baseline: Pick
    at_least: float
    workload: tuple[str, float] = MEDIUM
    level_within: float | None = None


#: the low end of the interval a level target may have (``Target.level_within``)
LEVEL_WITHIN = 0.95


def target_verdict(ratio: float, low: float, high: float, target: Target) -> str:
    """``stats.verdict`` of the interval against ``target.at_least``; a level target whose
    interval straddles the line meets it when the ratio is on it or above and the low end
    within ``target.level_within``."""
    verdict = stats.verdict(low, high, target.at_least)
    if (
        verdict == INCONCLUSIVE
        and target.level_within is not None
        and ratio >= target.at_least
        and low >= target.level_within
    ):
        return "meets"
    return verdict


def _par(op: str, fmt: str, backend: str = "zlib") -> Pick:
    return Pick(op, fmt, "parallel", backend)


def _ref(op: str, fmt: str) -> Pick:
    return Pick(op, fmt, "reference", "zlib")


def _seq(op: str, fmt: str, backend: str = "zlib") -> Pick:
    return Pick(op, fmt, "sequential", backend)


def default_targets() -> list[Target]:
    targets = [
        Target(
            "extract tar.gz (own), isal inflate, vs tarfile.extractall",
            _par("extract", "tar.gz", "isal"),
            _ref("extract", "tar.gz"),
            2.5,
        ),
        Target(
            "extract zip, isal inflate, integrity on, vs ZipFile.extractall",
            _par("extract", "zip", "isal"),
            _ref("extract", "zip"),
            2.0,
        ),
        Target(
            "create tar.gz with isal vs the reference loop",
            _par("create", "tar.gz", "isal"),
            _ref("create", "tar.gz"),
            4.0,
        ),
        Target(
            "create tar.gz (zlib) vs the reference loop",
            _par("create", "tar.gz"),
            _ref("create", "tar.gz"),
            2.0,
        ),
        Target(
            "create zip (zlib) vs the reference loop",
            _par("create", "zip"),
            _ref("create", "zip"),
            2.0,
        ),
        Target(
            "create tar.bz2 vs the reference loop",
            _par("create", "tar.bz2"),
            _ref("create", "tar.bz2"),
            2.0,
        ),
        Target(
            "create zip with isal vs the reference loop",
            _par("create", "zip", "isal"),
            _ref("create", "zip"),
            3.5,
        ),
        Target(
            "create tar.zst (level 3) vs the tar.gz reference loop",
            _par("create", "tar.zst"),
            _ref("create", "tar.gz"),
            6.0,
        ),
        Target(
            "extract tar.zst vs tarfile.extractall of the tar.gz",
            _par("extract", "tar.zst"),
            _ref("extract", "tar.gz"),
            3.0,
        ),
        Target(
            "sequential create tar.gz vs the reference loop",
            _seq("create", "tar.gz"),
            _ref("create", "tar.gz"),
            1.0,
        ),
    ]
    for fmt in FOREIGN_FORMATS:
        base = fmt.split("+", 1)[0]
        targets += [
            Target(
                f"{fmt}: parallel extract vs sequential (no rapidgzip)",
                _par("extract", fmt, "isal"),
                _seq("extract", fmt, "isal"),
                1.0,
            ),
            Target(
                f"{fmt}: parallel extract vs extractall (no rapidgzip)",
                _par("extract", fmt, "isal"),
                _ref("extract", fmt),
                1.0,
            ),
        ]
        if base == "tar.gz":
            targets.append(
                Target(
                    f"{fmt}: extract with rapidgzip vs extractall",
                    _par("extract", fmt, "rapidgzip"),
                    _ref("extract", fmt),
                    1.5,
                )
            )
    for profile in ("package", "small"):
        workload = (profile, 1.0)
        for op in ("create", "extract", "verify"):
            for fmt in ("tar.gz", "zip"):
                backend = "zlib" if op == "create" else "isal"  # the defaults, isal installed
                floor = {("package", "create", "zip"): 1.8, ("package", "extract", "zip"): 1.5}
                at_least = floor.get((profile, op, fmt), 1.0)
                targets.append(
                    Target(
                        f"{profile}: {op} {fmt} vs the reference loop",
                        _par(op, fmt, backend),
                        _ref(op, fmt),
                        at_least,
                        workload,
                        LEVEL_WITHIN if at_least == 1.0 else None,
                    )
                )
                if op == "verify":  # one path: verification has no sequential variant cell
                    continue
                # the sequential path never below the old way, the parallel never below it
                targets += [
                    Target(
                        f"{profile}: sequential {op} {fmt} vs the reference loop",
                        _seq(op, fmt, backend),
                        _ref(op, fmt),
                        1.0,
                        workload,
                        LEVEL_WITHIN,
                    ),
                    Target(
                        f"{profile}: {op} {fmt} vs the sequential path",
                        _par(op, fmt, backend),
                        _seq(op, fmt, backend),
                        1.0,
                        workload,
                        LEVEL_WITHIN,
                    ),
                ]
        targets.append(
            Target(
                f"{profile}: checksums vs the reference loop",
                _par("checksum", ""),
                _ref("checksum", ""),
                1.0,
                workload,
                LEVEL_WITHIN,
            )
        )
    return targets


def _matches(record: dict[str, Any], pick: Pick, workload: tuple[str, float]) -> bool:
    """Whether ``record`` is a cell of ``pick`` on ``workload`` (parallel: at 2 threads)."""
    return (
        record["operation"] == pick.operation
        and record["format"] == pick.format
        and record["variant"] == pick.variant
        and record["workload"] == workload[0]
        and math.isclose(float(record["scale"]), workload[1])
        and (pick.variant == "reference" or record["backend"] == pick.backend)
        and (pick.variant != "parallel" or int(record["threads"]) == 2)
    )


def skipped(record: dict[str, Any]) -> bool:
    """Whether ``record`` is of a cell not run because the machine lacks an optional package
    (``bench.codec_axes.NOT_MEASURED``): not measured, and nothing went wrong."""
    return not record.get("valid") and str(record.get("invalid_reason") or "").startswith(
        NOT_MEASURED
    )


def _find(records: list[dict[str, Any]], pick: Pick, workload: tuple[str, float]):
    """The record of ``pick`` on ``workload`` in one run, whatever its validity: a valid one
    where the run holds one (a pick can match cells of several batch sizes), else an invalid
    one, so that a cell with wrong output reads invalid, not absent. None when the run did not
    measure it, or skipped it for a missing optional package (``skipped``)."""
    found = [r for r in records if _matches(r, pick, workload) and not skipped(r)]
    return next((r for r in found if r.get("valid")), found[0] if found else None)


def _find_valid(records: list[dict[str, Any]], pick: Pick, workload: tuple[str, float]):
    """``_find``, valid records only (None for a cell whose output failed verification)."""
    record = _find(records, pick, workload)
    return record if record is not None and record.get("valid") else None


def short_reason(reason: str | None, limit: int = REASON_CHARS) -> str:
    """An invalid record's reason for one line: its first problem, cut to ``limit``."""
    first = (reason or "").split("; ", 1)[0].strip() or "no reason recorded"
    return first if len(first) <= limit else first[: limit - 3].rstrip() + "..."


@dataclass(frozen=True)
class Failure:
    """One side of a target whose record failed output verification."""

    #: the run it is in (an index into the runs judged), None for the fallback records
    run: int | None
    side: str  # "measured cell" or "baseline cell"
    reason: str  # shortened (``short_reason``)


def _failures(records: list[dict[str, Any]], target: Target, run: int | None) -> list[Failure]:
    """The sides of ``target`` whose record in ``records`` (one run) is not valid."""
    failures = []
    for side, pick in (("measured cell", target.measured), ("baseline cell", target.baseline)):
        record = _find(records, pick, target.workload)
        if record is not None and not record.get("valid"):
            failures.append(Failure(run, side, short_reason(record.get("invalid_reason"))))
    return failures


def invalid_text(failures: list[Failure], runs: int, names: list[str] | None = None) -> str:
    """Why a target is invalid: which side failed verification and why (the first reason),
    and, among ``runs`` runs judged together, in which of them (by ``names`` when given)."""
    if not failures:
        return ""
    sides = " and ".join(dict.fromkeys(f.side for f in failures))
    failed = sorted({f.run for f in failures if f.run is not None})
    where = ""
    if runs > 1 and failed:
        named = ", ".join(names[k] if names else f"run {k + 1}" for k in failed)
        where = f" in {len(failed)} of {runs} runs ({named})"
    return f"{sides} invalid{where}: {failures[0].reason}"


def evaluate(
    records: list[dict[str, Any]], targets: list[Target], max_contention: float | None = None
) -> list[dict[str, Any]]:
    """One row per target: ratio, interval and verdict, and the rounds they rest on (with
    ``max_contention``, only the rounds other work left the CPUs free enough in)."""
    return evaluate_runs([records], targets, max_contention)


def latest_records(runs: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """One record per cell: the latest run's (``runs`` oldest first) of each."""
    by_cell: dict[str, dict[str, Any]] = {}
    for records in runs:
        for record in records:
            by_cell[str(record.get("cell_id"))] = record
    return list(by_cell.values())


Pair = tuple[dict[str, Any], dict[str, Any]]  # (baseline record, measured record) of one run


def _pair(records: list[dict[str, Any]], target: Target) -> Pair | None:
    """The (baseline, measured) records of ``target`` in ``records``, None unless both
    (valid or not: ``evaluate_runs`` turns an invalid one into an invalid verdict)."""
    measured = _find(records, target.measured, target.workload)
    baseline = _find(records, target.baseline, target.workload)
    return (baseline, measured) if measured is not None and baseline is not None else None


def _judge(pairs: list[Pair], target: Target, seed: int, max_contention: float | None):
    """(ratio, low, high, verdict, rounds) of ``target`` over ``pairs``, pooled."""
    ratio, low, high = pooled_record_ratio(pairs, seed, max_contention)
    kept = [
        free_round_indices(baseline, measured, max_contention)
        if max_contention is not None
        else None
        for baseline, measured in pairs
    ]
    rounds = sum(
        len(k) if k is not None else len(measured["values"])
        for k, (_, measured) in zip(kept, pairs)
    )
    verdict = target_verdict(ratio, low, high, target)
    if kept and all(k is not None and not k for k in kept):
        verdict = "no free round"
    elif 0 < rounds < stats.MIN_SAMPLES:  # no interval: judged from too little
        verdict = TOO_FEW
    return ratio, low, high, verdict, rounds


def evaluate_runs(
    runs: list[list[dict[str, Any]]],
    targets: list[Target],
    max_contention: float | None = None,
    fallback: list[dict[str, Any]] | None = None,
    names: list[str] | None = None,
) -> list[dict[str, Any]]:
    """``evaluate`` over several runs of the same code on the same machine (oldest first).

    A target is judged from every run that measured both of its cells, their rounds pooled
    (``results.pooled_record_ratio``: each run resampled within itself); ``run_verdicts`` and
    ``run_ratios`` hold each of those runs' own verdict and (ratio, low, high) when there are
    several. Pooling assumes the runs measured the same thing: where two runs' own intervals
    do not overlap (``runs_disagree``), something differed between them, and a pooled verdict
    that not every run gives alone is ``inconclusive``. A target whose two cells no single
    run measured is judged from ``fallback`` (by default the latest record of each cell in
    ``runs``), as one run's would be.

    A target one of whose cells failed output verification in any of ``runs`` (or, judged
    from the fallback, in the records it would be judged from) is ``invalid``, with no ratio:
    a valid record of another run never stands in for it. ``failures`` holds each such side
    (``Failure``), and ``invalid`` says it in words, naming the runs by ``names``."""
    merged = fallback if fallback is not None else latest_records(runs)
    rows = []
    for i, target in enumerate(targets):
        failures = [f for k, records in enumerate(runs) for f in _failures(records, target, k)]
        pairs = [pair for records in runs if (pair := _pair(records, target)) is not None]
        if not pairs:
            pairs = [pair] if (pair := _pair(merged, target)) is not None else []
            failures = failures or _failures(merged, target, None)
        row: dict[str, Any] = {
            "target": target.label,
            "workload": target.workload[0],
            "at_least": target.at_least,
            "level_within": target.level_within,
            "runs": len(pairs),
            "run_verdicts": [],
            "run_ratios": [],
            "runs_disagree": False,
            "failures": failures,
            "invalid": invalid_text(failures, len(runs), names),
            "work": None,
        }
        nothing = {"ratio": math.nan, "low": math.nan, "high": math.nan, "rounds": 0}
        if failures:
            row.update(nothing, verdict=INVALID)
        elif not pairs:
            row.update(nothing, verdict="absent")
        else:
            row.update(_judged(pairs, target, 1000 + i, max_contention))
        rows.append(row)
    return rows


def _judged(
    pairs: list[Pair], target: Target, seed: int, max_contention: float | None
) -> dict[str, Any]:
    """A target's ratio, interval, verdict and rounds over ``pairs`` (valid records), and
    with several runs each one's own verdict and ratio, and whether they disagree."""
    ratio, low, high, verdict, rounds = _judge(pairs, target, seed, max_contention)
    row: dict[str, Any] = {}
    if len(pairs) > 1:
        alone = [_judge([pair], target, seed, max_contention) for pair in pairs]
        row["run_verdicts"] = [judged[3] or "-" for judged in alone]
        row["run_ratios"] = [judged[:3] for judged in alone]
        row["runs_disagree"] = runs_disagree(row["run_ratios"])
        if row["runs_disagree"] and any(v != verdict for v in row["run_verdicts"]):
            verdict = INCONCLUSIVE
    row.update(ratio=ratio, low=low, high=high, verdict=verdict, rounds=rounds)
    row["work"] = work_split.split([b for b, _ in pairs], [m for _, m in pairs])
    return row


def runs_disagree(intervals: list[tuple[float, float, float]]) -> bool:
    """Whether some two runs' own intervals ((ratio, low, high) each) do not overlap: the
    runs differ by more than their rounds' spread explains (runs without an interval are
    left out)."""
    bounded = [
        (low, high) for _, low, high in intervals if not (math.isnan(low) or math.isnan(high))
    ]
    return len(bounded) > 1 and max(low for low, _ in bounded) > min(high for _, high in bounded)


def contention_lines(records: list[dict[str, Any]], max_contention: float | None) -> list[str]:
    """Per workload measured side by side: how busy the machine was, round by round."""
    lines = []
    seen: set[str] = set()
    for r in records:
        group, shares = r.get("round_group"), r.get("round_contention")
        if group and shares and group not in seen:
            seen.add(group)
            lines.append(f"[{r['workload']}] {contention.summary(shares, max_contention)}")
    return lines


def sizes(records: list[dict[str, Any]]) -> list[tuple[str, str, str, int]]:
    """Archive sizes of the create cells (workload, format, backend, bytes), sequential."""
    out = []
    for r in records:
        if r["operation"] == "create" and r["variant"] == "sequential" and r.get("output_bytes"):
            out.append((r["workload"], r["format"], r["backend"], int(r["output_bytes"])))
    return sorted(out)


#: (format, backend) whose archive must be no larger than the other's, on the same workload
SIZE_TARGETS = ((("tar.zst", "zlib"), ("tar.gz", "zlib")),)


def size_rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The size targets (``SIZE_TARGETS``) per workload that created both archives: the
    ratio of the larger-allowed archive's bytes to the checked one's (at least 1 meets; the
    bytes do not depend on threads or runs, so there is no interval)."""
    made: dict[tuple[str, str, str], int] = {}
    for r in records:
        if r["operation"] == "create" and r.get("output_bytes") and r["variant"] != "reference":
            made[(r["workload"], r["format"], r["backend"])] = int(r["output_bytes"])
    rows = []
    for checked, other in SIZE_TARGETS:
        for workload in sorted({w for w, _, _ in made}):
            mine, theirs = made.get((workload, *checked)), made.get((workload, *other))
            if mine and theirs:
                rows.append(
                    {
                        "target": f"{checked[0]} no larger than {other[0]} (level 6)",
                        "workload": workload,
                        "bytes": mine,
                        "other_bytes": theirs,
                        "ratio": theirs / mine,
                        "verdict": "meets" if mine <= theirs else "misses",
                    }
                )
    return rows


def ship_table(records: list[dict[str, Any]], workload: str) -> list[dict[str, Any]]:
    """What to ship: per own format and create backend, the parallel (2 threads) create
    median and archive size, the extract median with the default reader (isal when it was
    measured, else zlib), and the larger peak RSS of the two, on ``workload``."""

    def median(r: dict[str, Any] | None) -> float:
        return statistics.median(r["values"]) if r and r.get("values") else math.nan

    rows = []
    where = (workload, 1.0)
    for fmt in sorted({r["format"] for r in records if r["operation"] == "create"}):
        extract = _find_valid(records, _par("extract", fmt, "isal"), where) or _find_valid(
            records, _par("extract", fmt, "zlib"), where
        )
        for backend in sorted({r["backend"] for r in records if r["format"] == fmt}):
            create = _find_valid(records, _par("create", fmt, backend), where)
            if create is None:
                continue
            peaks = [r.get("peak_rss_bytes") or 0 for r in (create, extract) if r]
            rows.append(
                {
                    "format": fmt,
                    "backend": backend,
                    "create_s": median(create),
                    "extract_s": median(extract),
                    "reader": extract["backend"] if extract else "",
                    "size_bytes": create.get("output_bytes") or math.nan,
                    "peak_rss_mib": max(peaks) / 2**20 if any(peaks) else math.nan,
                }
            )
    return rows


def picks_by_workload(targets: list[Target], workloads: set[str]) -> dict:
    """The cells the targets need, per workload (for an interleaved measurement)."""
    from bench.grid import Workload

    picks: dict[Workload, list[Pick]] = {}
    for target in targets:
        if target.workload[0] in workloads:
            key = Workload(*target.workload)
            picks.setdefault(key, []).extend([target.measured, target.baseline])
    return picks


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.codec_targets", description=__doc__)
    parser.add_argument(
        "run",
        type=Path,
        nargs="*",
        help="a run folder (results/<machine>/<run>), or a machine's folder "
        "(results/<machine>) for its runs of the code its newest run measured; several runs "
        "of the same code on the same machine are judged together, their rounds pooled",
    )
    parser.add_argument(
        "--measure",
        metavar="WORKLOADS",
        help="measure the targets now, interleaved (bench.interleaved), on these workloads "
        "(comma-separated: medium,package,small) instead of reading a run",
    )
    parser.add_argument("--rounds", type=int, default=5, help="rounds of --measure")
    memory_reporting.add_warm_memory_argument(parser, "timing of --measure")
    parser.add_argument(
        "--results",
        type=Path,
        metavar="ROOT",
        help="with --measure: also file the cells as a run under ROOT (e.g. results), so "
        "archive-bench report shows the targets and what-to-ship table of this measurement",
    )
    parser.add_argument("--machine", help="with --results: this machine's name in the results")
    side_by_side.add_contention_argument(parser)
    add_dir_argument(parser)
    return parser


def run_folders(paths: list[Path]) -> tuple[dict[Path, dict[str, Any]], list[str]]:
    """The run folders ``paths`` name, each with its run.json, and notes to print: a run
    folder (it holds cells.jsonl) as it is; a machine's folder (``results/<machine>``) as its
    runs that measured the code of its newest run (``provenance.newest_code_runs``), as the
    report pools them. ``ValueError`` for a path that holds no run."""
    from bench.runner import read_json
    from bench.schema import CELLS_FILE, RUN_FILE

    found: dict[Path, dict[str, Any]] = {}
    notes = []
    for path in paths:
        if (path / CELLS_FILE).is_file():
            found.setdefault(path, read_json(path / RUN_FILE))
            continue
        runs = sorted((cells.parent for cells in path.glob(f"*/{CELLS_FILE}")), key=_run_id)
        if not runs:
            raise ValueError(f"{path} holds no run: no {CELLS_FILE} in it or in its folders")
        infos = [read_json(run / RUN_FILE) for run in runs]
        picked = provenance.newest_code_runs(infos)
        notes.append(
            f"{path}: {len(picked)} of its {len(runs)} runs measured the code of its newest "
            f"({', '.join(runs[i].name for i in picked)})"
        )
        for i in picked:
            found.setdefault(runs[i], infos[i])
    return found, notes


def _run_id(folder: Path) -> str:
    return folder.name  # run ids begin with their start time, so they sort in time order


def read_runs(paths: list[Path]) -> tuple[list[list[dict[str, Any]]], list[str], list[str]]:
    """The records of the runs ``paths`` name (``run_folders``), of one machine and one code,
    oldest first; their names, in the same order; and notes to print. ``ValueError`` naming
    the runs when they are of different machines or code (``bench.provenance.pooling_key``):
    those are judged one by one, never together."""
    from bench.schema import CELLS_FILE

    found, notes = run_folders(paths)
    folders = sorted(found, key=_run_id)
    infos = [found[folder] for folder in folders]
    machines = {info.get("machine_key") for info in infos if info.get("machine_key")}
    if len(machines) > 1:
        raise ValueError(
            f"these runs are of different machines ({', '.join(sorted(machines))}): judge "
            "each machine's runs on their own"
        )
    keys = [provenance.pooling_key(info) for info in infos]
    known = {key: (folder, info) for folder, info, key in zip(folders, infos, keys) if key}
    if len(known) > 1:
        described = "; ".join(
            f"{folder.name}: {provenance.describe(info)}" for folder, info in known.values()
        )
        raise ValueError(
            f"these runs measured different code or codec versions ({described}): judge "
            "each on its own"
        )
    unknown = [folder.name for folder, key in zip(folders, keys) if key is None]
    if len(folders) > 1 and unknown:
        notes.append(
            f"note: {', '.join(unknown)} did not record the code measured; judged together "
            "with the others as asked"
        )
    runs = [read_records(folder / CELLS_FILE) for folder in folders]
    return runs, [folder.name for folder in folders], notes


def level_note(row: dict[str, Any]) -> str:
    """For a level target its interval alone leaves open (``Target.level_within``), how it
    was met; else nothing."""
    within = row.get("level_within")
    if within is None or row["verdict"] != "meets" or row["low"] >= row["at_least"]:
        return ""
    return f"met as level: a ratio of {row['at_least']:g} or more, the interval above {within:g}"


def _row_note(row: dict[str, Any], max_contention: float | None) -> str:
    """What follows a target's line: why it is invalid, or the runs and rounds it rests on,
    and how a level target was met."""
    if row["invalid"]:
        return f" ({row['invalid']})"
    note = _rounds_note(row, max_contention)
    if level := level_note(row):
        note += f"; {level}"
    return note


def _rounds_note(row: dict[str, Any], max_contention: float | None) -> str:
    if row["run_verdicts"]:
        note = (
            f" ({row['rounds']} rounds of {row['runs']} runs; each alone: "
            f"{', '.join(row['run_verdicts'])})"
        )
        if row["runs_disagree"]:
            note += f"; the runs disagree: {disagreement(row['run_ratios'])}"
        return note
    return side_by_side.rounds_note(row["rounds"], max_contention)


def disagreement(intervals: list[tuple[float, float, float]]) -> str:
    """Each run's own ratio and interval, for a target whose runs disagree."""
    return ", ".join(ratio_text(*interval) for interval in intervals)


def ratio_text(ratio: float, low: float, high: float) -> str:
    """``1.52x (1.42-1.64)``; ``-`` without a ratio; no interval from too few rounds."""
    if math.isnan(ratio):
        return "-"
    if math.isnan(low) or math.isnan(high):
        return f"{ratio:.2f}x (no interval)"
    return f"{ratio:.2f}x ({low:.2f}-{high:.2f})"


def print_verdicts(
    runs: list[list[dict[str, Any]]],
    max_contention: float | None,
    names: list[str] | None = None,
) -> None:
    """Each run's contention (after its name, from ``names``, when there are several), then
    one line per target (pooled over ``runs``), then what chance alone does to that many
    verdicts."""
    for i, records in enumerate(runs):
        prefix = f"{names[i]} " if names and len(runs) > 1 else ""
        for line in contention_lines(records, max_contention):
            print(prefix + line)
    rows = evaluate_runs(runs, default_targets(), max_contention, names=names or None)
    for row in rows:
        interval = ratio_text(row["ratio"], row["low"], row["high"])
        print(
            f"{row['verdict']:>12}  >= {row['at_least']:<4g} {interval:<22} "
            f"[{row['workload']}] {row['target']}{_row_note(row, max_contention)}"
        )
        if work := work_split.describe(row["work"]):
            print(f"{'':>12}  {'':<7} {'':<22} {work}")
    judged = sum(row["verdict"] in ("meets", "misses", "inconclusive") for row in rows)
    note = side_by_side.chance_note(judged)
    if note:
        print(f"\n{note}")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.results is not None and not args.measure:
        parser.error("--results goes with --measure (a run folder already is one)")
    if args.measure and args.run:
        parser.error("give run folders or --measure, not both")
    if args.warm_memory is not None and not args.measure:
        parser.error("--warm-memory goes with --measure")
    if args.dir is not None and not args.measure:
        parser.error("--dir goes with --measure (a run folder was measured already)")
    if args.measure:
        from bench.interleaved import measure, save_run

        logging.basicConfig(level=logging.INFO, format="%(message)s")
        wanted = {w.strip() for w in args.measure.split(",") if w.strip()}
        base = measuring_place(parser, args.dir)
        library = provenance.library_identity()
        probes = {"before": parallel_probe.probe()}
        print(parallel_probe.describe(probes["before"], "before"), flush=True)
        if reporting := memory_reporting.probe():
            print(f"memory handed back to a hypervisor: {memory_reporting.describe(reporting)}")
        records = measure(
            picks_by_workload(default_targets(), wanted),
            args.rounds,
            base=base,
            warm_memory_mib=args.warm_memory,
        )
        probes["after"] = parallel_probe.probe()
        print(parallel_probe.describe(probes["after"], "after"))
        if args.results is not None and records:
            argv_used = ["python", "-m", "bench.codec_targets", *(argv or sys.argv[1:])]
            run_dir = save_run(
                records,
                args.results,
                argv_used,
                args.rounds,
                args.machine,
                probes=probes,
                library=library,
                base=base,
            )
            print(f"run filed in {run_dir}")
        runs, names = [records], []
    elif args.run:
        try:
            runs, names, notes = read_runs(args.run)
        except ValueError as exc:
            parser.error(str(exc))
        for note in notes:
            print(note, file=sys.stderr)
    else:
        parser.error("give a run folder or --measure")
    records = latest_records(runs)
    if not records:
        print("no cells measured", file=sys.stderr)
        return 2
    print_verdicts(runs, args.max_contention, names)
    print()
    for workload, fmt, backend, size in sizes(records):
        print(f"size  {workload:<8} {fmt:<8} {backend:<6} {size:>12,d} bytes")
    for row in size_rows(records):
        print(
            f"{row['verdict']:>12}  size {row['bytes']:,} vs {row['other_bytes']:,} bytes "
            f"({row['ratio']:.4f}x) [{row['workload']}] {row['target']}"
        )
    peak = [
        (r["workload"], r["operation"], r["format"], r["backend"], r.get("peak_rss_bytes"))
        for r in records
        if r["variant"] == "parallel" and r.get("peak_rss_bytes")
    ]
    for workload, op, fmt, backend, rss in sorted(peak):
        print(f"peak  {workload:<8} {op:<8} {fmt:<15} {backend:<9} {rss / 2**20:8.1f} MiB RSS")
    for workload in sorted({r["workload"] for r in records if r["operation"] == "create"}):
        print(
            f"\nwhat to ship ({workload}, 2 threads): format, create backend, create s, "
            "extract s (reader), size bytes, peak RSS MiB"
        )
        for row in ship_table(records, workload):
            print(
                f"  {row['format']:<8} {row['backend']:<6} {row['create_s']:7.3f} "
                f"{row['extract_s']:7.3f} ({row['reader'] or '-':<4}) "
                f"{row['size_bytes']:>14,.0f} {row['peak_rss_mib']:7.1f}"
            )
    return 0


if __name__ == "__main__":
    from bench.cli import run_tool

    run_tool("bench.codec_targets", main)
