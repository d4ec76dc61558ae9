"""Issue 7, item 5: one ArchiveManager shared by 16 threads at once, for a bounded time.

Each thread loops over a mix of operations on one of three small workloads (many small files,
a mixed tree with a streamed file and a symlink, a deep nested tree), every format, and three
configurations (parallel with 4 workers, parallel with 2 workers, so the pool holds two
executors, and sequential): create, verify, extract into a fresh folder and compare with the
source byte for byte, and checksums compared with hashlib. Every result is checked.

The run stops at a deadline (``RELIABILITY_LOAD_SECONDS``, default 20) or an iteration cap. A
watchdog (joins with a timeout) fails the test with every thread's stack instead of hanging.
Afterwards: no error, the stats add up (creates, extracts, verifications, operation counts,
parallel + sequential), and after ``close()`` no thread or file descriptor more than before.
"""

from __future__ import annotations

import faulthandler
import hashlib
import os
import random
import shutil
import sys
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from reliability_support import (
    FORMATS,
    ZIP_WRITER_PRESENT,
    config_for,
    open_fd_count,
    small_files,
    text_bytes,
    tree_snapshot,
    write_tree,
)

from archive_parallel import ArchiveManager

THREADS = 16
DURATION = float(os.environ.get("RELIABILITY_LOAD_SECONDS", "20"))
MAX_ITERATIONS = 40  # per thread
WATCHDOG_GRACE = 90.0  # seconds past the deadline before the run counts as deadlocked

CONFIGS = {
    "parallel-4": config_for(
        True,
        thread_pool_size=4,
        parallel_batch_size=6,
        parallel_threshold=5,
        parallel_min_archive_bytes=0,
    ),
    "parallel-2": config_for(
        True,
        thread_pool_size=2,
        parallel_batch_size=3,
        parallel_threshold=5,
        parallel_min_archive_bytes=0,
    ),
    "sequential": config_for(False),
}


@dataclass
class Workload:
    name: str
    root: Path
    expected: dict  # tree_snapshot of root
    files: list[Path]  # regular files, for checksums
    digests: dict[Path, tuple[str, str]]


def _workload(name: str, root: Path, files: dict, links: dict | None = None) -> Workload:
    write_tree(root, files, links)
    paths = sorted(root / n for n in files)
    digests = {
        p: (hashlib.sha256(p.read_bytes()).hexdigest(), hashlib.md5(p.read_bytes()).hexdigest())
        for p in paths
    }
    return Workload(name, root, tree_snapshot(root), paths, digests)


@pytest.fixture(scope="module")
def workloads(tmp_path_factory) -> list[Workload]:
    base = tmp_path_factory.mktemp("load-workloads")
    rng = random.Random(16)
    many = small_files(rng, 40, 3_000, folders=5)
    mixed = small_files(rng, 8, 20_000, prefix="conf/")
    mixed["data/streamed.bin"] = text_bytes(rng, 2_500_000)  # over SMALL_FILE_LIMIT: streamed
    mixed["empty.txt"] = b""
    nested = {
        f"a{i % 3}/b{i % 2}/c/d/file{i}.txt": text_bytes(rng, rng.randint(0, 9_000))
        for i in range(25)
    }
    out = [
        _workload("many-small", base / "many-small", many),
        _workload("mixed", base / "mixed", mixed, links={"data/link": "streamed.bin"}),
        _workload("nested", base / "nested", nested),
    ]
    (base / "mixed" / "empty-dir").mkdir()
    out[1].expected = tree_snapshot(out[1].root)
    return out


@dataclass
class Tally:
    operations: Counter = field(default_factory=Counter)
    files_checksummed: int = 0
    created_bytes: int = 0
    errors: list[str] = field(default_factory=list)


def _file_digests(path: Path) -> tuple[str, str]:
    data = path.read_bytes()
    return hashlib.sha256(data).hexdigest(), hashlib.md5(data).hexdigest()


def _one_round(manager, workload: Workload, fmt: str, config, work: Path, tally: Tally) -> None:
    archive = work / f"{workload.name}.{fmt}"
    meta = manager.create_archive(workload.root, archive, config)
    tally.operations["create"] += 1
    tally.created_bytes += meta.uncompressed_size
    assert (meta.checksum_sha256, meta.checksum_md5) == _file_digests(archive)
    assert meta.compressed_size == archive.stat().st_size
    stored = {name.rstrip("/") for name in meta.files}
    assert {p.relative_to(workload.root).as_posix() for p in workload.files} <= stored

    assert manager.verify_archive_integrity(archive) is True
    tally.operations["verify"] += 1

    dest = work / "extracted"
    manager.extract_archive(archive, dest, config)
    tally.operations["extract"] += 1
    assert tree_snapshot(dest) == workload.expected, "extracted tree differs from the source"

    digests = manager._calculate_multiple_checksums_parallel(workload.files, config)
    tally.operations["checksum"] += 1
    tally.files_checksummed += len(workload.files)
    assert digests == workload.digests

    shutil.rmtree(dest)
    archive.unlink()
    archive.with_name(archive.name + ".meta").unlink()


def _worker(index, manager, workloads, formats, deadline, work: Path, tally: Tally) -> None:
    work.mkdir(parents=True)
    names = list(CONFIGS)
    for k in range(MAX_ITERATIONS):
        if time.monotonic() >= deadline:
            return
        fmt = formats[(index + k) % len(formats)]
        workload = workloads[(index * 7 + k) % len(workloads)]
        config_name = names[(index + 2 * k) % len(names)]
        try:
            _one_round(manager, workload, fmt, CONFIGS[config_name], work, tally)
        except BaseException:
            tally.errors.append(
                f"thread {index} round {k} ({fmt}, {workload.name}, {config_name}):\n"
                + traceback.format_exc()
            )
            return


@pytest.mark.slow
def test_sixteen_threads_share_one_manager(tmp_path, workloads):
    formats = [f for f in FORMATS if f != "zip" or ZIP_WRITER_PRESENT]
    threads_before = set(threading.enumerate())
    fds_before = open_fd_count()
    manager = ArchiveManager()
    tallies = [Tally() for _ in range(THREADS)]
    deadline = time.monotonic() + DURATION
    threads = [
        threading.Thread(
            target=_worker,
            args=(i, manager, workloads, formats, deadline, tmp_path / f"t{i:02d}", tallies[i]),
            name=f"load-{i:02d}",
            daemon=True,  # a deadlocked run must not keep the interpreter alive
        )
        for i in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:  # the watchdog: bounded joins
        thread.join(timeout=max(0.0, deadline + WATCHDOG_GRACE - time.monotonic()))
    stuck = [t.name for t in threads if t.is_alive()]
    if stuck:
        faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
        pytest.fail(f"deadlock or runaway: {stuck} still running {WATCHDOG_GRACE}s after the end")

    errors = [e for t in tallies for e in t.errors]
    assert not errors, "\n\n".join(errors[:3])
    done = sum((t.operations for t in tallies), Counter())
    assert done["create"] >= THREADS, f"too little work done to mean anything: {dict(done)}"
    assert done["create"] == done["verify"] == done["extract"] == done["checksum"]

    stats = manager.get_stats()
    total = sum(done.values())
    print(f"load: {dict(done)} in {DURATION:.0f}s by {THREADS} threads; stats {stats}")
    assert stats["archives_created"] == done["create"]
    assert stats["archives_extracted"] == done["extract"]
    assert stats["archives_verified"] == done["verify"]
    assert stats["operation_count"] == total
    assert stats["parallel_operations"] + stats["sequential_operations"] == total
    assert stats["parallel_operations"] > 0 and stats["sequential_operations"] > 0
    assert stats["failed_operations"] == 0
    assert stats["files_checksummed"] == sum(t.files_checksummed for t in tallies)
    assert stats["bytes_processed"] >= sum(t.created_bytes for t in tallies)
    timings = stats["timing_stats"]
    assert timings["archive_creation"]["count"] == done["create"]
    assert timings["archive_extraction"]["count"] == done["extract"]
    assert stats["thread_pool_active"] is True

    manager.close()
    assert manager.get_stats()["thread_pool_active"] is False
    new_threads = [t.name for t in threading.enumerate() if t not in threads_before]
    assert not new_threads, f"threads left after close(): {new_threads}"
    assert open_fd_count() == fds_before, "file descriptors leaked under load"
