"""Run in child processes by the concurrency tests: one extraction, started at a set time."""

from __future__ import annotations

import time

from archive_parallel import ArchiveConfig, ArchiveManager
from archive_parallel.errors import ArchiveError


def extract_at(archive: str, dest: str, start_at: float, parallel: bool) -> str:
    """Extract ``archive`` into ``dest`` once the wall clock reaches ``start_at``; return
    "ok" or the failure's class name and message."""
    config = ArchiveConfig(
        enable_parallel_processing=parallel, parallel_threshold=1, parallel_min_archive_bytes=0
    )
    time.sleep(max(0.0, start_at - time.time()))
    try:
        with ArchiveManager() as manager:
            manager.extract_archive(archive, dest, config)
    except ArchiveError as exc:
        return f"{type(exc).__name__}: {exc}"
    return "ok"
