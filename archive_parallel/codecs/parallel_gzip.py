"""Parallel inflate of any gzip file (no side file needed) through the optional ``rapidgzip``.

A tar.gz made by another tool has no restart index, so its one deflate stream would inflate
in one thread. ``rapidgzip`` finds deflate block boundaries by speculative decoding and
inflates chunks of the file in its own threads (``parallelization``), checking each member's
CRC-32 and size. ``rapidgzip_chunks`` reads it in bounded pieces (``READ_SIZE``); its own
read-ahead holds a few chunks per thread (measured in docs/codecs.md), each chunk's output
whole, so the chunk is sized from the data's estimated compression ratio and data that
expands too much is left to the serial reader (``rapidgzip_chunk_size``).

It only ever accelerates: any error rapidgzip raises (damage, trailing zeros or garbage it
does not accept) hands over to ``serial()``, the ordinary in-order inflate, which skips what
was already delivered and then either finishes the file or reports the damage exactly as it
would have without rapidgzip. What rapidgzip accepts and the serial reader would not is
checked for, at the file's two ends: a file that does not start with the gzip magic (a zlib or
raw deflate stream) goes to ``serial()`` alone, and when rapidgzip ends quietly, the serial
reader itself reads what follows the last member (``_rest_is_sound``), since rapidgzip passes
over a few stray bytes there. Finding where that member ends inflates at most one of
rapidgzip's chunks (a few MiB), never the whole file. Small files (``MIN_COMPRESSED_SIZE``)
are not worth starting its threads for. Its threads take the GIL to check for signals, one
more reason for the short turns at the GIL that every operation runs with (``gil_turns``).
"""

from __future__ import annotations

import logging
import os
import struct
import zlib
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

from ..cores import usable_cpu_count
from ..errors import CodecUnavailableError, CorruptArchiveError
from ..read.open_archive import OpenArchive
from .deflate_end import deflate_end
from .gzip_index import GZIP_MAGIC, GZIP_TRAILER_SIZE, reserved_gzip_flags, skip_delivered

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
#: rapidgzip's default chunk of compressed input, and the smallest it is given
DEFAULT_CHUNK = 4 * 1024 * 1024
MIN_CHUNK = 512 * 1024
#: uncompressed bytes a chunk is sized for (rapidgzip holds a chunk's whole output)
CHUNK_OUTPUT = 24 * 1024 * 1024
#: compressed bytes inflated to estimate the ratio, in pieces of ``SAMPLE_PIECE``
RATIO_SAMPLE = 1024 * 1024
SAMPLE_PIECE = 64 * 1024
#: rapidgzip's last chunk starts tried for the end of its last member (each costs one chunk's
#: inflate at most) before the whole file is inflated serially instead
TAIL_CANDIDATES = 2


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
        cores = min(threads, usable_cpu_count())
        if cores < MIN_THREADS_WITH_FAST_SERIAL:
            return False
    return import_rapidgzip() is not None


def rapidgzip_chunks(
    source: OpenArchive,
    threads: int,
    on_position: Callable[[int], None],
    serial: Callable[[], Iterator[bytes]],
    resume_after_member: Callable[[int], Iterator[bytes]],
) -> Iterator[bytes]:
    """The file's uncompressed bytes, inflated by rapidgzip with ``threads`` threads;
    on any rapidgzip error, ``serial()`` takes over after the bytes already delivered.

    rapidgzip reads more than the serial reader accepts: a zlib or raw deflate stream, and a
    few stray bytes after the last member. A file that does not start with the gzip magic (or
    sets a reserved header flag, which isal passes over) is
    therefore left to ``serial()`` from the start, and when rapidgzip ends quietly,
    ``resume_after_member(offset)`` (the serial reader continuing where a member ends) must
    reach the end of the file after exactly the bytes delivered (``_rest_is_sound``).
    rapidgzip reads ``source``'s descriptor (a duplicate of it, with ``pread``), as every
    other reader of the archive does."""
    module = require_rapidgzip()
    name = os.path.basename(source.path)
    head = source.read_at(4, 0)
    if not head.startswith(GZIP_MAGIC) or reserved_gzip_flags(head):
        yield from serial()  # refuses it, in its own words
        return
    size = source.size
    chunk_size = rapidgzip_chunk_size(source)
    if chunk_size is None:
        logger.info(
            "%s: its data expands too much for rapidgzip's memory; inflating serially", name
        )
        yield from serial()
        return
    delivered = 0
    reader: Any = None
    chunk_starts: dict[int, int] | None = None
    try:
        reader = module.RapidgzipFile(
            source.fd, parallelization=max(1, int(threads)), chunk_size=chunk_size
        )
        while True:
            piece = reader.read(READ_SIZE)
            if not piece:
                break
            delivered += len(piece)
            on_position(min(size, int(reader.tell_compressed())))
            yield piece
        chunk_starts = _chunk_starts(reader)
    except (ValueError, RuntimeError, OSError) as exc:
        logger.info("%s: rapidgzip stopped (%s); inflating the rest serially", name, exc)
    finally:
        if reader is not None:
            reader.close()  # joins its threads; it must never be left to the finaliser
    if chunk_starts is not None:
        if _rest_is_sound(source, size, chunk_starts, delivered, resume_after_member):
            return
        logger.info("%s: where rapidgzip's last member ends is unclear; inflating serially", name)
    # rapidgzip inflated those bytes from the archive itself (no hint involved): the serial
    # inflate is only checked to reach at least as far
    yield from skip_delivered(serial(), delivered, None, name)


def rapidgzip_chunk_size(source: OpenArchive) -> int | None:
    """rapidgzip's chunk of compressed input for this file, or None to inflate serially.

    rapidgzip holds each chunk's whole output in memory, so its memory is the chunk size
    times the data's compression ratio (up to about 1,000 for zeros) per chunk in flight. The
    ratio is estimated from the file itself, the larger of its last member's declared size
    (the trailer's ISIZE) and an inflate of its first ``RATIO_SAMPLE`` bytes; the chunk is
    made small enough that its output stays near ``CHUNK_OUTPUT``, and a file that would need
    a chunk under ``MIN_CHUNK`` goes to the serial reader (highly compressed data inflates
    fast in one thread anyway). An estimate, not a bound: a hostile file can still make
    rapidgzip hold a few GiB (docs/safety-limits.md)."""
    ratio = max(_declared_ratio(source), _sampled_ratio(source), 1.0)
    chunk = int(CHUNK_OUTPUT / ratio)
    if chunk < MIN_CHUNK:
        return None
    return min(chunk, DEFAULT_CHUNK)


def _declared_ratio(source: OpenArchive) -> float:
    """The last member's uncompressed size (ISIZE, modulo 4 GiB) over the file's size."""
    if source.size < GZIP_TRAILER_SIZE:
        return 0.0
    (isize,) = struct.unpack("<I", source.read_at(4, source.size - 4))
    return isize / source.size


def _sampled_ratio(source: OpenArchive) -> float:
    """Uncompressed over compressed bytes of the file's first ``RATIO_SAMPLE`` bytes; it
    stops as soon as the ratio passes what the serial reader would be chosen for."""
    inflater = zlib.decompressobj(31)
    read = produced = 0
    limit = CHUNK_OUTPUT / MIN_CHUNK
    try:
        while read < min(source.size, RATIO_SAMPLE) and not inflater.eof:
            data = source.read_at(SAMPLE_PIECE, read)
            if not data:
                break
            read += len(data)
            while data and not inflater.eof:
                produced += len(inflater.decompress(data, SAMPLE_PIECE * 64))
                data = inflater.unconsumed_tail
                if produced > limit * read:
                    return produced / read
    except zlib.error:
        return 0.0  # damaged: the readers say so, in their words
    return produced / read if read else 0.0


def _chunk_starts(reader: Any) -> dict[int, int] | None:
    """rapidgzip's chunk starts, ``{compressed bit offset: uncompressed offset}``: each is
    where a deflate block starts (or a member, at a byte boundary) and the bytes before it
    inflate to that many bytes. None when this rapidgzip does not say."""
    try:
        starts = reader.block_offsets()
        return {int(bit): int(out) for bit, out in dict(starts).items()}
    except Exception as exc:  # noqa: BLE001 - an optional package's optional answer
        logger.debug("rapidgzip gave no chunk offsets: %s", exc)
        return None


def _rest_is_sound(
    source: OpenArchive,
    size: int,
    chunk_starts: dict[int, int],
    delivered: int,
    resume_after_member: Callable[[int], Iterator[bytes]],
) -> bool:
    """Whether the serial reader, had it read the file, would have ended with the same
    ``delivered`` bytes that rapidgzip gave; it raises the serial reader's own error for what
    it refuses after them (garbage after the data, a damaged extra member), and False when it
    cannot tell (the caller then inflates the whole file serially).

    rapidgzip reports the end of the file as where it stopped, even with stray bytes after the
    last member, so the end of a member is found from its last chunk start: the deflate stream
    is walked from there to its end (``deflate_end``), then the serial reader continues after
    that member's trailer (``resume_after_member``). It must give exactly the bytes rapidgzip
    delivered after that point and end there; otherwise (a chunk start that is not a block
    start, say) the next chunk start back is tried."""
    candidates = sorted(
        (bit, out) for bit, out in chunk_starts.items() if out < delivered and bit < 8 * size
    )
    for bit, out in reversed(candidates[-TAIL_CANDIDATES:]):
        found = _member_end(source, size, bit)
        if found is None:
            continue
        offset, produced = found
        expected = delivered - out - produced
        if expected < 0:
            continue
        rest = resume_after_member(offset)
        seen = 0
        try:
            for piece in rest:
                seen += len(piece)
                if seen > expected:
                    break
            else:
                if seen == expected:
                    return True
        except CorruptArchiveError:
            if seen == expected:
                raise  # after every byte delivered: the serial reader's verdict on the rest
        finally:
            rest.close()  # type: ignore[attr-defined]
    return False


def _member_end(source: OpenArchive, size: int, bit: int) -> tuple[int, int] | None:
    """From a deflate block start at ``bit`` (or a member start): where the serial reader
    resumes after that member, and the bytes the member gives from ``bit`` to its end; None
    when the stream does not end in the file."""
    with source.reader() as handle:
        handle.seek(bit // 8)
        if bit % 8 == 0 and handle.read(len(GZIP_MAGIC)) == GZIP_MAGIC:
            return bit // 8, 0  # a member starts here (no deflate block starts with 1f 8b)
        handle.seek(bit // 8)
        end = deflate_end(handle, bit % 8)
    if end is None or end[0] + GZIP_TRAILER_SIZE > size:
        return None
    return end[0] + GZIP_TRAILER_SIZE, end[1]


__all__ = [
    "MIN_COMPRESSED_SIZE",
    "import_rapidgzip",
    "rapidgzip_chunk_size",
    "rapidgzip_chunks",
    "require_rapidgzip",
    "wants_rapidgzip",
]
