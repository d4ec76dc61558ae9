"""What durability costs: create and extract with ``durable_writes`` on and off, interleaved.

``python -m bench.durability [--profile package] [--scale 0.3] [--rounds 5] [--format tar.gz]
[--dir FOLDER]`` makes one ``fixtures_gen`` tree, then runs, round after round, create +
extract with the flushes on and off in alternating order (so a busy machine disturbs both
alike) and prints the median time of each and their ratio (on / off), per operation, as text
or ``--json``. Each round starts with nothing left to write (``os.sync`` first, untimed), so
a flush pays only for the data of its own round.
The flushes cost most for many small files on slow storage (an SD card); the ratio measured
on the target machine's storage is the figure to trust. The tree, the archives and the
extractions go in a new folder under ``--dir``, else ``$ARCHIVE_BENCH_SCRATCH``, else the
system's temporary folder (``bench.scratch``), and the output names that place and its file
system first: a temporary folder held in memory (tmpfs) measures no storage at all.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import fixtures_gen as fg
from archive_parallel import ArchiveConfig, ArchiveManager
from bench.provenance import scratch_identity
from bench.scratch import add_dir_argument, measuring_place, scratch_base, scratch_folder


def _one_round(tree: Path, work: Path, fmt: str, durable: bool) -> dict[str, float]:
    config = ArchiveConfig(durable_writes=durable)
    archive = work / f"pkg.{fmt}"
    dest = work / "dest"
    os.sync()  # nothing dirty left by the previous round: a flush pays for its own data only
    with ArchiveManager() as manager:
        start = time.perf_counter()
        manager.create_archive(tree, archive, config)
        created = time.perf_counter()
        manager.extract_archive(archive, dest, config)
        extracted = time.perf_counter()
    shutil.rmtree(work)
    work.mkdir()
    return {"create": created - start, "extract": extracted - created}


def measure(
    profile: str, scale: float, rounds: int, fmt: str, base: Path | None = None
) -> dict[str, Any]:
    """Median seconds with flushes on and off, and the ratio, per operation, measured in a
    new folder under ``base`` (``bench.scratch.scratch_base``: ``ARCHIVE_BENCH_SCRATCH`` or
    the temporary folder when None), which is removed afterwards."""
    with scratch_folder("durability", base) as root:
        manifest = fg.make_tree(profile, root / "tree", scale=scale, seed=0, progress=False)
        work = root / "work"
        work.mkdir()
        times: dict[bool, list[dict[str, float]]] = {True: [], False: []}
        _one_round(root / "tree", work, fmt, False)  # warm the page cache
        for number in range(rounds):
            order = (True, False) if number % 2 == 0 else (False, True)
            for durable in order:
                times[durable].append(_one_round(root / "tree", work, fmt, durable))
    result: dict[str, Any] = {
        "profile": profile,
        "scale": scale,
        "format": fmt,
        "rounds": rounds,
        "files": manifest.file_count,
        "bytes": manifest.total_bytes,
        "scratch_place": scratch_identity(scratch_base(base)),
    }
    for operation in ("create", "extract"):
        on = statistics.median(t[operation] for t in times[True])
        off = statistics.median(t[operation] for t in times[False])
        result[operation] = {"durable_s": on, "not_durable_s": off, "ratio": on / off}
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.durability", description=__doc__)
    parser.add_argument("--profile", default="package", choices=list(fg.PROFILES))
    parser.add_argument("--scale", type=float, default=0.3)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--format", default="tar.gz", choices=["tar.gz", "tar", "zip", "tar.xz"])
    add_dir_argument(parser)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.scale <= 0:
        parser.error("--rounds must be at least 1 and --scale positive")
    base = measuring_place(parser, args.dir, announce=not args.json)
    result = measure(args.profile, args.scale, args.rounds, args.format, base)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"{result['files']} files, {result['bytes']} bytes ({args.profile} x{args.scale}), "
        f"{args.format}, median of {args.rounds} interleaved rounds"
    )
    for operation in ("create", "extract"):
        row = result[operation]
        print(
            f"{operation:8} durable {row['durable_s']:.3f} s, not durable "
            f"{row['not_durable_s']:.3f} s, ratio {row['ratio']:.2f}"
        )
    return 0


if __name__ == "__main__":
    from bench.cli import run_tool

    run_tool("bench.durability", main)
