"""How far threads can take the per-file work of many small files on this machine.

``python -m bench.file_scaling [--files 4000] [--size 6144] [--workers N] [--rounds 15]
[--loops write,read,inflate] [--max-contention SHARE] [--dir FOLDER] [--json]`` times three
loops over ``--files`` small files in a new folder under ``--dir``, ``ARCHIVE_BENCH_SCRATCH``
or the temporary folder (``bench.scratch``; named with its file system before the first
round), each way in turn: in one thread, in ``--workers`` threads (default: the cores this
process may use) and in as many processes:

* ``write``: create each file (``O_CREAT | O_EXCL``), write it, set its mode and mtime through
  the descriptor and close it: the system calls an extraction makes for each small file;
* ``read``: open, read and close each file and take its SHA-256: what creating an archive
  does with each small file before compressing it;
* ``inflate``: inflate one small raw-deflate member of generated source code per file and
  take its CRC-32, in memory, no file touched: what extracting a zip does with each small
  member before writing it. Each inflate gives the interpreter lock up as a system call does,
  for about ten microseconds of work, so this loop shows what the hand-overs alone cost.

The files are dealt to the workers in batches of ``BATCH_FILES``, as the library shares its
batches, and the folders exist before the clock starts (an extraction makes them while it
checks the names). Processes are spawned (as on macOS) before the first round. Each round
runs the three ways in a shuffled order; a line gives their medians and the speedup of the
threads and of the processes over one thread, with 95% bootstrap intervals. Each round is
read for other work (``bench.contention``, the processes' CPU time counted as this run's
own); ``--max-contention`` judges from the rounds it left free.

What the speedups say: processes well below the number of workers mean that the kernel
and the file system serialize the work, whatever runs it; threads below processes mean that
the interpreter lock costs the difference (every one of these system calls gives the lock up
and takes it back, and with two threads each hand-over wakes the other). Together they bound
what a thread pool can gain on archives of many small files on this machine: a zip of a few
thousand small files spends most of its extraction in exactly the ``write`` loop.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import random
import shutil
import time
import zlib
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from archive_parallel.cores import usable_cpu_count
from bench import contention, side_by_side
from bench.provenance import scratch_identity
from bench.scratch import add_dir_argument, measuring_place, scratch_base, scratch_folder

LOOPS = ("write", "read", "inflate")
WAYS = ("one thread", "threads", "processes")
BATCH_FILES = 64
FILES_PER_FOLDER = 16
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
_MTIME = 1_700_000_000.0


def payload(size: int) -> bytes:
    """``size`` bytes of text-like content (the same for every file and run)."""
    line = b"def handler(request): return render(request, 'page.html', context)\n"
    return (line * (size // len(line) + 1))[:size]


def file_paths(folder: Path, count: int) -> list[str]:
    """Where the ``count`` files live: ``FILES_PER_FOLDER`` to a subfolder of ``folder``."""
    return [
        os.path.join(folder, f"d{number // FILES_PER_FOLDER}", f"f{number}")
        for number in range(count)
    ]


def write_files(paths: list[str], data: bytes) -> int:
    """The ``write`` loop over ``paths`` (their folders exist); returns the bytes written."""
    for path in paths:
        fd = os.open(path, _CREATE_FLAGS, 0o600)
        try:
            os.write(fd, data)
            os.fchmod(fd, 0o644)
            os.utime(fd, (_MTIME, _MTIME))
        finally:
            os.close(fd)
    return len(paths) * len(data)


def read_files(paths: list[str], size: int) -> int:
    """The ``read`` loop over ``paths``; returns the bytes read."""
    total = 0
    for path in paths:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            data = os.read(fd, size + 1)
        finally:
            os.close(fd)
        hashlib.sha256(data).digest()
        total += len(data)
    return total


def member_payload(size: int) -> bytes:
    """``size`` bytes of generated source code (``fixtures_gen``'s ``code`` model, which
    deflates about as well as real code): the repeated line of ``payload`` would inflate
    several times faster than a real member."""
    from fixtures_gen import parse_content
    from fixtures_gen.content import iter_content

    return b"".join(iter_content(parse_content("code"), size, seed=size))


def raw_deflate(data: bytes) -> bytes:
    """``data`` as a zip member stores it: raw deflate, level 6."""
    return zlib.compress(data, 6, -15)


def inflate_members(paths: list[str], member: bytes) -> int:
    """The ``inflate`` loop: one member inflated (bounded, as the library does) and its CRC-32
    taken per path; returns the bytes inflated."""
    total = 0
    for _ in paths:
        data = zlib.decompressobj(-15).decompress(member, 1 << 20)
        zlib.crc32(data)
        total += len(data)
    return total


def shares(paths: list[str], workers: int) -> list[list[str]]:
    """``paths`` in batches of ``BATCH_FILES``, dealt round-robin to ``workers``."""
    out: list[list[str]] = [[] for _ in range(workers)]
    for start in range(0, len(paths), BATCH_FILES):
        out[(start // BATCH_FILES) % workers].extend(paths[start : start + BATCH_FILES])
    return out


def _run(executor: Executor | None, task: Callable[..., int], parts: list[list[str]], *args):
    """Run ``task(part, *args)`` for each part, in ``executor`` (all at once) or inline."""
    if executor is None:
        return sum(task(part, *args) for part in parts)
    futures = [executor.submit(task, part, *args) for part in parts]
    return sum(future.result() for future in futures)


def make_folders(folder: Path, count: int) -> None:
    """``folder`` anew, empty but for the subfolders ``file_paths`` puts ``count`` files in."""
    shutil.rmtree(folder, ignore_errors=True)
    for number in range(0, count, FILES_PER_FOLDER):
        (folder / f"d{number // FILES_PER_FOLDER}").mkdir(parents=True)


def _time_loop(
    loop: str,
    folder: Path,
    files: int,
    data: bytes,
    executors: dict[str, Executor | None],
    workers: int,
    rounds: int,
    rng: random.Random,
    readings: contention.RoundReadings,
) -> dict[str, list[float]]:
    """Seconds of each round of ``loop``, per way (``executors``: one per way, None inline);
    each round read into ``readings``."""
    paths = file_paths(folder, files)
    parts = {way: [paths] if way == "one thread" else shares(paths, workers) for way in WAYS}
    task, arg = {
        "write": (write_files, data),
        "read": (read_files, len(data)),
        "inflate": (inflate_members, raw_deflate(member_payload(len(data)))),
    }[loop]
    if loop == "read":
        make_folders(folder, files)
        write_files(paths, data)
    values: dict[str, list[float]] = {way: [] for way in WAYS}
    for _ in range(rounds):
        order = list(WAYS)
        rng.shuffle(order)
        with readings.round():
            for way in order:
                if loop == "write":
                    make_folders(folder, files)
                start = time.perf_counter()
                done = _run(executors[way], task, parts[way], arg)
                values[way].append(time.perf_counter() - start)
                if done != files * len(data):
                    raise RuntimeError(f"{loop}, {way}: {done} bytes, not {files * len(data)}")
    return values


def measure(
    files: int,
    size: int,
    workers: int,
    rounds: int,
    loops: tuple[str, ...] = LOOPS,
    seed: int = 0,
    max_contention: float | None = None,
    base: Path | None = None,
) -> list[dict[str, Any]]:
    """One row per loop: the median seconds of each way and the speedups over one thread,
    from the rounds other work left free (every round when ``max_contention`` is None),
    measured in a new folder under ``base`` (``bench.scratch.scratch_base``), named in each
    row's ``scratch_place``."""
    place = scratch_identity(scratch_base(base))
    with scratch_folder("file-scaling", base) as work:
        rng = random.Random(seed)
        threads = ThreadPoolExecutor(workers, thread_name_prefix="file-scaling")
        # spawned, as macOS always does: the children share nothing with this process but the loops
        processes = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
        executors: dict[str, Executor | None] = {
            "one thread": None,
            "threads": threads,
            "processes": processes,
        }
        rows = []
        try:
            wait([processes.submit(os.getpid) for _ in range(workers)])  # started before timing
            data = payload(size)
            for loop in loops:
                readings = contention.RoundReadings()
                values = _time_loop(
                    loop, work / loop, files, data, executors, workers, rounds, rng, readings
                )
                kept = readings.kept(max_contention)
                row: dict[str, Any] = {
                    "loop": loop,
                    "files": files,
                    "size": size,
                    "workers": workers,
                    **side_by_side.round_fields(readings, kept),
                    "scratch_place": place,
                }
                for way in WAYS:
                    row[f"{way.replace(' ', '_')}_s"] = side_by_side.kept_median(values[way], kept)
                for way in ("threads", "processes"):
                    row[way] = side_by_side.paired_cell(values["one thread"], values[way], kept)
                rows.append(row)
        finally:
            threads.shutdown(cancel_futures=True)
            processes.shutdown(cancel_futures=True)
    return rows


def _loop_names(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in LOOPS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"loops are {', '.join(LOOPS)}, not {text!r}")
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.file_scaling", description=__doc__)
    parser.add_argument(
        "--files", type=side_by_side.positive_int, default=4000, help="files (4000)"
    )
    parser.add_argument(
        "--size", type=side_by_side.positive_int, default=6144, help="bytes a file (6144)"
    )
    parser.add_argument(
        "--workers",
        type=side_by_side.positive_int,
        help="threads and processes (default: usable cores)",
    )
    parser.add_argument("--rounds", type=side_by_side.positive_int, default=15, help="rounds (15)")
    parser.add_argument(
        "--loops", type=_loop_names, default=LOOPS, help="comma-separated (write,read,inflate)"
    )
    side_by_side.add_contention_argument(parser)
    add_dir_argument(parser)
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)
    workers = args.workers or max(2, usable_cpu_count())
    base = measuring_place(parser, args.dir, announce=not args.json)
    rows = measure(
        args.files,
        args.size,
        workers,
        args.rounds,
        args.loops,
        max_contention=args.max_contention,
        base=base,
    )
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(
        f"{args.files} files of {args.size} bytes, {workers} workers, {args.rounds} rounds; "
        "speedup over one thread (95% interval)"
    )
    for row in rows:
        print(
            f"{row['loop']:<7} one thread {row['one_thread_s'] * 1e3:7.1f} ms   "
            f"threads {row['threads_s'] * 1e3:7.1f} ms "
            f"{side_by_side.ratio_text(row['threads']):<22} "
            f"processes {row['processes_s'] * 1e3:7.1f} ms "
            f"{side_by_side.ratio_text(row['processes'])}"
            f"{side_by_side.rounds_note(row['rounds_kept'], args.max_contention)}"
        )
    print(side_by_side.contention_line(rows, args.max_contention))
    return 0


if __name__ == "__main__":
    from bench.cli import run_tool

    run_tool("bench.file_scaling", main)
