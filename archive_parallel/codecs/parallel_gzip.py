"""Parallel inflate of any gzip file (no side file needed) through the optional ``rapidgzip``.

A tar.gz made by another tool has no restart index, so its one deflate stream would inflate
in one thread. ``rapidgzip`` finds deflate block boundaries by speculative decoding and
inflates chunks of the file in its own threads (``parallelization``), checking each member's
CRC-32 and size. ``rapidgzip_chunks`` reads it in bounded pieces (``READ_SIZE``); its own
read-ahead holds a few chunks per thread (measured in docs/codecs.md).

It only ever accelerates: any error rapidgzip raises (damage, trailing zeros or garbage it
does not accept, a format it does not detect) hands over to ``serial()``, the ordinary
in-order inflate, which skips what was already delivered and then either finishes the file
or reports the damage exactly as it would have without rapidgzip. Small files
(``MIN_COMPRESSED_SIZE``) are not worth starting its threads for.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

from ..errors import CodecUnavailableError
from .gzip_index import skip_delivered

logger = logging.getLogger(__name__)

#: decompressed bytes per read
READ_SIZE = 1024 * 1024
#: below this many compressed bytes the serial inflate is as fast (no threads to start)
MIN_COMPRESSED_SIZE = 4 * 1024 * 1024
#: with isal or zlib-ng inflating serially (about twice zlib's speed), "auto" takes rapidgzip
#: only from this many threads and cores on (a Mac, not a 4-core Pi): measured on 2 busy
#: cores, rapidgzip with 2 threads (79 ms) lost to isal alone (52 ms) but beat zlib alone
#: (111 ms) on a 22 MB tar.gz, and it peaked at about 230 MiB RSS where isal took 34 MiB
MIN_THREADS_WITH_FAST_SERIAL = 8


def import_rapidgzip() -> ModuleType | None:
    try:
        import rapidgzip
    except ImportError:
        return None
    return rapidgzip


def require_rapidgzip() -> ModuleType:
    module = import_rapidgzip()
    if module is None:
        raise CodecUnavailableError(
            "decompression_backend 'rapidgzip' was asked for but the rapidgzip package is not "
            "installed (pip install rapidgzip, or use 'auto')"
        )
    return module


def wants_rapidgzip(backend: str, compressed_size: int, threads: int, fast_serial: bool) -> bool:
    """Whether a gzip file without a usable index should inflate through rapidgzip: always
    when asked for by name; with "auto" when it is installed, the file is large enough, and
    it beats the serial inflater (``fast_serial``: isal or zlib-ng) with the cores at hand."""
    if backend == "rapidgzip":
        require_rapidgzip()
        return True
    if backend != "auto" or compressed_size < MIN_COMPRESSED_SIZE or threads < 2:
        return False
    if fast_serial:
        cores = min(threads, os.cpu_count() or 1)
        if cores < MIN_THREADS_WITH_FAST_SERIAL:
            return False
    return import_rapidgzip() is not None


def rapidgzip_chunks(
    path: str,
    threads: int,
    on_position: Callable[[int], None],
    serial: Callable[[], Iterator[bytes]],
) -> Iterator[bytes]:
    """The file's uncompressed bytes, inflated by rapidgzip with ``threads`` threads;
    on any rapidgzip error, ``serial()`` takes over after the bytes already delivered."""
    module = require_rapidgzip()
    delivered = 0
    size = os.path.getsize(path)
    reader: Any = None
    try:
        reader = module.open(path, parallelization=max(1, int(threads)))
        while True:
            piece = reader.read(READ_SIZE)
            if not piece:
                break
            delivered += len(piece)
            on_position(min(size, int(reader.tell_compressed())))
            yield piece
        return
    except (ValueError, RuntimeError, OSError) as exc:
        logger.info(
            "%s: rapidgzip stopped (%s); inflating the rest serially",
            os.path.basename(path),
            exc,
        )
    finally:
        if reader is not None:
            reader.close()  # joins its threads; it must never be left to the finaliser
    # rapidgzip inflated those bytes from the archive itself (no hint involved): the serial
    # inflate is only checked to reach at least as far
    yield from skip_delivered(serial(), delivered, None, os.path.basename(path))


__all__ = [
    "MIN_COMPRESSED_SIZE",
    "import_rapidgzip",
    "rapidgzip_chunks",
    "require_rapidgzip",
    "wants_rapidgzip",
]
