"""Whether workers pay for batches of tiny files on this machine, measured side by side.

``python -m bench.tiny_batches [--workload package[:scale]] [--threads 4]
[--cases extract:zip,extract:tar.gz,create:zip] [--rounds 15] [--max-contention SHARE]
[--dir FOLDER] [--json]`` runs each case (``operation:format``, the harness's own cells and
output checks) two ways in one process, with the library's parallel path at ``--threads``:

* ``caller``: a batch of files averaging under ``pool.INLINE_MEAN_FILE_SIZE`` (under
  ``pool.INLINE_MEAN_DEFLATED_SIZE`` when the task also deflates them, as the zip writer's do)
  is handled by the calling thread as it comes, while the workers take the larger ones (what
  the library does);
* ``workers``: every batch goes to the workers, whatever its files weigh;
* ``helpers``: as ``caller``, with the caller sharing its tiny batches with forked helper
  processes where the library forks them (``ArchiveConfig.helper_processes``: zip extraction
  on Linux); ``caller`` and ``workers`` run with none.

Each file of a tiny batch costs a few system calls and a little interpreter work; every system
call hands Python's interpreter lock over, so more threads doing them mostly wait for the lock
and for each other (``python -m bench.file_scaling`` shows it without the library). The tool
forces each way by setting the threshold, so both run on any machine. Each round runs the ways
in a shuffled order, after a timing of the sequential path; a line gives the three medians, the
speedup of each way over the sequential path, the ratio workers time / caller time with a 95%
bootstrap interval (above 1, handing tiny batches to workers costs more than it gains here) and
the ratio caller time / helpers time (above 1, the helper processes pay).
Each round is read for other work (``bench.contention``); ``--max-contention`` judges from the
rounds it left free. Outputs go in a new folder under ``--dir``, ``ARCHIVE_BENCH_SCRATCH`` or the
temporary folder (``bench.scratch``), named with its file system before the first round.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import contention, side_by_side
from bench.cases import Case
from bench.grid import Workload
from bench.interleaved import case_for, reads_archive
from bench.provenance import scratch_identity
from bench.scratch import measuring_place, scratch_base, scratch_folder
from bench.thread_scaling import case_list, library_cell
from bench.workloads import build_input_archives, fixtures_root, prepare_tree

DEFAULT_CASES = "extract:zip,extract:tar.gz,create:zip"
WAYS = ("caller", "workers", "helpers")


@contextmanager
def tiny_batches_to(way: str) -> Iterator[None]:
    """Make the library hand batches of tiny files to ``way``: the caller (its own rule), the
    workers (no batch counts as tiny), or the caller and helper processes (its own rules:
    ``caller`` and ``workers`` fork none)."""
    from archive_parallel import pool
    from archive_parallel.extract import zip_extract

    real = pool.INLINE_MEAN_FILE_SIZE, pool.INLINE_MEAN_DEFLATED_SIZE
    real_helper_min = zip_extract.HELPER_MIN_FILES
    if way == "workers":
        pool.INLINE_MEAN_FILE_SIZE = pool.INLINE_MEAN_DEFLATED_SIZE = 0
    if way != "helpers":
        zip_extract.HELPER_MIN_FILES = sys.maxsize
    try:
        yield
    finally:
        pool.INLINE_MEAN_FILE_SIZE, pool.INLINE_MEAN_DEFLATED_SIZE = real
        zip_extract.HELPER_MIN_FILES = real_helper_min


def _case(workload: Workload, operation: str, fmt: str, threads: int, prepared, work: Path):
    cell = library_cell(workload, operation, fmt, threads, "zlib")
    return case_for(cell, prepared, work / cell["cell_id"])


def _timed(case: Case) -> float:
    case.reset()
    start = time.perf_counter()
    case.run()
    return time.perf_counter() - start


def measure(
    workload: Workload,
    cases: tuple[tuple[str, str], ...],
    threads: int,
    rounds: int,
    seed: int = 0,
    max_contention: float | None = None,
    base: Path | None = None,
) -> list[dict[str, Any]]:
    """One row per case: the median seconds of the sequential path and of each way, their
    speedups and the ratio workers / caller, from the rounds other work left free (every round
    when ``max_contention`` is None), measured in a new folder under ``base``."""
    prepared = prepare_tree(fixtures_root(Path("results")), workload)
    place = scratch_identity(scratch_base(base))
    rng = random.Random(seed)
    rows = []
    with scratch_folder("tiny-batches", base) as work:
        read = sorted({fmt for op, fmt in cases if reads_archive(op)})
        build_input_archives(prepared, read, work)
        for operation, fmt in cases:
            sequential = _case(workload, operation, fmt, 1, prepared, work)
            parallel = _case(workload, operation, fmt, threads, prepared, work)
            values: dict[str, list[float]] = {way: [] for way in ("sequential", *WAYS)}
            readings = contention.RoundReadings()
            try:
                for _ in range(rounds):
                    order = list(WAYS)
                    rng.shuffle(order)
                    with readings.round():
                        values["sequential"].append(_timed(sequential))
                        for way in order:
                            with tiny_batches_to(way):
                                values[way].append(_timed(parallel))
                            problem = parallel.verify()
                            if problem:
                                raise RuntimeError(f"{operation} {fmt}, {way}: {problem}")
                    parallel.reset()
                    sequential.reset()
            finally:
                sequential.close()
                parallel.close()
            kept = readings.kept(max_contention)
            seq = values["sequential"]
            rows.append(
                {
                    "operation": operation,
                    "format": fmt,
                    "threads": threads,
                    "sequential_s": side_by_side.kept_median(seq, kept),
                    **{f"{way}_s": side_by_side.kept_median(values[way], kept) for way in WAYS},
                    **{
                        f"{way}_over_sequential": side_by_side.paired_cell(seq, values[way], kept)
                        for way in WAYS
                    },
                    # workers time / caller time: median(workers) / median(caller)
                    "workers_over_caller": side_by_side.paired_cell(
                        values["workers"], values["caller"], kept
                    ),
                    # caller time / helpers time: above 1, the helper processes pay
                    "caller_over_helpers": side_by_side.paired_cell(
                        values["caller"], values["helpers"], kept
                    ),
                    **side_by_side.round_fields(readings, kept),
                    "scratch_place": place,
                }
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    from archive_parallel import pool

    parser = argparse.ArgumentParser(prog="python -m bench.tiny_batches", description=__doc__)
    side_by_side.add_one_workload_arguments(parser, Workload("package", 1.0), threads=4)
    parser.add_argument(
        "--cases",
        type=case_list,
        default=case_list(DEFAULT_CASES),
        help=f"operation:format,... ({DEFAULT_CASES})",
    )
    args = parser.parse_args(argv)
    if args.threads < 2:
        parser.error("--threads: the parallel path needs 2 or more")
    workload = args.workload
    base = measuring_place(parser, args.dir, announce=not args.json)
    rows = measure(
        workload,
        args.cases,
        args.threads,
        args.rounds,
        max_contention=args.max_contention,
        base=base,
    )
    if args.json:
        print(json.dumps({"usable_cores": pool.usable_cpu_count(), "rows": rows}, indent=2))
        return 0
    print(
        f"{workload.profile} (scale {workload.scale:g}), {args.threads} threads, "
        f"{args.rounds} rounds; workers time / caller time (95% interval): above 1, handing "
        "tiny batches to workers costs more than it gains; caller time / helpers time: above "
        "1, helper processes pay"
    )
    for row in rows:
        print(
            f"{row['operation']:<8} {row['format'] or 'files':<8} "
            f"sequential {row['sequential_s'] * 1e3:7.1f} ms   "
            f"caller {row['caller_s'] * 1e3:7.1f} ms "
            f"({side_by_side.ratio_text(row['caller_over_sequential'])})   "
            f"workers {row['workers_s'] * 1e3:7.1f} ms "
            f"({side_by_side.ratio_text(row['workers_over_sequential'])})   "
            f"{side_by_side.ratio_text(row['workers_over_caller'])}   "
            f"helpers {row['helpers_s'] * 1e3:7.1f} ms "
            f"{side_by_side.ratio_text(row['caller_over_helpers'])}"
            f"{side_by_side.rounds_note(row['rounds_kept'], args.max_contention)}"
        )
    print(side_by_side.contention_line(rows, args.max_contention))
    print(
        f"this machine: {pool.usable_cpu_count()} usable cores; the library hands batches "
        f"averaging under {pool.INLINE_MEAN_FILE_SIZE // 1024} KiB a file (to deflate, "
        f"{pool.INLINE_MEAN_DEFLATED_SIZE // 1024} KiB) to the calling thread"
    )
    return 0


if __name__ == "__main__":
    from bench.cli import run_tool

    run_tool("bench.tiny_batches", main)
