"""Opening an archive's decompressed byte stream for reading, in parallel where it pays.

``open_decompressed(path, fmt, executor)`` returns a readable binary stream over the
uncompressed tar bytes (use it with ``tarfile.open(fileobj=..., mode="r|")``). Behind it is a
generator of decompressed chunks:

* gzip inflates in order only, so with an executor the pool's serial lane (one thread, see
  ``pool.SizedExecutor.lane``) inflates up to ``DECODE_AHEAD`` chunks ahead while the caller
  parses and writes the current one (the inflater is stateful: its steps run one by one).
  Multi-member files and zero padding are handled; CRC and size are checked. Our
  own files, given the side file's ``gzip_index``, inflate their restart segments in parallel
  instead (``codecs.gzip_index``); other tools' files inflate in parallel through the optional
  rapidgzip when installed (``codecs.parallel_gzip``).
* zstd inflates in order only too, in bounded steps on the serial lane (``codecs.zstd``).
* bz2 and xz files that hold several concatenated streams (our writers make them) are cut at
  stream boundaries and the streams decompressed in parallel through an ``OrderedWindow``.
  xz boundaries are found exactly by walking stream footers and indexes back from the end;
  bz2 boundaries are the byte-aligned ``BZh[1-9]`` + block magic, confirmed by each piece
  decompressing cleanly to its end with nothing left over. Anything unexpected (one stream,
  a false boundary, a piece larger than ``SEGMENT_OUTPUT_LIMIT`` once decompressed) switches
  to sequential decompression from that piece on, so foreign files work too. xz stream
  padding (``XZ_PADDING_UNIT``) is accepted after and between streams, as ``xz -t`` accepts
  it, and null bytes that end a bz2 file (padding to a block size), as bzip2 and GNU tar
  pass over them.

Each chunk comes with the compressed offset where its input ends, at most, and the stream
reports progress (``DecompressedStream.compressed_position``) within the chunk the caller is
reading (``_following``), never as far as a decoder has read or run ahead.

Every decompression failure (truncation, flipped bytes, bad CRC, wrong format) reaches the
caller from ``read()`` as ``CorruptArchiveError``; ``close()`` cancels queued work, waits for
running work and closes the file.
"""

from __future__ import annotations

import bz2
import collections
import io
import logging
import lzma
import os
import re
import struct
import zlib
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, BinaryIO, TypeVar

from ..errors import CorruptArchiveError
from ..formats import CompressionFormat, archive_label
from ..interrupts import checkpoint
from ..pool import OrderedWindow, serial_lane, worker_count
from ..read.open_archive import OpenArchive, borrow_or_open
from .gzip_index import GzipIndex, indexed_chunks, reserved_gzip_flags
from .inflate import inflate_errors, inflate_module
from .parallel_gzip import rapidgzip_chunks, wants_rapidgzip
from .zstd import ZstdReader

logger = logging.getLogger(__name__)

T = TypeVar("T")
#: a decompressed chunk and the compressed offset where the input it came from ends (at most)
Piece = tuple[bytes, int]

#: compressed bytes read per inflate step
GZIP_READ_SIZE = 1024 * 1024
#: decompressed bytes produced per inflate step at most (bounds memory against bombs); large
#: enough that the decoder, which takes the GIL back after every step, rarely waits for it
#: behind the caller's parsing (1 MiB steps left it idle a third of the time on 2 cores)
GZIP_OUTPUT_STEP = 4 * 1024 * 1024
#: a stream piece that decompresses to more than this is read sequentially instead
SEGMENT_OUTPUT_LIMIT = 64 * 1024 * 1024
#: a stream piece with more compressed bytes than this is read sequentially (never held whole)
SEGMENT_INPUT_LIMIT = 64 * 1024 * 1024
#: memory an xz decoder may use (its dictionary, set by the file): xz -9 needs 65 MiB
XZ_MEMORY_LIMIT = 256 * 1024 * 1024
#: bz2/xz pieces decompressing at once (queued or running) when the executor's size is unknown
SEGMENTS_IN_FLIGHT = 4
#: compressed bytes read per step of sequential bz2/xz decompression: small, as progress
#: (``_input_end``) moves by whole steps of input (reading in larger steps is no faster)
SEQUENTIAL_READ_SIZE = 64 * 1024
#: decompressed bytes produced per step of sequential bz2/xz decompression at most
SEQUENTIAL_OUTPUT_STEP = 1024 * 1024
_SCAN_CHUNK = 4 * 1024 * 1024

_DECOMPRESSION_ERRORS = (zlib.error, lzma.LZMAError, EOFError, OSError, ValueError)


# --------------------------------------------------------------------------------------
# the stream handed to the caller


class CompressedPosition:
    """How far into the compressed file the caller of a stream has read (for progress).

    ``_following`` sets ``span`` as it hands the caller each chunk: the compressed bytes
    behind that chunk, so the stream reports progress within it as it is consumed, never
    where a decoder that reads or runs ahead of the caller already is (``value`` is the
    span's end)."""

    __slots__ = ("value", "span")

    def __init__(self) -> None:
        self.value = 0
        self.span: tuple[int, int] | None = None


class DecompressedStream(io.BufferedIOBase):
    """A read-only, non-seekable stream over a generator of decompressed chunks."""

    def __init__(
        self,
        chunks: Iterator[bytes],
        description: str,
        position: CompressedPosition | None = None,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        self._on_close = on_close
        self._compressed = position
        self._chunks = chunks
        self._description = description
        self._current: bytes = b""
        self._offset = 0
        self._position = 0
        self._eof = False
        self._error: CorruptArchiveError | None = None

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def compressed_position(self) -> int:
        """Compressed bytes consumed so far (0 when unknown)."""
        position = self._compressed
        if position is None:
            return 0
        if position.span is not None and self._current:
            start, end = position.span
            return start + (end - start) * self._offset // len(self._current)
        return position.value

    def _fill(self) -> bool:
        """Make unread bytes available in ``_current``; False at the end of the data."""
        if self.closed:
            raise ValueError("I/O operation on a closed decompressed stream")
        while self._offset >= len(self._current):
            if self._error is not None:
                raise self._error
            if self._eof:
                return False
            checkpoint()
            try:
                chunk = next(self._chunks)
            except StopIteration:
                self._eof = True
                return False
            except CorruptArchiveError as exc:
                self._error = exc
                raise
            except _DECOMPRESSION_ERRORS as exc:
                self._error = CorruptArchiveError(
                    f"{self._description} is damaged or not in its claimed format: {exc}"
                )
                raise self._error from exc
            self._current, self._offset = chunk, 0
        return True

    def _advance(self, size: int) -> tuple[int, int]:
        """Consume up to ``size`` bytes of the current chunk; their span in it."""
        start = self._offset
        end = min(len(self._current), start + size)
        self._offset = end
        self._position += end - start
        return start, end

    def _take(self, size: int) -> bytes:
        start, end = self._advance(size)
        current = self._current
        return current if start == 0 and end == len(current) else current[start:end]

    def read_view(self, size: int) -> bytes | memoryview:
        """``read(size)`` without a copy when the bytes lie within one decompressed chunk: a
        memoryview of it (which keeps the chunk alive while it is held). The calling thread
        holds the GIL while it copies, so a member's data passed on this way to the worker
        that writes it costs the reader nothing per byte."""
        if size > 0 and self._fill():
            current = self._current
            if len(current) - self._offset >= size and type(current) is bytes:
                start, end = self._advance(size)
                return memoryview(current)[start:end]
        return self.read(size)

    def read1(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = 1 << 62
        if size == 0 or not self._fill():
            return b""
        return self._take(size)

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            parts = []
            while self._fill():
                parts.append(self._take(1 << 62))
            return b"".join(parts)
        parts = []
        remaining = size
        while remaining > 0 and self._fill():
            part = self._take(remaining)
            parts.append(part)
            remaining -= len(part)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(view) and self._fill():
            part = self._take(len(view) - filled)
            view[filled : filled + len(part)] = part
            filled += len(part)
        return filled

    def close(self) -> None:
        if not self.closed:
            try:
                self._chunks.close()  # type: ignore[attr-defined]
            finally:
                self._current = b""
                super().close()
                if self._on_close is not None:  # after the chunks: no reader is left
                    self._on_close()


# --------------------------------------------------------------------------------------
# gzip: in-order inflate, one step ahead in a worker


class _GzipInflater:
    """Inflates a (multi-member) gzip file one bounded step at a time; not thread-safe, but
    only ever run by one task at a time."""

    def __init__(
        self,
        handle: BinaryIO,
        description: str,
        position: CompressedPosition | None = None,
        inflater: Any = zlib,
        members: int = 0,
    ) -> None:
        self._handle = handle
        self._module = inflater
        self._errors = inflate_errors(inflater)
        self._description = description
        self._position = position or CompressedPosition()
        self._input = b""
        self._decompressor: Any = None
        #: members inflated before ``handle``'s position: 1 or more resumes right after one
        #: (``resume_after_member``), where zero padding, another member or the end may follow
        self._members = members
        self._done = False

    def _read(self) -> bytes:
        data = self._handle.read(GZIP_READ_SIZE)
        self._position.value += len(data)
        return data

    def _start_member(self) -> bool:
        """Position at the next member; False when only zero padding (or nothing) is left."""
        while True:
            if self._members:
                self._input = self._input.lstrip(b"\x00")  # padding between/after members
            if len(self._input) >= 4:  # the magic and the flags
                break
            more = self._read()
            if not more:
                if not self._input:
                    if self._members == 0:
                        raise CorruptArchiveError(f"{self._description} is empty, not gzip data")
                    return False
                break
            self._input += more
        if not self._input.startswith(b"\x1f\x8b"):
            where = "is not gzip data" if self._members == 0 else "has garbage after its data"
            raise CorruptArchiveError(f"{self._description} {where} (bad gzip magic)")
        if reserved_gzip_flags(self._input):
            raise CorruptArchiveError(
                f"{self._description} is damaged (reserved gzip header flags set)"
            )
        self._decompressor = self._module.decompressobj(16 + zlib.MAX_WBITS)
        return True

    def step(self) -> bytes | None:
        """The next piece of output, or None at the end of the file."""
        while not self._done:
            if self._decompressor is None and not self._start_member():
                self._done = True
                break
            if not self._input:
                self._input = self._read()
                if not self._input:
                    raise CorruptArchiveError(
                        f"{self._description} is truncated (gzip data ends mid-stream)"
                    )
            try:
                out = self._decompressor.decompress(self._input, GZIP_OUTPUT_STEP)
            except self._errors as exc:
                raise CorruptArchiveError(
                    f"{self._description} has corrupt gzip data: {exc}"
                ) from exc
            self._input = self._decompressor.unconsumed_tail
            if self._decompressor.eof:
                self._input = self._decompressor.unused_data + self._input
                self._decompressor = None
                self._members += 1
            if out:
                return out
        return None


def _decoded_chunks(
    source: OpenArchive,
    executor: Executor | None,
    position: CompressedPosition,
    decoder: Callable[[BinaryIO, CompressedPosition], Callable[[], bytes | None]],
    offset: int = 0,
) -> Iterator[bytes]:
    """The pieces of a stream that decodes in order only: ``decoder(handle, reading)`` makes
    the step function over the file opened at ``offset`` (``_GzipInflater``, ``ZstdReader``),
    which ``_chunks_ahead`` runs ahead of the caller."""
    handle = source.reader()  # closed by _chunks_ahead, after workers stop
    reading = CompressedPosition()
    try:
        handle.seek(offset)
        reading.value = offset
        step = decoder(handle, reading)
    except BaseException:
        handle.close()
        raise
    return _chunks_ahead(handle, step, executor, reading, position)


#: decoder steps computed ahead of the caller on a serial lane (each at most a few MiB)
DECODE_AHEAD = 3


def _chunks_ahead(
    handle: BinaryIO,
    step: Callable[[], bytes | None],
    executor: Executor | None,
    reading: CompressedPosition,
    position: CompressedPosition,
) -> Iterator[bytes]:
    """``step()``'s pieces until it returns None, computed ahead of the caller while it uses
    the current one. The decoder is stateful, so its steps run one after another: on the
    pool's serial lane (``pool.serial_lane``), up to ``DECODE_AHEAD`` of them queued, where
    they never wait behind the pool's other tasks; on an executor without one, one step at
    a time; in the caller, as it needs them, where ``serial_lane`` finds no core for a
    decoder thread. ``reading`` is where the decoder has read to; ``position`` gets the compressed
    span of each piece as the caller takes it (``CompressedPosition.span``)."""

    def stamped_step() -> tuple[bytes | None, int]:
        chunk = step()
        return chunk, reading.value  # steps run one at a time: this is where it ended

    steps = _steps_in_order(stamped_step, executor)

    def until_the_end() -> Generator[Piece, None, None]:
        for chunk, end in steps:
            if chunk is None:
                return
            yield chunk, end

    try:
        yield from _following(until_the_end(), position)
    finally:
        steps.close()  # cancels queued steps and waits for a running one
        handle.close()


def _following(
    pieces: Generator[Piece, None, None], position: CompressedPosition
) -> Iterator[bytes]:
    """The chunks of ``pieces``, each given with the compressed offset where its input ended,
    setting ``position`` to the compressed span of the chunk the caller takes as it takes it:
    progress follows what the caller has consumed, not how far the decoder has read."""
    start = position.value
    try:
        for chunk, end in pieces:
            position.span, position.value = (start, end), end
            start = end
            yield chunk
    finally:
        pieces.close()


def _steps_in_order(step: Callable[[], T], executor: Executor | None) -> Iterator[T]:
    """``step()``'s results, one after another, without end, where ``serial_lane(executor)``
    says: in the caller as they are asked for (None); else queued on the lane,
    ``DECODE_AHEAD`` of them when it is a thread of its own and one at a time when it is
    ``executor`` itself."""
    lane = serial_lane(executor)
    if lane is None:
        while True:
            yield step()
    window: OrderedWindow[T] = OrderedWindow(lane, DECODE_AHEAD if lane is not executor else 1)
    try:
        while True:
            yield from window.submit(step)  # finished steps; the next one queued
    finally:
        window.cancel()


# --------------------------------------------------------------------------------------
# bz2 / xz: stream boundaries, then parallel decompression of the pieces


@dataclass(frozen=True, slots=True)
class Segment:
    """One complete compressed stream: ``length`` bytes at ``offset``."""

    offset: int
    length: int


_BZ2_STREAM_START = re.compile(rb"BZh[1-9]1AY&SY")


def find_bz2_segments(handle: BinaryIO, size: int) -> list[Segment] | None:
    """Candidate stream pieces from byte-aligned stream-start magics, or None if the file
    does not start with one (then it is read sequentially)."""
    handle.seek(0)
    starts: list[int] = []
    overlap = 9
    base = 0
    tail = b""
    while True:
        chunk = handle.read(_SCAN_CHUNK)
        if not chunk:
            break
        data = tail + chunk
        data_start = base - len(tail)
        for match in _BZ2_STREAM_START.finditer(data):
            offset = data_start + match.start()
            if not starts or offset > starts[-1]:
                starts.append(offset)
        base += len(chunk)
        tail = data[-overlap:]
    if not starts or starts[0] != 0:
        return None
    ends = starts[1:] + [size]
    return [Segment(start, end - start) for start, end in zip(starts, ends)]


_XZ_HEADER_MAGIC = b"\xfd7zXZ\x00"
_XZ_FOOTER_MAGIC = b"YZ"
_XZ_MAX_INDEX = 64 * 1024 * 1024
#: xz stream padding (null bytes after a stream, before the next one or the end) comes in
#: whole units of this many bytes (every stream's own length is one too); xz -t refuses any
#: other length as corrupt data
XZ_PADDING_UNIT = 4


def _read_at(handle: BinaryIO, offset: int, length: int) -> bytes:
    handle.seek(offset)
    return handle.read(length)


def _varints(data: bytes, pos: int, count: int) -> tuple[list[int], int]:
    values = []
    for _ in range(count):
        value = 0
        for shift in range(0, 63, 7):
            if pos >= len(data):
                raise ValueError("index ends inside a number")
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                break
        else:
            raise ValueError("index number too long")
        values.append(value)
    return values, pos


def _xz_blocks_size(index: bytes) -> int:
    """Total padded size of the blocks an xz index lists (raises ValueError if malformed)."""
    if not index or index[0] != 0:
        raise ValueError("no index indicator")
    if zlib.crc32(index[:-4]) != struct.unpack("<I", index[-4:])[0]:
        raise ValueError("index CRC mismatch")
    (records,), pos = _varints(index, 1, 1)
    total = 0
    for _ in range(records):
        (unpadded, _uncompressed), pos = _varints(index, pos, 2)
        total += (unpadded + 3) & ~3
    return total


def find_xz_segments(handle: BinaryIO, size: int) -> list[Segment] | None:
    """Exact stream pieces of an xz file, walking footers and indexes back from the end;
    None when the structure is not what the xz format says (then it is read sequentially)."""
    segments: list[Segment] = []
    end = size
    try:
        while end > 0:
            unit = XZ_PADDING_UNIT
            while end >= unit and _read_at(handle, end - unit, unit) == bytes(unit):
                end -= unit  # stream padding; before the first stream it leaves end < 24
            if end < 24:
                return None
            footer = _read_at(handle, end - 12, 12)
            if footer[10:] != _XZ_FOOTER_MAGIC:
                return None
            if zlib.crc32(footer[4:10]) != struct.unpack("<I", footer[:4])[0]:
                return None
            index_size = (struct.unpack("<I", footer[4:8])[0] + 1) * 4
            index_start = end - 12 - index_size
            if index_size > _XZ_MAX_INDEX or index_start < 12:
                return None
            blocks = _xz_blocks_size(_read_at(handle, index_start, index_size))
            start = index_start - blocks - 12
            if start < 0:
                return None
            header = _read_at(handle, start, 12)
            if header[:6] != _XZ_HEADER_MAGIC or header[6:8] != footer[8:10]:
                return None
            segments.append(Segment(start, end - start))
            end = start
    except ValueError as exc:
        logger.debug("xz index walk failed: %s", exc)
        return None
    segments.reverse()
    return segments


def _new_decompressor(fmt: CompressionFormat) -> Any:
    if fmt is CompressionFormat.TAR_BZ2:
        return bz2.BZ2Decompressor()
    return lzma.LZMADecompressor(format=lzma.FORMAT_XZ, memlimit=XZ_MEMORY_LIMIT)


def decompress_segment(
    source: OpenArchive, fmt: CompressionFormat, segment: Segment
) -> bytes | None:
    """Decompress one whole stream (in a worker); None when it is not exactly one clean
    stream, decompresses to more than ``SEGMENT_OUTPUT_LIMIT`` bytes or has more than
    ``SEGMENT_INPUT_LIMIT`` compressed bytes."""
    if segment.length > SEGMENT_INPUT_LIMIT:
        return None
    data = source.read_at(segment.length, segment.offset)
    decompressor = _new_decompressor(fmt)
    try:
        out = decompressor.decompress(data, SEGMENT_OUTPUT_LIMIT + 1)
    except _DECOMPRESSION_ERRORS as exc:
        logger.debug("piece at %d does not decompress alone: %s", segment.offset, exc)
        return None
    if len(out) > SEGMENT_OUTPUT_LIMIT or not decompressor.eof or decompressor.unused_data:
        return None
    logger.debug(
        "%s: decompressed the %s stream at offset %d (%d -> %d bytes)",
        os.path.basename(source.path),
        fmt.tar_compression,
        segment.offset,
        segment.length,
        len(out),
    )
    return out


def _sequential_chunks(
    source: OpenArchive,
    fmt: CompressionFormat,
    offset: int = 0,
) -> Generator[Piece, None, None]:
    """Decompress from ``offset`` (where a stream starts) to the end, one stream after
    another (``_streams_in_sequence``).

    Unlike ``BZ2File`` and ``LZMAFile``, bytes after the last stream that are neither another
    stream nor the padding the format's own tools accept are an error, not ignored: appended
    junk is damage, as a gzip reader says of a tar.gz."""
    with source.reader() as raw:
        raw.seek(offset)
        yield from _streams_in_sequence(raw, fmt, offset)


def _streams_in_sequence(
    raw: BinaryIO, fmt: CompressionFormat, offset: int
) -> Generator[Piece, None, None]:
    """The bz2 or xz streams that start at ``raw``'s position, one after another, as
    ``bzip2 -d`` and ``xz -d`` read a file. The first stream starts right away; after each
    stream comes another one or the end of the file, with null bytes allowed between them as
    each format's tools allow: xz stream padding (``XZ_PADDING_UNIT``) after or between
    streams, and for bz2 a run of null bytes after the last stream only (padding to a block
    size, which bzip2 and GNU tar pass over). Anything else after a stream is an error, as
    is xz padding of another length.

    Each chunk comes with the compressed offset its input ends at, at most
    (``_input_end``): ``raw`` is read a step ahead of the output, which the decoder keeps
    until it is asked for it."""
    decompressor = _new_decompressor(fmt)
    pending = b""
    read_end = fed_from = offset  # where reading has got to; where the input being fed starts
    while True:
        if decompressor.eof:
            pending, padding = decompressor.unused_data, 0
            while not pending.strip(b"\x00"):
                padding += len(pending)
                pending = raw.read(SEQUENTIAL_READ_SIZE)
                read_end += len(pending)
                if not pending:
                    break
            stripped = pending.lstrip(b"\x00")
            padding += len(pending) - len(stripped)
            if fmt is CompressionFormat.TAR_XZ and padding % XZ_PADDING_UNIT:
                raise lzma.LZMAError(
                    f"Corrupt input data: {padding} null bytes of stream padding after an xz "
                    f"stream (a multiple of {XZ_PADDING_UNIT} is allowed)"
                )
            if not stripped:
                return
            if fmt is CompressionFormat.TAR_BZ2 and padding:
                raise OSError(
                    f"Invalid data stream: data after {padding} null bytes that follow a bzip2 "
                    "stream (null bytes may only end the file)"
                )
            pending = stripped
            decompressor = _new_decompressor(fmt)
        if decompressor.needs_input:
            if not pending:
                pending = raw.read(SEQUENTIAL_READ_SIZE)
                read_end += len(pending)
                if not pending:
                    raise EOFError(
                        "Compressed file ended before the end-of-stream marker was reached"
                    )
            fed_from = read_end - len(pending)
            chunk = decompressor.decompress(pending, SEQUENTIAL_OUTPUT_STEP)
            pending = b""
        else:
            chunk = decompressor.decompress(b"", SEQUENTIAL_OUTPUT_STEP)
        if chunk:
            yield chunk, _input_end(decompressor, fed_from, read_end)


def _input_end(decompressor: Any, fed_from: int, read_end: int) -> int:
    """The compressed offset where the input of the chunk ``decompressor`` has just made
    ends, at most: the end of its stream; the end of what was read when it has used all of
    it; else where the input it still holds starts (it has stopped at its output limit
    somewhere in there)."""
    if decompressor.eof:
        return read_end - len(decompressor.unused_data)
    return read_end if decompressor.needs_input else fed_from


def _segmented_chunks(
    source: OpenArchive,
    fmt: CompressionFormat,
    executor: Executor,
    segments: list[Segment],
    max_in_flight: int,
) -> Generator[Piece, None, None]:
    """Pieces decompressed in parallel, yielded in order, each with the offset where its
    stream ends; the first piece that does not decompress cleanly on its own switches to
    sequential reading from its offset."""
    window: OrderedWindow[bytes | None] = OrderedWindow(executor, max_in_flight)

    def results() -> Iterator[tuple[Segment, bytes | None]]:
        queued: collections.deque[Segment] = collections.deque()
        for segment in segments:
            finished = window.submit(decompress_segment, source, fmt, segment)
            queued.append(segment)
            for out in finished + window.ready():
                yield queued.popleft(), out
        for out in window.drain():
            yield queued.popleft(), out

    try:
        for done, out in results():
            if out is None:
                window.cancel()
                yield from _sequential_chunks(source, fmt, done.offset)
                return
            yield out, done.offset + done.length
    finally:
        window.cancel()


def _workers(executor: Executor) -> int:
    return worker_count(executor, SEGMENTS_IN_FLIGHT // 2)


def _default_in_flight(executor: Executor) -> int:
    return 2 * _workers(executor)


def _stream_chunks(
    source: OpenArchive,
    fmt: CompressionFormat,
    executor: Executor | None,
    max_in_flight: int | None,
) -> Generator[Piece, None, None]:
    if executor is not None:
        with source.reader() as handle:
            if fmt is CompressionFormat.TAR_BZ2:
                segments = find_bz2_segments(handle, source.size)
            else:
                segments = find_xz_segments(handle, source.size)
        if segments is not None and len(segments) > 1:
            logger.debug("%s: %d streams, decompressing in parallel", source.path, len(segments))
            if max_in_flight is None:
                max_in_flight = _default_in_flight(executor)
            yield from _segmented_chunks(source, fmt, executor, segments, max_in_flight)
            return
    yield from _sequential_chunks(source, fmt, 0)


# --------------------------------------------------------------------------------------


def open_decompressed(
    path: OpenArchive | str | os.PathLike[str],
    fmt: CompressionFormat,
    executor: Executor | None = None,
    *,
    max_in_flight: int | None = None,
    gzip_index: GzipIndex | None = None,
    inflate_backend: str = "auto",
) -> BinaryIO:
    """A readable stream over the uncompressed bytes of a tar archive in format ``fmt``.

    ``path`` is the archive, open (``read.open_archive.OpenArchive``: every byte is read
    through its descriptor, which the stream leaves open) or a path (opened here, closed
    with the stream); ``ArchiveError`` when it is missing or cannot be read.
    ``max_in_flight`` bounds the bz2/xz pieces queued or running (default: two per worker of
    ``executor``); each holds one decompressed stream piece (about 1-8 MiB for our files).
    ``gzip_index`` (from ``codecs.gzip_index.usable_index``) lets a gzip file's restart
    segments inflate in parallel, ``max_in_flight`` of them at once (default: one more than
    the workers; each holds about 4 MiB of output).
    ``inflate_backend`` picks the inflate implementation (``codecs.inflate``; same output).
    Do not read from the stream inside a worker of a one-thread ``executor``: the reader
    waits for tasks it queued on that same executor.
    """
    source, owned = borrow_or_open(path)
    if fmt is CompressionFormat.TAR:
        return source.reader(owning=owned)
    description = archive_label(source.path, fmt)
    position = CompressedPosition()
    try:
        if fmt is CompressionFormat.TAR_GZ:
            chunks = _gzip_chunks(
                source, executor, description, position, max_in_flight, gzip_index, inflate_backend
            )
        elif fmt in (CompressionFormat.TAR_BZ2, CompressionFormat.TAR_XZ):
            if source.size == 0:
                raise CorruptArchiveError(f"{description} is empty, not {fmt.tar_compression} data")
            chunks = _following(_stream_chunks(source, fmt, executor, max_in_flight), position)
        elif fmt is CompressionFormat.TAR_ZST:
            chunks = _decoded_chunks(
                source,
                executor,
                position,
                lambda handle, reading: ZstdReader(handle, description, reading).step,
            )
        else:
            raise ValueError(f"{fmt} is not a tar format")
    except BaseException:
        if owned:
            source.close()
        raise
    on_close = source.close if owned else None
    return DecompressedStream(chunks, description, position, on_close)  # type: ignore[return-value]


def _gzip_chunks(
    source: OpenArchive,
    executor: Executor | None,
    description: str,
    position: CompressedPosition,
    max_in_flight: int | None,
    gzip_index: GzipIndex | None,
    inflate_backend: str,
) -> Iterator[bytes]:
    """A gzip file's chunks (``open_decompressed``): segments inflated in parallel from the
    side file's index, or through rapidgzip, or in order (``serial``)."""
    module = inflate_module(inflate_backend)

    def serial() -> Iterator[bytes]:
        return _decoded_chunks(
            source,
            executor,
            position,
            lambda handle, reading: _GzipInflater(handle, description, reading, module).step,
        )

    def resume_after_member(offset: int) -> Iterator[bytes]:
        """The same serial inflate, from ``offset``, where a member ends (after its
        trailer): what may follow a member there, and the same errors for the rest. Only
        checked by the caller, never delivered, so it neither runs ahead nor reports
        progress."""
        return _decoded_chunks(
            source,
            None,
            CompressedPosition(),
            lambda handle, reading: (
                _GzipInflater(handle, description, reading, module, members=1).step
            ),
            offset,
        )

    def on_position(end: int) -> None:
        position.value = end

    if gzip_index is not None and executor is not None:
        window = max_in_flight or _workers(executor) + 1
        return indexed_chunks(source, gzip_index, executor, window, on_position, serial, module)
    if executor is not None and wants_rapidgzip(
        inflate_backend, source.size, _workers(executor), module is not zlib
    ):
        return rapidgzip_chunks(
            source, _workers(executor), on_position, serial, resume_after_member
        )
    return serial()


__all__ = [
    "DecompressedStream",
    "Segment",
    "decompress_segment",
    "find_bz2_segments",
    "find_xz_segments",
    "open_decompressed",
]
