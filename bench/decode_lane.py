"""Whether a decoder thread of its own pays on this machine, measured side by side.

``python -m bench.decode_lane [--workload medium[:scale]] [--threads 2] [--rounds 15]
[--max-contention SHARE] [--dir FOLDER] [--json]`` extracts and verifies two archives that
decode in order only, a tar.zst made by the library and a tar.gz made by ``tarfile`` (no side
file, so no restart index), each two ways in one process:

* ``lane``: the decoder runs on the pool's serial lane, a thread beside the workers, up to
  three steps ahead of the calling thread that parses the tar stream;
* ``caller``: the calling thread decodes each step itself as it needs it.

The library takes the lane only on a machine of ``pool.MIN_CORES_FOR_LANE`` usable cores or
more; the tool forces each way by telling the library how many cores it has, so both run on
any machine. Each round runs the ways in a shuffled order; a line gives their medians and
the ratio lane time / caller time with a 95% bootstrap interval: above 1 the lane costs more
than it overlaps here, below 1 it pays. The last line says which way the library takes on
this machine. Each round is read for other work (``bench.contention``);
``--max-contention`` judges from the rounds it left free. Every extraction is checked
against the tree's manifest. Outputs go in a new folder under ``--dir``,
``ARCHIVE_BENCH_SCRATCH`` or the temporary folder (``bench.scratch``), named with its file
system before the first round; a RAM disk keeps the disk out of it.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import contention, side_by_side
from bench.cases import verify_tree_against_manifest
from bench.grid import Workload
from bench.provenance import scratch_identity
from bench.scratch import measuring_place, scratch_base, scratch_folder
from bench.workloads import build_input_archives, fixtures_root, prepare_tree

ARCHIVES = ("tar.zst", "tar.gz+tarfile")
OPERATIONS = ("extract", "verify")
WAYS = ("lane", "caller")


@contextmanager
def decoding_on(way: str) -> Iterator[None]:
    """Make the library take ``way``: report enough usable cores for the lane, or two."""
    from archive_parallel import pool

    real = pool.usable_cpu_count
    cores = max(pool.MIN_CORES_FOR_LANE, real()) if way == "lane" else 2
    pool.usable_cpu_count = lambda: cores  # type: ignore[assignment]
    try:
        yield
    finally:
        pool.usable_cpu_count = real  # type: ignore[assignment]


def library_way() -> str:
    """The way the library takes on this machine."""
    from archive_parallel import pool

    return "lane" if pool.decoder_gets_lane() else "caller"


def _operation(manager: Any, config: Any, op: str, archive: Path, dest: Path) -> Callable[[], None]:
    if op == "extract":

        def extract() -> None:
            shutil.rmtree(dest, ignore_errors=True)
            manager.extract_archive(archive, dest, config)

        return extract

    def verify() -> None:
        if not manager.verify_archive_integrity(archive):
            raise RuntimeError(f"{archive.name} did not verify")

    return verify


def _check_extraction(dest: Path, tree: Path, what: str) -> None:
    wrong = verify_tree_against_manifest(dest, tree)
    if wrong:
        raise RuntimeError(f"{what}: wrong extraction: {wrong}")


def measure(
    workload: Workload,
    threads: int,
    rounds: int,
    seed: int = 0,
    max_contention: float | None = None,
    base: Path | None = None,
) -> list[dict[str, Any]]:
    """One row per archive and operation: the median seconds of each way and the ratio, from
    the rounds other work left free (every round when ``max_contention`` is None), measured
    in a new folder under ``base`` (``bench.scratch.scratch_base``), named in each row's
    ``scratch_place``."""
    from archive_parallel import ArchiveConfig, ArchiveManager

    prepared = prepare_tree(fixtures_root(Path("results")), workload)
    place = scratch_identity(scratch_base(base))
    rng = random.Random(seed)
    config = ArchiveConfig(thread_pool_size=threads, max_file_size=1 << 50)
    rows = []
    with scratch_folder("decode-lane", base) as work:
        build_input_archives(prepared, list(ARCHIVES), work / "inputs")
        missing = [fmt for fmt in ARCHIVES if fmt not in prepared.archives]
        if missing:
            raise RuntimeError(f"cannot build {', '.join(missing)}: {prepared.input_errors}")
        with ArchiveManager(config) as manager:
            for fmt in ARCHIVES:
                for op in OPERATIONS:
                    dest = work / "out"
                    run = _operation(manager, config, op, prepared.archives[fmt], dest)
                    values: dict[str, list[float]] = {way: [] for way in WAYS}
                    readings = contention.RoundReadings()
                    for _ in range(rounds):
                        order = list(WAYS)
                        rng.shuffle(order)
                        with readings.round():
                            for way in order:
                                with decoding_on(way):
                                    start = time.perf_counter()
                                    run()
                                    values[way].append(time.perf_counter() - start)
                                if op == "extract":
                                    _check_extraction(dest, prepared.tree, f"{fmt}, {way}")
                    kept = readings.kept(max_contention)
                    rows.append(
                        {
                            "archive": fmt,
                            "operation": op,
                            "threads": threads,
                            "lane_s": side_by_side.kept_median(values["lane"], kept),
                            "caller_s": side_by_side.kept_median(values["caller"], kept),
                            # lane time / caller time: median(lane) / median(caller)
                            "lane_over_caller": side_by_side.paired_cell(
                                values["lane"], values["caller"], kept
                            ),
                            **side_by_side.round_fields(readings, kept),
                            "scratch_place": place,
                        }
                    )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.decode_lane", description=__doc__)
    side_by_side.add_one_workload_arguments(parser, Workload("medium", 1.0), threads=2)
    args = parser.parse_args(argv)
    workload = args.workload
    base = measuring_place(parser, args.dir, announce=not args.json)
    rows = measure(
        workload, args.threads, args.rounds, max_contention=args.max_contention, base=base
    )
    if args.json:
        print(json.dumps({"library_way": library_way(), "rows": rows}, indent=2))
        return 0
    print(
        f"{workload.profile} (scale {workload.scale:g}), {args.threads} threads, "
        f"{args.rounds} rounds; "
        "lane time / caller time (95% interval): above 1, the lane costs more than it overlaps"
    )
    for row in rows:
        print(
            f"{row['operation']:<8} {row['archive']:<15} lane {row['lane_s'] * 1e3:7.1f} ms   "
            f"caller {row['caller_s'] * 1e3:7.1f} ms   "
            f"{side_by_side.ratio_text(row['lane_over_caller'])}"
            f"{side_by_side.rounds_note(row['rounds_kept'], args.max_contention)}"
        )
    print(side_by_side.contention_line(rows, args.max_contention))
    from archive_parallel import pool

    where = "on the lane" if library_way() == "lane" else "in the calling thread"
    print(
        f"this machine: {pool.usable_cpu_count()} usable cores; the library decodes {where} "
        f"(on the lane from {pool.MIN_CORES_FOR_LANE} cores)"
    )
    return 0


if __name__ == "__main__":
    from bench.cli import run_tool

    run_tool("bench.decode_lane", main)
