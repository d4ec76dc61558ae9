"""Operation statistics of one ArchiveManager, updated under one lock from any thread.

Every figure follows one rule each: an operation (create, extract, verify, checksum, and a
file collection) is counted once, by the path it took, when it succeeds; a call that raises
counts in ``failed_operations`` (and ``failures_by_operation``) only, so no stage timing,
byte count or thread figure includes it. Bytes are always content bytes, uncompressed: the
files archived, the files written, the members' data verified, the files hashed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

TIMED_STAGES = ("file_collection", "checksum_calculation", "archive_creation", "archive_extraction")


class _Timing:
    __slots__ = ("count", "total", "min", "max")

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.min = 0.0
        self.max = 0.0

    def add(self, seconds: float) -> None:
        self.min = seconds if self.count == 0 else min(self.min, seconds)
        self.max = max(self.max, seconds)
        self.count += 1
        self.total += seconds

    def as_dict(self) -> dict[str, float | int]:
        return {
            "count": self.count,
            "total_time": self.total,
            "avg_time": self.total / self.count if self.count else 0.0,
            "min_time": self.min,
            "max_time": self.max,
        }


class Stats:
    """Counters and timings. ``record_operation`` is the single place an operation is counted."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.operation_count = 0
        self.bytes_processed = 0
        self.archives_created = 0
        self.archives_extracted = 0
        self.archives_verified = 0
        self.files_checksummed = 0
        self.parallel_operations = 0
        self.sequential_operations = 0
        self.failed_operations = 0
        self.peak_blocks_in_flight = 0
        self.last_threads_used = 0
        self.max_threads_used = 0
        self._timings = {stage: _Timing() for stage in TIMED_STAGES}
        self._extra_timings: dict[str, _Timing] = {}
        self._bytes_by_operation: dict[str, list[float]] = {}
        self._failures_by_operation: dict[str, int] = {}

    def reset(self) -> None:
        """Every counter and timing back to zero, as for a new manager."""
        fresh = Stats()
        with self._lock:
            for name, value in vars(fresh).items():
                if name != "_lock":
                    setattr(self, name, value)

    def record_operation(
        self,
        kind: str,
        parallel: bool,
        threads: int = 1,
        nbytes: int = 0,
        seconds: float = 0.0,
        peak_in_flight: int = 0,
    ) -> None:
        with self._lock:
            self.operation_count += 1
            if parallel:
                self.parallel_operations += 1
            else:
                self.sequential_operations += 1
            self.bytes_processed += nbytes
            self.last_threads_used = threads if parallel else 1
            self.max_threads_used = max(self.max_threads_used, self.last_threads_used)
            self.peak_blocks_in_flight = max(self.peak_blocks_in_flight, peak_in_flight)
            if kind == "create":
                self.archives_created += 1
            elif kind == "extract":
                self.archives_extracted += 1
            elif kind == "verify":
                self.archives_verified += 1
            totals = self._bytes_by_operation.setdefault(kind, [0.0, 0.0])
            totals[0] += nbytes
            totals[1] += seconds

    def set_operation_count(self, count: int) -> None:
        """Set the count outright (old code resets ``_operation_count`` by assignment)."""
        with self._lock:
            self.operation_count = int(count)

    def record_failure(self, kind: str) -> None:
        with self._lock:
            self.failed_operations += 1
            self._failures_by_operation[kind] = self._failures_by_operation.get(kind, 0) + 1

    def add_files_checksummed(self, count: int) -> None:
        with self._lock:
            self.files_checksummed += count

    def record_time(self, stage: str, seconds: float) -> None:
        with self._lock:
            table = self._timings if stage in self._timings else self._extra_timings
            table.setdefault(stage, _Timing()).add(seconds)

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        """Time the block as ``stage`` when it ends normally; one that raises is not timed
        (its call is a failed operation)."""
        start = time.perf_counter()
        yield
        self.record_time(stage, time.perf_counter() - start)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            total = self.parallel_operations + self.sequential_operations
            return {
                "operation_count": self.operation_count,
                "bytes_processed": self.bytes_processed,
                "archives_created": self.archives_created,
                "archives_extracted": self.archives_extracted,
                "archives_verified": self.archives_verified,
                "files_checksummed": self.files_checksummed,
                "parallel_operations": self.parallel_operations,
                "sequential_operations": self.sequential_operations,
                "failed_operations": self.failed_operations,
                "failures_by_operation": dict(self._failures_by_operation),
                # share of operations that took the parallel path, in percent
                "parallel_efficiency": 100.0 * self.parallel_operations / total if total else 0.0,
                "peak_blocks_in_flight": self.peak_blocks_in_flight,
                "threads_used": self.last_threads_used,
                "max_threads_used": self.max_threads_used,
                "timing_stats": {k: v.as_dict() for k, v in self._timings.items()},
                # stages beyond the four above (archive_verification, ...), same shape
                "stage_timings": {k: v.as_dict() for k, v in self._extra_timings.items()},
                "bytes_by_operation": {
                    kind: int(b) for kind, (b, _) in self._bytes_by_operation.items()
                },
                "bytes_per_second": {
                    kind: (b / s if s > 0 else 0.0)
                    for kind, (b, s) in self._bytes_by_operation.items()
                },
            }
