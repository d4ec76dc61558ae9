"""Whether rapidgzip needs the shorter switch interval the library gives it, side by side.

``python -m bench.gil_turns [--workload medium[:scale]] [--threads 2] [--rounds 15]
[--max-contention SHARE] [--dir FOLDER] [--json]`` extracts a tar.gz made by ``tarfile`` (no
side file) through rapidgzip (``decompression_backend="rapidgzip"``), two ways in one
process:

* ``short``: as the library does it, with the interpreter's switch interval lowered while
  rapidgzip reads (``archive_parallel.gil_turns``);
* ``default``: with the interval the process had (Python's default, 5 ms).

Each way runs alone (``quiet``) and beside a Python thread that counts without pause, as an
application's own busy thread would (``busy``). Each round runs the four in a shuffled order;
a line gives the medians of the two ways and the ratio default time / short time with a 95%
bootstrap interval: above 1, the shorter interval pays. Each round is read for other work
(``bench.contention``); ``--max-contention`` judges from the rounds it left free. Every
extraction is checked against the tree's manifest. Outputs go in a new folder under
``--dir``, ``ARCHIVE_BENCH_SCRATCH`` or the temporary folder (``bench.scratch``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
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

ARCHIVE = "tar.gz+tarfile"
WAYS = ("short", "default")
NEIGHBOURS = ("quiet", "busy")


@contextlib.contextmanager
def interval_way(way: str) -> Iterator[None]:
    """The library as it is (``short``), or with its switch-interval scope made a no-op."""
    from archive_parallel.codecs import parallel_gzip

    real = parallel_gzip.short_switch_interval
    if way == "default":
        parallel_gzip.short_switch_interval = contextlib.nullcontext  # type: ignore[assignment]
    try:
        yield
    finally:
        parallel_gzip.short_switch_interval = real  # type: ignore[assignment]


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

    thread = threading.Thread(target=count, name="busy-neighbour")
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def measure(
    workload: Workload,
    threads: int,
    rounds: int,
    seed: int = 0,
    max_contention: float | None = None,
    base: Path | None = None,
) -> list[dict[str, Any]]:
    """One row per neighbour: each way's median seconds and the ratio default / short."""
    from archive_parallel import ArchiveConfig, ArchiveManager
    from archive_parallel.codecs.parallel_gzip import require_rapidgzip

    require_rapidgzip()
    prepared = prepare_tree(fixtures_root(Path("results")), workload)
    place = scratch_identity(scratch_base(base))
    rng = random.Random(seed)
    config = ArchiveConfig(
        thread_pool_size=threads,
        max_file_size=1 << 50,
        durable_writes=False,
        decompression_backend="rapidgzip",
    )
    runs = [(kind, way) for kind in NEIGHBOURS for way in WAYS]
    values: dict[tuple[str, str], list[float]] = {run: [] for run in runs}
    readings = contention.RoundReadings()
    with scratch_folder("gil-turns", base) as work:
        build_input_archives(prepared, [ARCHIVE], work / "inputs")
        if ARCHIVE not in prepared.archives:
            raise RuntimeError(f"cannot build {ARCHIVE}: {prepared.input_errors}")
        archive = prepared.archives[ARCHIVE]
        dest = work / "out"
        with ArchiveManager(config) as manager:
            for _ in range(rounds):
                order = list(runs)
                rng.shuffle(order)
                with readings.round():
                    for kind, way in order:
                        shutil.rmtree(dest, ignore_errors=True)
                        with interval_way(way), neighbour(kind):
                            start = time.perf_counter()
                            manager.extract_archive(archive, dest, config)
                            values[kind, way].append(time.perf_counter() - start)
                        wrong = verify_tree_against_manifest(dest, prepared.tree)
                        if wrong:
                            raise RuntimeError(f"{kind}, {way}: wrong extraction: {wrong}")
    kept = readings.kept(max_contention)
    return [
        {
            "neighbour": kind,
            "threads": threads,
            "short_s": side_by_side.kept_median(values[kind, "short"], kept),
            "default_s": side_by_side.kept_median(values[kind, "default"], kept),
            # default time / short time: above 1, the shorter interval pays
            "default_over_short": side_by_side.paired_cell(
                values[kind, "default"], values[kind, "short"], kept
            ),
            "round_contention": readings.shares,
            "rounds_kept": len(kept),
            "scratch_place": place,
        }
        for kind in NEIGHBOURS
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gil_turns", description=__doc__)
    side_by_side.add_one_workload_arguments(parser, Workload("medium", 1.0), threads=2)
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
        f"{workload.profile} (scale {workload.scale:g}), {ARCHIVE} through rapidgzip, "
        f"{args.threads} threads, {args.rounds} rounds; default interval time / short "
        "interval time (95% interval): above 1, the shorter interval pays"
    )
    for row in rows:
        print(
            f"{row['neighbour']:<6} short {row['short_s'] * 1e3:7.1f} ms   "
            f"default {row['default_s'] * 1e3:7.1f} ms   "
            f"{side_by_side.ratio_text(row['default_over_short'])}"
            f"{side_by_side.rounds_note(row['rounds_kept'], args.max_contention)}"
        )
    print(side_by_side.contention_line(rows, args.max_contention))
    return 0


if __name__ == "__main__":
    from bench.cli import run_tool

    run_tool("bench.gil_turns", main)
