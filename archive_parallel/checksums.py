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

from .interrupts import checkpoint
from .pool import OrderedWindow, is_tiny_batch, shared_map, worker_count
from .source_reader import file_digests_sized

logger = logging.getLogger(__name__)

TASK_BYTES = 8 * 1024 * 1024
#: files of one batch are shared out in pieces of at least this many
MIN_SHARE = 4
#: a one-batch call projected to hash less than this stays in the caller: around 1 MB, waking
#: a worker and sharing the GIL with it cost about what the second core gives back, and the
#: projection (from the first eighth of the files, sizes skewed) can be twice the truth
MIN_SHARED_BYTES = 2 * 1024 * 1024


def _as_path(item: os.PathLike[str] | str) -> Path:
    return item if isinstance(item, Path) else Path(item)


def _size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


Digested = tuple[Path, tuple[str, str, int] | None]


def _digest_batch(batch: list[tuple[Path, int]]) -> list[Digested]:
    out: list[Digested] = []
    for path, _ in batch:
        try:
            out.append((path, file_digests_sized(path)))
        except OSError as exc:
            logger.warning("cannot checksum %s: %s", path, exc.strerror or exc)
            out.append((path, None))
    if logger.isEnabledFor(logging.DEBUG):
        hashed = sum(digests[2] for _, digests in out if digests is not None)
        logger.debug("hashed a batch of %d files (%d bytes)", len(out), hashed)
    return out


def checksum_files(
    paths: Iterable[os.PathLike[str] | str],
    executor: Executor | None,
    batch_size: int,
    in_flight: int,
) -> tuple[dict[Path, tuple[str, str]], int]:
    """``({path: (sha256_hex, md5_hex)}, bytes hashed)`` for every readable regular file of
    ``paths``.

    Batches of tiny files are hashed by the caller: handing them to a worker costs more under
    the GIL than it saves. Telling them apart needs sizes, and a ``stat`` per file costs as
    much as hashing a tiny one, so sizes are taken only while the files seen last were large:
    once a batch averages under ``INLINE_MEAN_FILE_SIZE``, the next batches are hashed in the
    caller without a ``stat``, until one of them (by the bytes it hashed) is large again. The
    sequential path, and a call whose files make one batch, take no ``stat`` at all: such a
    call hashes a first share of its files in the caller, and only when that share was not
    tiny, and the whole call projected from it comes to ``MIN_SHARED_BYTES`` or more, are the
    other shares hashed by the caller and a worker together (``pool.shared_map``)."""
    files = [_as_path(p) for p in paths]
    result: dict[Path, tuple[str, str]] = {}
    nbytes = 0
    size = max(1, batch_size)

    def collect(done: list[list[Digested]]) -> bool:
        """Record finished batches; True when the last one averaged a tiny file."""
        nonlocal nbytes
        tiny = False
        for batch in done:
            hashed = 0
            for path, digests in batch:
                if digests is not None:
                    result[path] = digests[:2]
                    hashed += digests[2]
            nbytes += hashed
            tiny = is_tiny_batch(hashed, len(batch))
        return tiny

    if executor is None or len(files) < 2 * MIN_SHARE:
        collect([_digest_batch([(p, 0) for p in files])])
        return result, nbytes
    if len(files) <= size:
        # one batch: the caller hashes a first share itself, which tells (without a stat) if
        # the files are worth a worker; if they are, the rest is shared with one
        share = max(MIN_SHARE, -(-len(files) // (4 * worker_count(executor))))
        shares = [[(p, 0) for p in files[i : i + share]] for i in range(0, len(files), share)]
        tiny = collect([_digest_batch(shares[0])])
        if tiny or nbytes * len(files) < MIN_SHARED_BYTES * len(shares[0]):
            collect([_digest_batch([item for rest in shares[1:] for item in rest])])
        else:
            for done in shared_map(executor, _digest_batch, shares[1:]):
                collect([done])
        return result, nbytes
    window: OrderedWindow[list[Digested]] = OrderedWindow(executor, in_flight)
    with window:
        position, tiny = 0, False
        while position < len(files):
            checkpoint()
            if tiny:
                batch = [(p, 0) for p in files[position : position + size]]
                position += len(batch)
                tiny = collect([_digest_batch(batch)])
                continue
            batch, weight = [], 0
            while position < len(files) and len(batch) < size and weight < TASK_BYTES:
                item = (files[position], _size(files[position]))
                batch.append(item)
                weight += item[1]
                position += 1
            tiny = is_tiny_batch(weight, len(batch))
            collect(window.submit_batch(weight, len(batch), _digest_batch, batch))
        collect(list(window.drain()))
    return result, nbytes
