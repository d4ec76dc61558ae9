"""One side of ``bench.two_checkouts``: run as a script, in a fresh process, with the checkout
under test alone on ``PYTHONPATH`` (so it imports only that checkout's library and the standard
library, whatever the revision).

``python bench/two_checkouts_side.py OPERATION FORMAT TREE WORK THREADS CALLS [WARM_MIB]``
times CALLS calls of OPERATION (create, extract or verify) on TREE with
``thread_pool_size=THREADS`` and ``durable_writes=False``, outputs under WORK, and prints their
median in seconds. Before each call, untimed, WARM_MIB MiB of memory are touched and handed back
(``bench/memory_reporting.py``, loaded from beside this script: it needs the standard library
only). Extraction and verification read this side's own archive of TREE, made on first use and
kept in WORK."""

from __future__ import annotations

import importlib.util
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path


def _warm_function():
    """``bench.memory_reporting.warm``, from the file beside this one (``bench`` is not on this
    process's path: only the checkout under test is)."""
    path = Path(__file__).with_name("memory_reporting.py")
    spec = importlib.util.spec_from_file_location("two_checkouts_memory_reporting", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.warm


def time_one(
    operation: str, fmt: str, tree: Path, work: Path, threads: int, calls: int, warm_mib: int = 0
) -> float:
    """The median of ``calls`` timed calls, in seconds, each after ``warm_mib`` MiB of memory
    were touched and handed back."""
    import archive_parallel
    from archive_parallel import ArchiveConfig, ArchiveManager

    checkout = Path(os.environ.get("PYTHONPATH", ".")).resolve()
    if not Path(archive_parallel.__file__).resolve().is_relative_to(checkout):
        raise RuntimeError(f"imported {archive_parallel.__file__}, not the library of {checkout}")

    config = ArchiveConfig(thread_pool_size=threads, durable_writes=False)
    archive = work / f"{tree.name}.{fmt}"
    warm = _warm_function()
    times = []
    with ArchiveManager(config) as manager:
        if operation != "create" and not archive.exists():
            manager.create_archive(tree, archive, config)
        for _ in range(calls):
            out = Path(tempfile.mkdtemp(dir=work))
            warm(warm_mib)
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
    warm_mib = int(sys.argv[7]) if len(sys.argv) > 7 else 0
    print(time_one(operation, fmt, Path(tree), Path(work), int(threads), int(calls), warm_mib))
