"""One side of ``bench.two_checkouts``: run as a script, in a fresh process, with the checkout
under test alone on ``PYTHONPATH`` (so it imports only that checkout's library and the standard
library, whatever the revision).

``python bench/two_checkouts_side.py OPERATION FORMAT TREE WORK THREADS CALLS`` times CALLS
calls of OPERATION (create, extract or verify) on TREE with ``thread_pool_size=THREADS`` and
``durable_writes=False``, outputs under WORK, and prints their median in seconds. Extraction and
verification read this side's own archive of TREE, made on first use and kept in WORK."""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path


def time_one(operation: str, fmt: str, tree: Path, work: Path, threads: int, calls: int) -> float:
    """The median of ``calls`` timed calls, in seconds."""
    import archive_parallel
    from archive_parallel import ArchiveConfig, ArchiveManager

    checkout = Path(os.environ.get("PYTHONPATH", ".")).resolve()
    if not Path(archive_parallel.__file__).resolve().is_relative_to(checkout):
        raise RuntimeError(f"imported {archive_parallel.__file__}, not the library of {checkout}")

    config = ArchiveConfig(thread_pool_size=threads, durable_writes=False)
    archive = work / f"{tree.name}.{fmt}"
    times = []
    with ArchiveManager(config) as manager:
        if operation != "create" and not archive.exists():
            manager.create_archive(tree, archive, config)
        for _ in range(calls):
            out = Path(tempfile.mkdtemp(dir=work))
            start = time.perf_counter()
            if operation == "create":
                manager.create_archive(tree, out / f"a.{fmt}", config)
            elif operation == "extract":
                manager.extract_archive(archive, out / "dest", config)
            elif not manager.verify_archive_integrity(archive):
                raise RuntimeError(f"{archive} does not verify")
            times.append(time.perf_counter() - start)
            shutil.rmtree(out)
    return statistics.median(times)


if __name__ == "__main__":
    operation, fmt, tree, work, threads, calls = sys.argv[1:7]
    print(time_one(operation, fmt, Path(tree), Path(work), int(threads), int(calls)))
