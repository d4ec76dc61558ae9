"""What the short switch interval the library runs with does, alone and beside a busy thread.

``python -m bench.gil_turns [--workload medium:0.2] [--threads 2] [--rounds 9]
[--max-contention SHARE] [--dir FOLDER] [--json]`` runs, in one process, the library's
operations two ways:

* ``short``: as the library does, the interpreter's switch interval lowered for the length of
  each operation (``archive_parallel.gil_turns``);
* ``default``: with the interval the process had (Python's default, 5 ms);

each alone (``quiet``) and beside a Python thread that counts without pause, as a program's
own busy thread would (``busy``). The operations: extracting the tree's tar.gz, zip and (with
Zstandard support) tar.zst, made by the library, a tar.gz made by ``tarfile`` through
rapidgzip (when installed), and creating a tar.gz. Each round runs every case in a shuffled
order; a line gives the medians of the two ways and the ratio default time / short time with
a 95% bootstrap interval: above 1, the shorter interval pays. Beside a busy thread the
``default`` way is slow (seconds per call), hence the small default workload. Each round is
read for other work (``bench.contention``); ``--max-contention`` judges from the rounds it
left free. Every extraction is checked against the tree's manifest. Outputs go in a new
folder under ``--dir``, ``ARCHIVE_BENCH_SCRATCH`` or the temporary folder
(``bench.scratch``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import random
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench import contention, side_by_side
from bench.cases import verify_tree_against_manifest
from bench.grid import Workload
from bench.provenance import scratch_identity
from bench.scratch import measuring_place, scratch_base, scratch_folder
from bench.workloads import build_input_archives, fixtures_root, prepare_tree

#: (operation, archive format, decompression backend), as the rows name them
CASES = (
    ("extract", "tar.gz", "auto"),
    ("extract", "zip", "auto"),
    ("extract", "tar.zst", "auto"),
    ("extract", "tar.gz+tarfile", "rapidgzip"),
    ("create", "tar.gz", "auto"),
)
WAYS = ("short", "default")
NEIGHBOURS = ("quiet", "busy")


@contextlib.contextmanager
def interval_way(way: str) -> Iterator[None]:
    """The library as it is (``short``), or with its switch-interval scope leaving the
    interval alone (``default``)."""
    from archive_parallel import gil_turns

    real = gil_turns.SHORT_INTERVAL
    if way == "default":
        gil_turns.SHORT_INTERVAL = math.inf  # no interval is above it: left as it is
    try:
        yield
    finally:
        gil_turns.SHORT_INTERVAL = real


@contextlib.contextmanager
def neighbour(kind: str) -> Iterator[None]:
    """Nothing (``quiet``), or a Python thread that runs without pause (``busy``)."""
    if kind == "quiet":
        yield
        return
    stop = threading.Event()

    def count() -> None:
        n = 0
        while not stop.is_set():
            n += 1

    # a daemon, started inside the try: an interrupt that lands in start() (it waits for the
    # thread to run) still stops it, and nothing can keep the interpreter from exiting
    thread = threading.Thread(target=count, name="busy-neighbour", daemon=True)
    try:
        thread.start()
        yield
    finally:
        stop.set()
        if thread.ident is not None:
            thread.join()


def available_cases() -> list[tuple[str, str, str]]:
    """``CASES`` less those this machine lacks an optional package for."""
    from archive_parallel.codecs.parallel_gzip import import_rapidgzip
    from archive_parallel.codecs.zstd import zstd_available

    lacking = {"tar.zst": not zstd_available(), "rapidgzip": import_rapidgzip() is None}
    return [case for case in CASES if not (lacking.get(case[1]) or lacking.get(case[2]))]


def measure(
    workload: Workload,
    threads: int,
    rounds: int,
    seed: int = 0,
    max_contention: float | None = None,
    base: Path | None = None,
) -> list[dict[str, Any]]:
    """One row per case and neighbour: each way's median seconds and the ratio default /
    short."""
    from archive_parallel import ArchiveConfig, ArchiveManager

    cases = available_cases()
    prepared = prepare_tree(fixtures_root(Path("results")), workload)
    place = scratch_identity(scratch_base(base))
    rng = random.Random(seed)
    configs = {
        backend: ArchiveConfig(
            thread_pool_size=threads,
            max_file_size=1 << 50,
            durable_writes=False,
            decompression_backend=backend,
        )
        for backend in {case[2] for case in cases}
    }
    runs = [(case, kind, way) for case in cases for kind in NEIGHBOURS for way in WAYS]
    values: dict[Any, list[float]] = {run: [] for run in runs}
    readings = contention.RoundReadings()
    with scratch_folder("gil-turns", base) as work:
        formats = sorted({fmt for op, fmt, _ in cases if op == "extract"})
        build_input_archives(prepared, formats, work / "inputs")
        missing = [fmt for fmt in formats if fmt not in prepared.archives]
        if missing:
            raise RuntimeError(f"cannot build {', '.join(missing)}: {prepared.input_errors}")
        dest = work / "out"
        with ArchiveManager(configs["auto"]) as manager:
            for _ in range(rounds):
                order = list(runs)
                rng.shuffle(order)
                with readings.round():
                    for run in order:
                        (op, fmt, backend), kind, way = run
                        shutil.rmtree(dest, ignore_errors=True)
                        dest.mkdir()
                        with interval_way(way), neighbour(kind):
                            start = time.perf_counter()
                            if op == "create":
                                manager.create_archive(
                                    prepared.tree, dest / f"out.{fmt}", configs[backend]
                                )
                            else:
                                manager.extract_archive(
                                    prepared.archives[fmt], dest / "tree", configs[backend]
                                )
                            values[run].append(time.perf_counter() - start)
                        if op == "extract":
                            wrong = verify_tree_against_manifest(dest / "tree", prepared.tree)
                            if wrong:
                                raise RuntimeError(f"{fmt}, {kind}, {way}: wrong: {wrong}")
    kept = readings.kept(max_contention)
    rows = []
    for case in cases:
        for kind in NEIGHBOURS:
            short, default = values[case, kind, "short"], values[case, kind, "default"]
            rows.append(
                {
                    "operation": case[0],
                    "archive": case[1],
                    "backend": case[2],
                    "neighbour": kind,
                    "threads": threads,
                    "short_s": side_by_side.kept_median(short, kept),
                    "default_s": side_by_side.kept_median(default, kept),
                    # default time / short time: above 1, the shorter interval pays
                    "default_over_short": side_by_side.paired_cell(default, short, kept),
                    **side_by_side.round_fields(readings, kept),
                    "scratch_place": place,
                }
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gil_turns", description=__doc__)
    side_by_side.add_one_workload_arguments(parser, Workload("medium", 0.2), threads=2, rounds=9)
    args = parser.parse_args(argv)
    workload = args.workload
    base = measuring_place(parser, args.dir, announce=not args.json)
    rows = measure(
        workload, args.threads, args.rounds, max_contention=args.max_contention, base=base
    )
    if args.json:
        print(json.dumps({"rows": rows}, indent=2))
        return 0
    print(
        f"{workload.profile} (scale {workload.scale:g}), {args.threads} threads, "
        f"{args.rounds} rounds; default interval time / short interval time (95% interval): "
        "above 1, the shorter interval pays"
    )
    for row in rows:
        what = f"{row['operation']} {row['archive']}"
        if row["backend"] != "auto":
            what += f" ({row['backend']})"
        print(
            f"{what:<35} {row['neighbour']:<6} short {row['short_s'] * 1e3:8.1f} ms   "
            f"default {row['default_s'] * 1e3:8.1f} ms   "
            f"{side_by_side.ratio_text(row['default_over_short'])}"
            f"{side_by_side.rounds_note(row['rounds_kept'], args.max_contention)}"
        )
    print(side_by_side.contention_line(rows, args.max_contention))
    return 0


if __name__ == "__main__":
    from bench.cli import run_tool

    run_tool("bench.gil_turns", main)
