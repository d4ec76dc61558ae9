"""tar.zst: Zstandard through ``compression.zstd`` (Python 3.14+) or ``backports.zstd``.

Writing: the tar stream is cut every ``FRAME_INPUT_SIZE`` bytes (8 MiB) and each piece is
compressed into one complete frame (``compress_frame``: content size and checksum in its
header and trailer) by the pool's workers (``multistream.ParallelStreamWriter``), in zstd's
single-threaded mode: the bytes depend on the data and level only, never on threads. Any
zstd reader reads the frames as one stream.

Reading: ``FrameWalk`` finds the frames from their headers and block headers, without
decompressing, so the readers decode several frames at once in workers
(``decompress_frame``, bounded like the bz2/xz pieces). What the walk cannot vouch for (a
file of one big frame, such as ``tar --zstd`` writes, a frame without a size or larger than
the bound, damage) is read in order from there by ``ZstdReader``, whose ``step`` inflates at
most ``OUTPUT_STEP`` bytes at a time (several frames, skippable frames), one step ahead in a
worker. Damage, truncation and a wrong format all surface as ``CorruptArchiveError``.

Levels: zstd's own 1-19 (``ArchiveConfig.zstd_level``), or, when that is unset, mapped from
the 0-9 ``compression_level`` (``LEVEL_FROM_0_9``: 6, the default, gives zstd's default 3).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any, BinaryIO

from ..errors import ArchiveError, CorruptArchiveError

logger = logging.getLogger(__name__)

MIN_LEVEL, MAX_LEVEL, DEFAULT_LEVEL = 1, 19, 3
#: zstd level for each level of the 0-9 scale the other formats use
LEVEL_FROM_0_9 = (1, 1, 1, 2, 2, 3, 3, 5, 9, 12)
#: decompressed bytes per read step at most
OUTPUT_STEP = 1024 * 1024
#: compressed bytes read at a time
INPUT_STEP = 256 * 1024
#: input bytes per frame written: frames this size cost under 0.1% in size against one
#: frame, and are few enough to decode in parallel without holding much
FRAME_INPUT_SIZE = 8 * 1024 * 1024
#: largest block content (and so block) of the format
BLOCK_MAX = 128 * 1024
#: a frame with more blocks than one per this many bytes of content is not walked (zstd
#: splits its 128 KiB blocks where the data changes, into a few tens of KiB at the least)
BLOCK_MIN_CONTENT = 1024
#: magic, descriptor, window, dictionary id and content size at most
FRAME_HEADER_MAX = 18
SKIPPABLE_HEADER_SIZE = 8

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def zstd_module() -> ModuleType:
    """``compression.zstd`` or ``backports.zstd``; ``ArchiveError`` saying what to install."""
    try:
        from compression import zstd  # type: ignore[import-not-found]
    except ImportError:
        try:
            from backports import zstd  # type: ignore[import-not-found,no-redef]
        except ImportError:
            raise ArchiveError(
                "tar.zst needs Zstandard support: Python 3.14's compression.zstd, or "
                "pip install backports.zstd (included in archive-parallel[fast])"
            ) from None
    return zstd


def zstd_available() -> bool:
    try:
        zstd_module()
    except ArchiveError:
        return False
    return True


def effective_level(compression_level: int, zstd_level: int | None) -> int:
    """zstd's level: ``zstd_level`` when set, else mapped from the 0-9 ``compression_level``."""
    if zstd_level is not None:
        return int(zstd_level)
    return LEVEL_FROM_0_9[int(compression_level)]


def compress_frame(level: int, piece: bytes | bytearray) -> bytes:
    """``piece`` as one complete zstd frame (content size and checksum in it), compressed in
    zstd's single-threaded mode: the same bytes whichever thread runs it."""
    zstd = zstd_module()
    option = zstd.CompressionParameter
    return zstd.compress(piece, options={option.compression_level: level, option.checksum_flag: 1})


def decompress_frame(data: bytes, limit: int) -> bytes | None:
    """The content of ``data`` if it is exactly one complete, sound zstd frame of at most
    ``limit`` bytes once decompressed; None otherwise (the caller then reads it in order,
    which reports the damage)."""
    zstd = zstd_module()
    decompressor = zstd.ZstdDecompressor()
    try:
        out = decompressor.decompress(data, limit + 1)
    except (zstd.ZstdError, EOFError, ValueError):
        return None
    if len(out) > limit or not decompressor.eof or decompressor.unused_data:
        return None
    return out


@dataclass(frozen=True, slots=True)
class Frame:
    """One zstd frame of the file: ``length`` bytes at ``offset``."""

    offset: int
    length: int


class FrameWalk:
    """The frames of a zstd file, found from their headers and block headers alone (the same sizes
    the decoder follows, so the walk finds exactly the frames it would).

    Iterating yields the data frames in order (skippable frames are stepped over). The walk
    stops early, leaving ``stopped_at`` before the end of the file, at anything it cannot vouch
    for: not a frame, a reserved bit or block type, a declared content size or a compressed
    length above ``max_content``, more blocks than one per ``BLOCK_MIN_CONTENT`` bytes of
    content, or a frame running past the end. The caller reads from ``stopped_at`` on in order,
    which reads an honest frame the walk declined and reports damage as damage."""

    def __init__(self, handle: BinaryIO, size: int, max_content: int) -> None:
        self._fd = handle.fileno()
        self._size = size
        self._max_content = max_content
        self.stopped_at = 0

    def __iter__(self) -> Iterator[Frame]:
        while self.stopped_at < self._size:
            found = self._frame_at(self.stopped_at)
            if found is None:
                return
            frame, skippable = found
            self.stopped_at = frame.offset + frame.length
            if not skippable:
                yield frame

    def _read_at(self, offset: int, length: int) -> bytes:
        return os.pread(self._fd, length, offset)  # one system call per header

    def _frame_at(self, offset: int) -> tuple[Frame, bool] | None:
        """The frame at ``offset`` and whether it is a skippable one."""
        head = self._read_at(offset, FRAME_HEADER_MAX)
        if _is_skippable(head[:4]):
            if len(head) < SKIPPABLE_HEADER_SIZE:
                return None
            length = SKIPPABLE_HEADER_SIZE + int.from_bytes(head[4:8], "little")
            return (Frame(offset, length), True) if offset + length <= self._size else None
        if head[:4] != ZSTD_MAGIC or len(head) < 6:
            return None
        descriptor = head[4]
        if descriptor & 0x08:  # reserved bit
            return None
        single_segment = bool(descriptor & 0x20)
        position = 5 + (0 if single_segment else 1) + (0, 1, 2, 4)[descriptor & 0x03]
        size_bytes = (1 if single_segment else 0, 2, 4, 8)[descriptor >> 6]
        content = None
        if size_bytes:
            field = head[position : position + size_bytes]
            if len(field) < size_bytes:
                return None
            content = int.from_bytes(field, "little") + (256 if size_bytes == 2 else 0)
            if content > self._max_content:
                return None
        limit = (content if content is not None else self._max_content) // BLOCK_MIN_CONTENT + 16
        end = self._blocks_end(offset + position + size_bytes, limit, offset + self._max_content)
        if end is None:
            return None
        end += 4 if descriptor & 0x04 else 0  # content checksum
        return (Frame(offset, end - offset), False) if end <= self._size else None

    def _blocks_end(self, offset: int, limit: int, farthest: int) -> int | None:
        """Where the frame's last block ends; None past ``limit`` blocks or ``farthest``
        bytes, or at a bad block."""
        for _ in range(limit):
            if offset > farthest:
                return None
            header = self._read_at(offset, 3)
            if len(header) < 3:
                return None
            value = int.from_bytes(header, "little")
            kind, length = (value >> 1) & 0x03, value >> 3
            if kind == 3 or length > BLOCK_MAX:
                return None
            offset += 3 + (1 if kind == 1 else length)  # an RLE block stores one byte
            if value & 0x01:
                return offset
        return None


class ZstdReader:
    """Inflates a (multi-frame) zstd file one bounded step at a time; run by one task at a
    time. ``position`` (an object with ``value``) follows the compressed bytes read.

    It drives ``ZstdDecompressor`` itself rather than through ``ZstdFile`` (a Python layer of
    128 KiB reads and buffer copies per step), one decompressor per frame; data after the
    last frame that is not a zstd or skippable frame is damage, never ignored."""

    def __init__(self, handle: BinaryIO, description: str, position: Any) -> None:
        zstd = zstd_module()
        self._handle = handle
        self._description = description
        self._position = position
        self._errors = (zstd.ZstdError, EOFError, OSError, ValueError)
        start = handle.tell()
        head = handle.read(len(ZSTD_MAGIC))
        handle.seek(start)
        if not head:
            raise CorruptArchiveError(f"{description} is empty, not zstd data")
        if head != ZSTD_MAGIC and not _is_skippable(head):
            raise CorruptArchiveError(f"{description} is not zstd data (bad magic)")
        self._new_decompressor = zstd.ZstdDecompressor
        self._decompressor: Any = self._new_decompressor()
        self._done = False

    def step(self) -> bytes | None:
        """The next piece of output, or None at the end of the file."""
        try:
            return self._step()
        except self._errors as exc:
            raise CorruptArchiveError(
                f"{self._description} is damaged or truncated zstd data: {exc}"
            ) from exc

    def _step(self) -> bytes | None:
        while not self._done:
            decompressor = self._decompressor
            if decompressor.eof:  # the frame is complete: the next one, if any
                data = decompressor.unused_data or self._read()
                if not data:
                    self._done = True
                    break
                self._decompressor = decompressor = self._new_decompressor()
            elif decompressor.needs_input:
                data = self._read()
                if not data:
                    raise EOFError("the file ends inside a zstd frame")
            else:
                data = b""
            out = decompressor.decompress(data, OUTPUT_STEP)
            if out:
                return out
        return None

    def _read(self) -> bytes:
        data = self._handle.read(INPUT_STEP)
        self._position.value += len(data)
        return data

    def close(self) -> None:
        self._decompressor = None


def _is_skippable(head: bytes) -> bool:
    return len(head) == 4 and head[1:] == b"\x2a\x4d\x18" and 0x50 <= head[0] <= 0x5F


__all__ = [
    "DEFAULT_LEVEL",
    "LEVEL_FROM_0_9",
    "MAX_LEVEL",
    "MIN_LEVEL",
    "ZSTD_MAGIC",
    "FRAME_INPUT_SIZE",
    "Frame",
    "FrameWalk",
    "ZstdReader",
    "compress_frame",
    "decompress_frame",
    "effective_level",
    "zstd_available",
    "zstd_module",
]
