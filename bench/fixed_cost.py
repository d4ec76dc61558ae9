"""What one call costs before any real work: tiny archives, the library against the old way.

``python -m bench.fixed_cost [--files 1,50] [--formats zip,tar.gz] [--operations
create,extract,verify] [--rounds 100] [--max-contention SHARE] [--dir FOLDER] [--json]`` makes
a tree of 1 file and one of 50 small files (1 KiB each, in a few folders), archives each with
the library's defaults (side file included, as a deployment would unpack it), then times every
case once per round, in a shuffled order, round after round, in one process: the reference (the
old class's way, see ``bench.cases``), the library's sequential path and its parallel path (2
threads). On archives this small nearly all of a call is its fixed cost (opening, checking,
staging, committing, the side file), so the medians and their ratios say what a call costs a
user who packs or unpacks many small archives. Each line gives the three medians and the ratio
of the reference's median to each library path's, with a 95% bootstrap interval (above 1: the
library is faster). Outputs are checked once, after the last round. Each round is read for
other work (``bench.contention``); ``--max-contention SHARE`` judges every ratio from the
rounds other work took at most that share of the CPUs in. Everything is written in a new folder
under ``--dir``, ``$ARCHIVE_BENCH_SCRATCH`` or the temporary folder (``bench.scratch``), named
with its file system before the first round."""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import random
import sys
import time
from pathlib import Path
from typing import Any

from bench import contention, side_by_side
from bench.cases import Case
from bench.provenance import scratch_identity
from bench.scratch import add_dir_argument, measuring_place, scratch_base, scratch_folder
from bench.side_by_side import (
    add_contention_argument,
    contention_line,
    kept_median,
    paired_cell,
    positive_int,
    ratio_text,
)

logger = logging.getLogger(__name__)

VARIANTS = ("reference", "sequential", "parallel")
OPERATIONS = ("create", "extract", "verify")
FORMATS = ("zip", "tar.gz")
FILE_BYTES = 1024
FILES_PER_FOLDER = 10


def make_tree(root: Path, count: int) -> dict[str, str]:
    """``count`` files of ``FILE_BYTES`` bytes (some text, some noise) in folders of
    ``FILES_PER_FOLDER``; returns relative path -> SHA-256."""
    rng = random.Random(count)
    digests: dict[str, str] = {}
    for number in range(count):
        folder = f"part{number // FILES_PER_FOLDER}" if count > 1 else ""
        relative = f"{folder}/file{number}.txt" if folder else f"file{number}.txt"
        text = f"line {number} of a small package file\n".encode() * 16
        data = (text + rng.randbytes(FILE_BYTES))[:FILE_BYTES]
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        digests[relative] = hashlib.sha256(data).hexdigest()
    return digests


def _extracted_digests(dest: Path) -> dict[str, str]:
    return {
        path.relative_to(dest).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in dest.rglob("*")
        if path.is_file()
    }


def _cell(operation: str, fmt: str, files: int, variant: str) -> dict[str, Any]:
    parallel = variant == "parallel"
    return {
        "operation": operation,
        "format": fmt,
        "workload": f"{files}-files",
        "scale": 1.0,
        "variant": variant,
        "threads": 2 if parallel else 1,
        "batch_size": 50 if parallel else 0,
        "backend": "zlib",
    }


def _problem(case: Case, operation: str, digests: dict[str, str]) -> str | None:
    """Why the last output of ``case`` is wrong, or None."""
    if operation == "extract":
        got = _extracted_digests(case.dest)
        return None if got == digests else f"extracted {len(got)} files, not the {len(digests)}"
    if operation == "verify":
        return None if case.result else "a sound archive was rejected"
    return None if case.out.is_file() else "no archive written"


def measure(
    file_counts: list[int],
    formats: list[str],
    operations: list[str],
    rounds: int,
    seed: int = 0,
    max_contention: float | None = None,
    base: Path | None = None,
) -> list[dict[str, Any]]:
    """One row per (operation, format, file count): the median seconds of each variant and
    the reference's median over each library path's, with a 95% bootstrap interval, from
    the rounds other work left free (every round when ``max_contention`` is None), measured
    in a new folder under ``base`` (``bench.scratch.scratch_base``), named in each row's
    ``scratch_place``."""
    from archive_parallel import ArchiveConfig, ArchiveManager

    rows: list[dict[str, Any]] = []
    place = scratch_identity(scratch_base(base))
    rng = random.Random(seed)
    cases: dict[tuple[str, str, int, str], Case] = {}
    with scratch_folder("fixed-cost", base) as work:
        try:
            trees: dict[int, tuple[Path, dict[str, str]]] = {}
            with ArchiveManager(ArchiveConfig()) as manager:
                for count in file_counts:
                    tree = work / f"tree{count}"
                    trees[count] = (tree, make_tree(tree, count))
                    for fmt in formats:
                        manager.create_archive(tree, work / f"input{count}.{fmt}")
            for count in file_counts:
                for fmt in formats:
                    for operation in operations:
                        for variant in VARIANTS:
                            key = (operation, fmt, count, variant)
                            spec = {
                                "cell": _cell(operation, fmt, count, variant),
                                "tree": str(trees[count][0]),
                                "input_archive": str(work / f"input{count}.{fmt}"),
                                "scratch": str(work / "-".join(map(str, key))),
                            }
                            cases[key] = Case(spec)
            values: dict[tuple[str, str, int, str], list[float]] = {key: [] for key in cases}
            order = list(cases)
            readings = contention.RoundReadings()
            for _ in range(rounds):
                rng.shuffle(order)
                with readings.round():
                    for key in order:
                        case = cases[key]
                        case.reset()
                        start = time.perf_counter()
                        case.run()
                        values[key].append(time.perf_counter() - start)
            kept = readings.kept(max_contention)
            for count in file_counts:
                for fmt in formats:
                    for operation in operations:
                        row: dict[str, Any] = {
                            "operation": operation,
                            "format": fmt,
                            "files": count,
                            **side_by_side.round_fields(readings, kept),
                            "scratch_place": place,
                        }
                        reference = values[(operation, fmt, count, "reference")]
                        problems = []
                        for variant in VARIANTS:
                            key = (operation, fmt, count, variant)
                            row[f"{variant}_s"] = kept_median(values[key], kept)
                            problem = _problem(cases[key], operation, trees[count][1])
                            if problem is not None:
                                problems.append(f"{variant}: {problem}")
                            if variant != "reference":
                                row[variant] = paired_cell(reference, values[key], kept)
                        row["problems"] = problems
                        rows.append(row)
        finally:
            for case in cases.values():
                case.close()
    return rows


def _int_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("file counts must be 1 or more")
    return values


def _choices(allowed: tuple[str, ...]):
    def parse(text: str) -> list[str]:
        values = [part.strip() for part in text.split(",") if part.strip()]
        unknown = [v for v in values if v not in allowed]
        if not values or unknown:
            raise argparse.ArgumentTypeError(f"choose from {', '.join(allowed)}")
        return values

    return parse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fixed_cost", description=__doc__)
    parser.add_argument("--files", type=_int_list, default=[1, 50], help="file counts (1,50)")
    parser.add_argument("--formats", type=_choices(FORMATS), default=list(FORMATS))
    parser.add_argument("--operations", type=_choices(OPERATIONS), default=list(OPERATIONS))
    parser.add_argument("--rounds", type=positive_int, default=100, help="rounds (100)")
    add_contention_argument(parser)
    add_dir_argument(parser)
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)
    base = measuring_place(parser, args.dir, announce=not args.json)
    rows = measure(
        args.files,
        args.formats,
        args.operations,
        args.rounds,
        max_contention=args.max_contention,
        base=base,
    )
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0 if not any(row["problems"] for row in rows) else 1
    print(
        f"{'operation':<8} {'format':<7} {'files':>5}  {'reference':>9} {'sequential':>10} "
        f"{'parallel':>9}   reference / sequential   reference / parallel"
    )
    for row in rows:
        print(
            f"{row['operation']:<8} {row['format']:<7} {row['files']:>5}  "
            f"{row['reference_s'] * 1e3:7.2f}ms {row['sequential_s'] * 1e3:8.2f}ms "
            f"{row['parallel_s'] * 1e3:7.2f}ms   {ratio_text(row['sequential']):<22} "
            f"{ratio_text(row['parallel'])}"
        )
        for problem in row["problems"]:
            print(f"  wrong output, {problem}", file=sys.stderr)
    if rows:
        print(contention_line(rows, args.max_contention))
    return 0 if not any(row["problems"] for row in rows) else 1


if __name__ == "__main__":
    from bench.cli import run_tool

    run_tool("bench.fixed_cost", main)
