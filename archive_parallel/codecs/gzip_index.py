"""Inflating one of our own tar.gz files in parallel, from the restart points its writer kept.

A gzip member is one deflate stream, and inflating it is inherently serial: every block may
copy from the 32 KiB before it. Our writer (``deflate_blocks``) therefore starts a fresh,
unprimed block every few MiB, and the side file keeps a ``GzipIndex``: for each segment
between restart points, where it starts in the file and in the output, and the CRC-32 of its
output. Segments then inflate independently in workers (zlib releases the GIL) and are
delivered in order.

The index is only a hint, never trusted for content: it is used only when it fits the file
(sizes, a plain 10-byte header, a trailer whose CRC-32 and length match the index), every
segment must inflate to exactly its recorded length and CRC-32 and end where the next one
starts, and the last must end the deflate stream. The segments' CRCs combine to the
trailer's, so the output is exactly what a serial inflate would give. If a segment fails its
check (a stale or edited side file, damage), reading falls back to a serial inflate from the
start of the file that skips what was already delivered, so damage is then reported exactly
as without an index.
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

from ..pool import ordered_map
from .crc32 import crc32_combine
from .inflate import inflate_errors

logger = logging.getLogger(__name__)

INDEX_VERSION = 1
GZIP_HEADER_SIZE = 10
GZIP_TRAILER_SIZE = 8
#: a segment longer than this once inflated is not read whole (bounds memory per task)
MAX_SEGMENT_OUTPUT = 64 * 1024 * 1024
#: compressed bytes inflated per call: each call's output is one piece of the segment
INPUT_STEP = 256 * 1024


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
    def from_dict(cls, data: object) -> GzipIndex:
        """Parse the side file's form; ``ValueError`` when it is malformed or inconsistent."""
        if not isinstance(data, dict) or data.get("version") != INDEX_VERSION:
            raise ValueError("not a version-1 gzip index")
        try:
            starts = [(int(o), int(u), int(c)) for o, u, c in data["segments"]]
            index = cls.from_segments(
                starts, int(data["compressed_size"]), int(data["uncompressed_size"])
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed gzip index: {exc}") from exc
        if index.crc32 != int(data["crc32"]):
            raise ValueError("the segments' CRC-32s do not combine to the index's")
        return index


def usable_index(path: str, data: object, check_crc: bool = True) -> GzipIndex | None:
    """The side file's index when it fits this file (size, header, trailer), else None.

    ``check_crc=False`` skips the CRC-32 of each inflated segment; only for a caller that
    checks the whole archive's SHA-256 against the same side file before anything is
    committed (that hash covers every compressed byte; lengths and segment ends are still
    checked, so an index that does not fit still falls back to a serial inflate)."""
    if data is None:
        return None
    try:
        index = GzipIndex.from_dict(data)
        if len(index.segments) < 2:
            return None
        if max(s.length for s in index.segments) > MAX_SEGMENT_OUTPUT:
            raise ValueError(f"segments longer than {MAX_SEGMENT_OUTPUT} bytes are read serially")
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size != index.compressed_size:
                raise ValueError(f"the file has {size} bytes, the index {index.compressed_size}")
            header = handle.read(GZIP_HEADER_SIZE)
            handle.seek(size - GZIP_TRAILER_SIZE)
            crc, isize = struct.unpack("<II", handle.read(GZIP_TRAILER_SIZE))
    except (ValueError, OSError) as exc:
        logger.debug("%s: not using the side file's gzip index: %s", path, exc)
        return None
    if header[:4] != b"\x1f\x8b\x08\x00":  # magic, deflate, no optional header fields
        logger.debug("%s: the gzip header is not the plain one the index assumes", path)
        return None
    if crc != index.crc32 or isize != index.uncompressed_size & 0xFFFFFFFF:
        logger.debug("%s: the gzip trailer does not match the side file's index", path)
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
    return pieces


def indexed_chunks(
    path: str,
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
    file) takes over, skipping the bytes already delivered."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    delivered = 0
    logger.debug(
        "%s: inflating %d indexed segments in parallel",
        os.path.basename(path),
        len(index.segments),
    )
    try:
        last = len(index.segments) - 1
        tasks = ordered_map(
            executor,
            lambda i: inflate_segment(fd, index.segments[i], i == last, index.check_crc, module),
            range(len(index.segments)),
            max_in_flight,
        )
        try:
            for i, pieces in enumerate(tasks):
                if pieces is None:
                    logger.warning(
                        "%s: segment %d does not match the side file's gzip index; "
                        "inflating serially",
                        os.path.basename(path),
                        i,
                    )
                    break
                on_segment(index.segments[i].end)
                for piece in pieces:
                    delivered += len(piece)
                    yield piece
            else:
                return
        finally:
            tasks.close()  # cancels queued segments, waits for running ones
    finally:
        os.close(fd)
    yield from _skip(serial(), delivered)


def _skip(chunks: Iterator[bytes], count: int) -> Iterator[bytes]:
    for chunk in chunks:
        if count >= len(chunk):
            count -= len(chunk)
            continue
        yield chunk[count:] if count else chunk
        count = 0


__all__ = ["GzipIndex", "IndexSegment", "indexed_chunks", "inflate_segment", "usable_index"]
