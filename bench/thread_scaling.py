"""How far threads take the library on this machine, measured side by side.

``python -m bench.thread_scaling [--workloads medium:0.25,package] [--threads 1,2,4,8,16]
[--cases create:tar.gz,extract:zip,...] [--backend zlib] [--rounds 7] [--max-contention SHARE]
[--dir FOLDER] [--results ROOT] [--json]`` times, for each workload, each case (operation and
format) in three kinds of cell: the old way's reference loop, the library's sequential path
(the ``1`` of ``--threads``) and its parallel path at every other thread count. Every cell of a
workload runs once per round, the order shuffled each round (``bench.interleaved``, the
harness's own cases and output checks), so each ratio is of medians taken in the same minutes.

A line per case and thread count gives the median time, the speedup over the old way and over
the library's own sequential path, each with its 95% bootstrap interval (rounds resampled
whole), the parallel efficiency (the speedup over one thread divided by the threads), and where
the speedup comes from (``bench.work_split``): the cores the cell kept busy and its CPU time
against one thread's, so a count that adds threads but no busy cores (a serial part) reads
apart from one that adds CPU time (overhead). The
default thread counts are 1, 2, 4 and every doubling up to the cores this process may use, so
the same command answers on a 2-core VM, a 4-core Raspberry Pi and a 16-core workstation. With
``--results`` the cells are filed as a run (preset ``thread-scaling``), which ``archive-bench
report`` draws as scaling curves beside the sweeps. Each round is read for other work
(``bench.contention``); ``--max-contention`` judges from the rounds it left free.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bench import contention, side_by_side, work_split
from bench.codec_axes import CREATE_BACKENDS, READ_BACKENDS, is_foreign
from bench.grid import ALL_FORMATS, Cell, Workload
from bench.scratch import add_dir_argument, measuring_place

DEFAULT_CASES = (
    "create:tar.gz",
    "extract:tar.gz",
    "create:zip",
    "extract:zip",
    "create:tar.zst",
    "extract:tar.zst",
)
OPERATIONS = ("create", "extract", "verify", "checksum")
BATCH_SIZE = 50


def default_threads(cores: int) -> tuple[int, ...]:
    """1, 2, 4, then every doubling up to ``cores``."""
    counts = [1, 2, 4]
    while counts[-1] * 2 <= cores:
        counts.append(counts[-1] * 2)
    return tuple(counts)


def thread_counts(text: str) -> tuple[int, ...]:
    """``--threads``' type: comma-separated whole numbers, 1 or more, sorted, no repeats."""
    try:
        counts = sorted({side_by_side.positive_int(item.strip()) for item in text.split(",")})
    except argparse.ArgumentTypeError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: thread counts {exc}") from None
    return tuple(counts)


def case_list(text: str) -> tuple[tuple[str, str], ...]:
    """``--cases``' type: ``operation:format`` pairs, comma-separated."""
    cases = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        operation, _, fmt = item.partition(":")
        if operation not in OPERATIONS:
            raise argparse.ArgumentTypeError(
                f"{item!r}: the operation is one of {', '.join(OPERATIONS)}"
            )
        if operation == "checksum":
            fmt = ""
        elif fmt not in ALL_FORMATS or (operation == "create" and is_foreign(fmt)):
            raise argparse.ArgumentTypeError(
                f"{item!r}: the format is one of {', '.join(ALL_FORMATS)} "
                "(archives of other tools only to read)"
            )
        cases.append((operation, fmt))
    if not cases:
        raise argparse.ArgumentTypeError("give at least one case, e.g. extract:tar.gz")
    return tuple(dict.fromkeys(cases))


def library_cell(
    workload: Workload, operation: str, fmt: str, threads: int, backend: str
) -> dict[str, Any]:
    """The cell of the library at ``threads``: its sequential path for 1, else its parallel
    path in batches of ``BATCH_SIZE``."""
    parallel = threads > 1
    return Cell(
        operation=operation,
        format=fmt,
        workload=workload.profile,
        scale=float(workload.scale),
        variant="parallel" if parallel else "sequential",
        threads=threads,
        batch_size=BATCH_SIZE if parallel else 0,
        backend=backend,
    ).to_dict()


def scaling_cells(
    workload: Workload, cases: tuple[tuple[str, str], ...], threads: tuple[int, ...], backend: str
) -> list[dict[str, Any]]:
    """The cells of one workload: per case the reference loop, the sequential path (for a
    thread count of 1) and the parallel path at every other count."""
    cells = []
    for operation, fmt in cases:
        reference = Cell(
            operation=operation,
            format=fmt,
            workload=workload.profile,
            scale=float(workload.scale),
            variant="reference",
            threads=1,
            batch_size=0,
            backend="zlib",
        ).to_dict()
        cells.append(reference)
        cells.extend(library_cell(workload, operation, fmt, n, backend) for n in threads)
    return cells


def scaling_rows(records: list[dict[str, Any]], max_contention: float | None) -> list[dict]:
    """One row per library cell: its median and speedups over the reference loop and over the
    sequential path of the same case and workload, judged from the rounds other work left
    free (every round when ``max_contention`` is None)."""
    by_case: dict[tuple, dict[str, dict[str, Any]]] = {}
    for record in records:
        key = (record["workload"], record["scale"], record["operation"], record["format"])
        by_case.setdefault(key, {})[f"{record['variant']}-{record['threads']}"] = record
    rows = []
    for (profile, scale, operation, fmt), cells in by_case.items():
        reference = cells.get("reference-1")
        sequential = cells.get("sequential-1")
        for record in cells.values():
            if record["variant"] == "reference":
                continue
            shares = record["round_contention"]
            kept = (
                list(range(len(shares)))
                if max_contention is None
                else contention.free_rounds(shares, max_contention)
            )
            row = {
                "workload": profile,
                "scale": scale,
                "operation": operation,
                "format": fmt,
                "threads": record["threads"],
                "variant": record["variant"],
                "median_s": side_by_side.kept_median(record["values"], kept),
                "valid": record["valid"],
                "invalid_reason": record["invalid_reason"],
                "rounds_kept": len(kept),
                "round_contention": shares,
            }
            if (busy := work_split.cores_busy(record, kept)) is not None:
                row["cores_busy"] = busy
            if reference is not None:
                row["reference_s"] = side_by_side.kept_median(reference["values"], kept)
                row["over_reference"] = side_by_side.paired_cell(
                    reference["values"], record["values"], kept
                )
            if sequential is not None:
                over_one = side_by_side.paired_cell(sequential["values"], record["values"], kept)
                row["over_one_thread"] = over_one
                row["efficiency"] = over_one["ratio"] / record["threads"]
                if (cpu := work_split.cpu_ratio(sequential, record, kept)) is not None:
                    row["cpu_vs_one_thread"] = cpu
            rows.append(row)
    return rows


def _row_text(row: dict[str, Any]) -> str:
    threads = row["threads"]
    label = f"{threads} thread{'' if threads == 1 else 's'}"
    text = (
        f"{row['operation']:<8} {row['format'] or 'files':<15} {label:<11} "
        f"{row['median_s'] * 1e3:8.1f} ms"
    )
    if "over_reference" in row:
        text += f"   old way {side_by_side.ratio_text(row['over_reference'])}"
    if "over_one_thread" in row and threads > 1:
        text += (
            f"   one thread {side_by_side.ratio_text(row['over_one_thread'])}"
            f"   efficiency {row['efficiency']:.0%}"
        )
    if "cores_busy" in row:
        text += f"   {row['cores_busy']:.2f} cores busy"
        if "cpu_vs_one_thread" in row and threads > 1:
            text += f" at {row['cpu_vs_one_thread']:.2f}x one thread's CPU time"
    if not row["valid"]:
        text += f"   INVALID: {row['invalid_reason']}"
    return text


def print_rows(rows: list[dict[str, Any]], max_contention: float | None) -> None:
    workloads: dict[tuple, list[dict[str, Any]]] = {}
    for row in rows:
        workloads.setdefault((row["workload"], row["scale"]), []).append(row)
    for (profile, scale), group in workloads.items():
        print(f"\n{profile} (scale {scale:g})")
        reference_printed: set[tuple] = set()
        for row in group:
            case = (row["operation"], row["format"])
            if case not in reference_printed and "reference_s" in row:
                reference_printed.add(case)
                print(
                    f"{row['operation']:<8} {row['format'] or 'files':<15} {'old way':<11} "
                    f"{row['reference_s'] * 1e3:8.1f} ms"
                )
            print(
                _row_text(row)
                + side_by_side.rounds_note(row["rounds_kept"], max_contention).rstrip()
            )
        print(side_by_side.contention_line(group, max_contention))


def main(argv: list[str] | None = None) -> int:
    from archive_parallel.cores import usable_cpu_count
    from bench.cli import _workloads
    from bench.interleaved import measure_cells, save_run

    parser = argparse.ArgumentParser(prog="python -m bench.thread_scaling", description=__doc__)
    parser.add_argument(
        "--workloads",
        type=_workloads,
        default=(Workload("medium", 0.25),),
        help="profile[:scale],... (medium:0.25)",
    )
    parser.add_argument(
        "--threads",
        type=thread_counts,
        help="thread counts, 1 for the sequential path (1, 2, 4 and every doubling up to the "
        "usable cores)",
    )
    parser.add_argument(
        "--cases",
        type=case_list,
        default=case_list(",".join(DEFAULT_CASES)),
        help="operation:format,... (create and extract of tar.gz, zip and tar.zst)",
    )
    parser.add_argument(
        "--backend",
        choices=sorted({*CREATE_BACKENDS, *READ_BACKENDS, "auto"}),
        default="zlib",
        help="the library's codec backend: compression for create, decompression otherwise",
    )
    parser.add_argument("--rounds", type=side_by_side.positive_int, default=7, help="rounds (7)")
    side_by_side.add_contention_argument(parser)
    add_dir_argument(parser)
    parser.add_argument(
        "--results", type=Path, help="also file the cells as a run under this results root"
    )
    parser.add_argument("--machine", help="with --results: this machine's name in the results")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)
    threads = args.threads or default_threads(usable_cpu_count())
    base = measuring_place(parser, args.dir, announce=not args.json)
    cells = {
        workload: scaling_cells(workload, args.cases, threads, args.backend)
        for workload in args.workloads
    }
    if not args.json:
        print(
            f"{usable_cpu_count()} usable cores; threads {', '.join(map(str, threads))}; "
            f"{args.rounds} rounds; speedup = median of the baseline / median (95% interval)",
            flush=True,
        )
    records = measure_cells(cells, args.rounds, base=base)
    rows = scaling_rows(records, args.max_contention)
    if args.results is not None:
        run_dir = save_run(
            records,
            args.results,
            ["bench.thread_scaling", *(sys.argv[1:] if argv is None else argv)],
            args.rounds,
            machine=args.machine,
            base=base,
            preset="thread-scaling",
        )
        if not args.json:
            print(f"filed as {run_dir}")
    if args.json:
        print(json.dumps({"cores_usable": usable_cpu_count(), "rows": rows}, indent=2))
    else:
        print_rows(rows, args.max_contention)
    return 0 if all(row["valid"] for row in rows) else 1


if __name__ == "__main__":
    from bench.cli import run_tool

    run_tool("bench.thread_scaling", main)
