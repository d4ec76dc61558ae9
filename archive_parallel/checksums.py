"""Checksums of many files at once: SHA-256 and MD5 per file, files spread over workers.

hashlib releases the GIL on buffers of 2 KiB and more, so hashing files in worker threads
scales with cores. Files are grouped into tasks of at most ``batch_size`` files and about
``TASK_BYTES`` bytes, so a few huge files still spread over the pool and many tiny ones do not
drown it in per-task overhead.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from concurrent.futures import Executor
from pathlib import Path

from .pool import batched, ordered_map
from .source_reader import file_digests

logger = logging.getLogger(__name__)

TASK_BYTES = 8 * 1024 * 1024


def _size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _digest_batch(batch: list[Path]) -> list[tuple[Path, tuple[str, str] | None]]:
    out: list[tuple[Path, tuple[str, str] | None]] = []
    for path in batch:
        try:
            out.append((path, file_digests(path)))
        except OSError as exc:
            logger.warning("cannot checksum %s: %s", path, exc.strerror or exc)
            out.append((path, None))
    return out


def checksum_files(
    paths: Iterable[os.PathLike[str] | str],
    executor: Executor | None,
    batch_size: int,
    in_flight: int,
) -> dict[Path, tuple[str, str]]:
    """``{path: (sha256_hex, md5_hex)}`` for every readable regular file of ``paths``."""
    files = [Path(p) for p in paths]
    result: dict[Path, tuple[str, str]] = {}
    for batch in ordered_map(
        executor, _digest_batch, batched(files, max(1, batch_size), _size, TASK_BYTES), in_flight
    ):
        for path, digests in batch:
            if digests is not None:
                result[path] = digests
    return result
