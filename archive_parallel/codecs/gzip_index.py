"""Inflating one of our own tar.gz files in parallel, from the restart points its writer kept.

A gzip member is one deflate stream, and inflating it is inherently serial: every block may
copy from the 32 KiB before it. Our writer (``deflate_blocks``) therefore starts a fresh,
unprimed block every few MiB, and the side file keeps a ``GzipIndex``: for each segment
between restart points, where it starts in the file and in the output, and the CRC-32 of its
output. Segments then inflate independently in workers (zlib releases the GIL) and are
delivered in order.

The index is only a hint and can never change a byte of the output. It is used only when it
fits the file (sizes, a plain 10-byte header, a trailer whose CRC-32 and length match the
index) and its numbers are sane (``GzipIndex.from_dict`` checks types, ranges and counts before
any arithmetic). Every segment must inflate alone (an empty window: a reference to data before
its start is a zlib error) to exactly its recorded length, and every segment but the last must
end exactly between two deflate blocks on a byte boundary (``ends_between_blocks``: two
probes, a final empty stored block and a final empty fixed block, must each end the stream
with no output and nothing left over). The first segment starts where the deflate stream
starts, so by induction each segment starts where a serial inflate is between blocks too, and
inflates to exactly what a serial inflate gives there; the last must end the stream at the
trailer. The CRC-32 of each segment is checked too, unless the caller checks the archive's
SHA-256 itself. If a segment fails a check (a stale or forged side file, damage), reading falls
back to a serial inflate from the start of the file, which skips what was already delivered
only after checking that those bytes have the same length and CRC-32 as what it inflates
(a difference is a ``CorruptArchiveError``), so damage is then reported exactly as without an
index.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import struct
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from ..errors import CorruptArchiveError
from ..pool import ordered_map
from ..read.open_archive import OpenArchive
from .crc32 import crc32_combine
from .inflate import copyable, inflate_errors

logger = logging.getLogger(__name__)

INDEX_VERSION = 1
GZIP_HEADER_SIZE = 10
GZIP_TRAILER_SIZE = 8
GZIP_MAGIC = b"\x1f\x8b"
#: the header flag bits RFC 1952 reserves: zlib and gzip refuse a member with one set, isal
#: passes over it, so the library refuses it whatever inflates
GZIP_RESERVED_FLAGS = 0xE0


def reserved_gzip_flags(head: bytes) -> bool:
    """Whether a gzip member's first bytes ``head`` (four or more to tell) set a reserved
    header flag: damage that every inflater must call damage."""
    return len(head) >= 4 and bool(head[3] & GZIP_RESERVED_FLAGS)


#: a segment longer than this once inflated is not read whole (bounds memory per task)
MAX_SEGMENT_OUTPUT = 64 * 1024 * 1024
#: compressed bytes inflated per call: each call's output is one piece of the segment
INPUT_STEP = 256 * 1024
#: no offset or size in an index may exceed this (a file of 4 EiB)
MAX_OFFSET = 1 << 62
#: the smallest compressed segment: a restart block ends with a 5-byte empty stored block
MIN_SEGMENT_BYTES = 5
#: a final empty stored block, then a final empty fixed-Huffman block: each ends a deflate
#: stream with no output only when fed to an inflater that is between two blocks
_BLOCK_END_PROBES = (b"\x01\x00\x00\xff\xff", b"\x03\x00")


@dataclass(frozen=True, slots=True)
class IndexSegment:
    """``[offset, end)`` of the file inflates alone to ``length`` bytes with CRC-32 ``crc32``."""

    offset: int
    end: int
    uncompressed_offset: int
    length: int
    crc32: int


@dataclass(frozen=True, slots=True)
class GzipIndex:
    compressed_size: int
    uncompressed_size: int
    crc32: int
    segments: tuple[IndexSegment, ...]
    #: check each segment's output CRC-32 (see ``usable_index``); not part of the side file
    check_crc: bool = True

    def to_dict(self) -> dict[str, Any]:
        """The side file's form: segment starts and CRCs; ends and lengths follow from them."""
        return {
            "version": INDEX_VERSION,
            "compressed_size": self.compressed_size,
            "uncompressed_size": self.uncompressed_size,
            "crc32": self.crc32,
            "segments": [[s.offset, s.uncompressed_offset, s.crc32] for s in self.segments],
        }

    @classmethod
    def from_segments(
        cls, starts: list[tuple[int, int, int]], compressed_size: int, uncompressed_size: int
    ) -> GzipIndex:
        """From ``(offset, uncompressed_offset, crc32)`` per segment, in order; raises
        ``ValueError`` when they do not describe one gzip member of these sizes."""
        if not starts or starts[0][0] != GZIP_HEADER_SIZE or starts[0][1] != 0:
            raise ValueError("the first segment must start right after a plain gzip header")
        body_end = compressed_size - GZIP_TRAILER_SIZE
        segments: list[IndexSegment] = []
        crc = 0
        for i, (offset, raw_offset, seg_crc) in enumerate(starts):
            end, raw_end = (
                (starts[i + 1][0], starts[i + 1][1])
                if i + 1 < len(starts)
                else (body_end, uncompressed_size)
            )
            if not (offset < end <= body_end and raw_offset <= raw_end):
                raise ValueError(f"segment {i} is out of order or outside the file")
            if not 0 <= seg_crc <= 0xFFFFFFFF:
                raise ValueError(f"segment {i} has an invalid CRC-32")
            length = raw_end - raw_offset
            segments.append(IndexSegment(offset, end, raw_offset, length, seg_crc))
            crc = crc32_combine(crc, seg_crc, length)
        return cls(compressed_size, uncompressed_size, crc, tuple(segments))

    @classmethod
    def from_dict(cls, data: object, file_size: int | None = None) -> GzipIndex:
        """Parse the side file's form; ``ValueError`` when it is malformed or inconsistent.

        Every number is checked (a JSON integer, not a bool, float or string, within range),
        the segment count against the file's size and each segment's length against
        ``MAX_SEGMENT_OUTPUT`` before any CRC-32 is combined, so a hostile index costs time
        in proportion to its own size only."""
        if not isinstance(data, dict) or _strict_int(data.get("version")) != INDEX_VERSION:
            raise ValueError("not a version-1 gzip index")
        compressed = _number(data, "compressed_size")
        uncompressed = _number(data, "uncompressed_size")
        crc = _number(data, "crc32")
        if crc > 0xFFFFFFFF:
            raise ValueError("the index's CRC-32 is out of range")
        if file_size is not None and compressed != file_size:
            raise ValueError(f"the file has {file_size} bytes, the index {compressed}")
        raw = data.get("segments")
        body = compressed - GZIP_HEADER_SIZE - GZIP_TRAILER_SIZE
        if not isinstance(raw, list) or not 0 < len(raw) <= max(1, body // MIN_SEGMENT_BYTES):
            raise ValueError("the segment list is missing or longer than the file allows")
        starts: list[tuple[int, int, int]] = []
        previous = 0
        for position, entry in enumerate(raw):
            if not isinstance(entry, list) or len(entry) != 3:
                raise ValueError(f"segment {position} is not [offset, output offset, crc32]")
            offset, raw_offset, seg_crc = (_strict_int(value) for value in entry)
            if seg_crc > 0xFFFFFFFF:
                raise ValueError(f"segment {position} has an invalid CRC-32")
            if raw_offset < previous or raw_offset - previous > MAX_SEGMENT_OUTPUT:
                raise ValueError(f"segment {position - 1} is out of order or too long")
            previous = raw_offset
            starts.append((offset, raw_offset, seg_crc))
        if not starts[-1][1] <= uncompressed <= starts[-1][1] + MAX_SEGMENT_OUTPUT:
            raise ValueError(f"segments longer than {MAX_SEGMENT_OUTPUT} bytes are read serially")
        index = cls.from_segments(starts, compressed, uncompressed)
        if index.crc32 != crc:
            raise ValueError("the segments' CRC-32s do not combine to the index's")
        return index


def _strict_int(value: object) -> int:
    """A JSON integer in ``0..MAX_OFFSET``; ``ValueError`` for anything else."""
    if type(value) is not int or not 0 <= value <= MAX_OFFSET:
        raise ValueError(f"not a whole number in range (a {type(value).__name__})")
    return value


def _number(data: dict[str, Any], key: str) -> int:
    try:
        return _strict_int(data.get(key))
    except ValueError as exc:
        raise ValueError(f"{key}: {exc}") from None


def usable_index(path: str, data: object, check_crc: bool = True) -> GzipIndex | None:
    """The side file's index when it fits this file (size, header, trailer), else None.

    ``check_crc=False`` skips the CRC-32 of each inflated segment; the integrity plan
    (``archive_parallel.integrity``) asks for that only when the whole archive's SHA-256 is
    checked against the same side file before anything is committed (that hash covers every
    compressed byte; lengths and segment ends are still checked, so an index that does not
    fit still falls back to a serial inflate)."""
    if data is None:
        return None
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            index = GzipIndex.from_dict(data, size)
            if len(index.segments) < 2:
                return None
            header = handle.read(GZIP_HEADER_SIZE)
            handle.seek(size - GZIP_TRAILER_SIZE)
            crc, isize = struct.unpack("<II", handle.read(GZIP_TRAILER_SIZE))
    except (ValueError, OSError, struct.error) as exc:
        logger.warning("%s: not using the side file's gzip index: %s", path, exc)
        return None
    if header[:4] != b"\x1f\x8b\x08\x00":  # magic, deflate, no optional header fields
        logger.warning("%s: not using the side file's gzip index: not a plain gzip header", path)
        return None
    if crc != index.crc32 or isize != index.uncompressed_size & 0xFFFFFFFF:
        logger.warning("%s: not using the side file's gzip index: the trailer differs", path)
        return None
    return dataclasses.replace(index, check_crc=check_crc)


def inflate_segment(
    fd: int, segment: IndexSegment, last: bool, check_crc: bool = True, module: Any = zlib
) -> list[bytes] | None:
    """Inflate one segment alone (in a worker), as pieces of about ``INPUT_STEP`` compressed
    bytes each (never joined into one large buffer); None unless it gives exactly the recorded
    length (and CRC-32, when ``check_crc``) and ends where it should (mid-stream, or at the
    end for the last). No call may produce more than the bytes still expected, plus one.
    ``module`` inflates (``zlib`` or a faster drop-in, see ``codecs.inflate``)."""
    size = segment.end - segment.offset
    data = os.pread(fd, size, segment.offset)
    if len(data) != size:
        return None
    view = memoryview(data)
    inflater = module.decompressobj(-zlib.MAX_WBITS)
    pieces: list[bytes] = []
    produced = crc = 0
    try:
        for start in range(0, size, INPUT_STEP):
            out = inflater.decompress(
                view[start : start + INPUT_STEP], segment.length - produced + 1
            )
            if inflater.unconsumed_tail or inflater.unused_data:
                return None  # more output than recorded, or data past the stream's end
            if out:
                produced += len(out)
                if check_crc:
                    crc = module.crc32(out, crc)
                pieces.append(out)
    except inflate_errors(module) as exc:
        logger.debug("segment at %d does not inflate alone: %s", segment.offset, exc)
        return None
    if inflater.eof is not last or produced != segment.length:
        return None
    if check_crc and crc != segment.crc32:
        return None
    if not last and not ends_between_blocks(inflater, inflate_errors(module)):
        logger.debug("segment at %d does not end between two deflate blocks", segment.offset)
        return None
    return pieces


def ends_between_blocks(
    inflater: Any, errors: tuple[type[BaseException], ...] = (zlib.error,)
) -> bool:
    """True when a raw inflater that consumed all its input stopped exactly between two
    deflate blocks on a byte boundary, where a new block may start at the next byte.

    Two probes are fed to copies of it: a final empty stored block and a final empty fixed
    block. Each ends the stream, with no output and no byte left over, only from that state:
    mid-block, mid-header or off a byte boundary, the probe's bits are read as something
    else (output, an error, or a stream that does not end exactly at the probe's end)."""
    for probe in _BLOCK_END_PROBES:
        trial = inflater.copy()
        try:
            out = trial.decompress(probe)
        except errors:
            return False
        if out or not trial.eof or trial.unused_data or trial.unconsumed_tail:
            return False
    return True


def indexed_chunks(
    source: OpenArchive,
    index: GzipIndex,
    executor: Executor,
    max_in_flight: int,
    on_segment: Callable[[int], None],
    serial: Callable[[], Iterator[bytes]],
    module: Any = zlib,
) -> Iterator[bytes]:
    """The file's uncompressed bytes, segments inflated in parallel and yielded in order.

    ``on_segment(end)`` reports the compressed offset each delivered segment ends at. On the
    first segment that fails its check, ``serial()`` (a plain inflate from the start of the
    file) takes over, skipping the bytes already delivered. Every segment is read from
    ``source``'s descriptor, which stays open."""
    module = copyable(module)  # the block-boundary probe copies inflaters
    delivered = 0
    delivered_crc: int | None = 0 if index.check_crc else None
    name = os.path.basename(source.path)
    logger.debug("%s: inflating %d indexed segments in parallel", name, len(index.segments))
    fd = source.fd
    last = len(index.segments) - 1

    def inflate(i: int) -> list[bytes] | None:
        """Segment ``i``, inflated in a worker."""
        segment = index.segments[i]
        pieces = inflate_segment(fd, segment, i == last, index.check_crc, module)
        if pieces is not None:
            logger.debug(
                "%s: inflated gzip segment %d of %d (%d -> %d bytes)",
                name,
                i + 1,
                last + 1,
                segment.end - segment.offset,
                segment.length,
            )
        return pieces

    tasks = ordered_map(executor, inflate, range(len(index.segments)), max_in_flight)
    try:
        for i, pieces in enumerate(tasks):
            if pieces is None:
                logger.warning(
                    "%s: segment %d does not match the side file's gzip index; inflating serially",
                    name,
                    i,
                )
                break
            segment = index.segments[i]
            on_segment(segment.end)
            if delivered_crc is not None:  # checked equal to the segment's output
                delivered_crc = crc32_combine(delivered_crc, segment.crc32, segment.length)
            for piece in pieces:
                delivered += len(piece)
                yield piece
        else:
            return
    finally:
        tasks.close()  # cancels queued segments, waits for running ones
    yield from skip_delivered(serial(), delivered, delivered_crc, name)


def skip_delivered(
    chunks: Iterator[bytes], count: int, expected_crc: int | None, name: str
) -> Iterator[bytes]:
    """``chunks`` without its first ``count`` bytes, which were already delivered: they are
    compared with what was delivered (their CRC-32, when known; their length always) before
    anything past them is yielded, and a difference is a ``CorruptArchiveError``."""
    crc = 0
    for chunk in chunks:
        if count:
            head = chunk[:count]
            count -= len(head)
            if expected_crc is not None:
                crc = zlib.crc32(head, crc)
            if count:
                continue
            if expected_crc is not None and crc != expected_crc:
                raise CorruptArchiveError(
                    f"{name}: the bytes inflated through the side file's gzip index differ "
                    "from the archive's own; refusing them"
                )
            chunk = chunk[len(head) :]
            if not chunk:
                continue
        yield chunk
    if count:
        raise CorruptArchiveError(
            f"{name}: the archive inflates to fewer bytes than the side file's gzip index "
            "delivered; refusing them"
        )


__all__ = [
    "GZIP_MAGIC",
    "GzipIndex",
    "IndexSegment",
    "ends_between_blocks",
    "indexed_chunks",
    "inflate_segment",
    "reserved_gzip_flags",
    "skip_delivered",
    "usable_index",
]
