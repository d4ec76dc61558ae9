"""tar.zst: Zstandard through ``compression.zstd`` (Python 3.14+) or ``backports.zstd``.

Writing: the tar stream is cut into pieces of ``frame_input_size(level)`` bytes (twice the
level's window: 4 MiB at the default level 3) and the pool's workers compress each into one
independent frame (``FrameCompressors``; ``codecs.multistream.ParallelStreamWriter`` cuts,
hands over and writes them in order). Each frame records its content size and carries its
checksum; the bytes depend on the data, the level and ``block_size`` only, never on threads,
and ``zstd -d``, ``tar --zstd`` and Python 3.14's ``tarfile`` read the frames as one stream.
Against one frame from zstd's own worker threads (what the library wrote before), the frames
cost 0.07% in size on the synthetic ``medium`` tree and save 0.2% on ``package``, compress
faster in the pool and hold less memory.

Reading: ``ZstdReader.step`` inflates the next piece of at most ``OUTPUT_STEP`` bytes
(``ZstdFile``: several frames, skippable frames), so memory stays bounded whatever the
archive claims; the readers run it one step ahead in a worker. Damage, truncation and a
wrong format all surface as ``CorruptArchiveError``.

Levels: zstd's own 1-19 (``ArchiveConfig.zstd_level``), or, when that is unset, mapped from
the 0-9 ``compression_level`` (``LEVEL_FROM_0_9``: 6, the default, gives zstd's default 3).
"""

from __future__ import annotations

import logging
import queue
from types import ModuleType
from typing import Any, BinaryIO

from ..errors import CodecUnavailableError, CorruptArchiveError

logger = logging.getLogger(__name__)

MIN_LEVEL, MAX_LEVEL, DEFAULT_LEVEL = 1, 19, 3
#: zstd level for each level of the 0-9 scale the other formats use
LEVEL_FROM_0_9 = (1, 1, 1, 2, 2, 3, 3, 5, 9, 12)
#: decompressed bytes per read step at most
OUTPUT_STEP = 1024 * 1024
#: compressed bytes read at a time
INPUT_STEP = 256 * 1024

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
#: the largest window a frame may ask of the decoder: zstd's own default (window log 27),
#: what ``zstd --long`` writes without a number
WINDOW_LIMIT_MIB = 128


def zstd_module() -> ModuleType:
    """``compression.zstd`` or ``backports.zstd``; ``CodecUnavailableError`` (an
    ``ArchiveError``) saying what to install."""
    try:
        from compression import zstd  # type: ignore[import-not-found]
    except ImportError:
        try:
            from backports import zstd  # type: ignore[import-not-found,no-redef]
        except ImportError:
            raise CodecUnavailableError(
                "tar.zst needs Zstandard support: Python 3.14's compression.zstd, or "
                "pip install backports.zstd (included in archive-parallel[fast])"
            ) from None
    return zstd


def zstd_available() -> bool:
    try:
        zstd_module()
    except CodecUnavailableError:
        return False
    return True


def effective_level(compression_level: int, zstd_level: int | None) -> int:
    """zstd's level: ``zstd_level`` when set, else mapped from the 0-9 ``compression_level``."""
    if zstd_level is not None:
        return int(zstd_level)
    return LEVEL_FROM_0_9[int(compression_level)]


#: zstd's window (log2 of its bytes) at each level 1-19 for inputs over 256 KiB (its own table
#: of compression parameters)
WINDOW_LOG = (19, 20, 21, 21, 21, 21, 21, 21, 22, 22, 22, 22, 22, 22, 22, 22, 23, 23, 23)
#: a frame holds at least this much of the tar stream
MIN_FRAME_INPUT = 4 * 1024 * 1024


def frame_input_size(level: int) -> int:
    """Bytes of tar stream per frame at zstd ``level``: twice its window, at least
    ``MIN_FRAME_INPUT``, so a frame boundary costs a window's history once per frame."""
    return max(MIN_FRAME_INPUT, 2 << WINDOW_LOG[int(level) - 1])


class FrameCompressors:
    """Compresses pieces into complete zstd frames at one ``level``, each with its content size
    in the header and its checksum at the end, from any number of threads (zstd releases the
    GIL). A compressor whose frame is finished starts the next one from a clean state, so the
    idle ones are kept (a ``SimpleQueue``: no lock) and reused rather than a fresh context
    allocated and faulted in for every frame (its tables are a few MiB at level 3); the bytes are
    the same either way. They go with this object, at most one per thread that used it."""

    def __init__(self, level: int) -> None:
        zstd = zstd_module()
        option = zstd.CompressionParameter
        self._options = {option.compression_level: int(level), option.checksum_flag: 1}
        self._new = zstd.ZstdCompressor
        self._flush_frame = zstd.ZstdCompressor.FLUSH_FRAME
        self._idle: queue.SimpleQueue[Any] = queue.SimpleQueue()

    def compress(self, piece: bytes | bytearray) -> bytes:
        """One complete frame of ``piece``."""
        try:
            compressor = self._idle.get_nowait()
        except queue.Empty:
            compressor = self._new(options=self._options)
        frame: bytes = compressor.compress(piece, mode=self._flush_frame)
        self._idle.put(compressor)  # not after an error: its state would be unknown
        logger.debug("compressed a zstd frame (%d -> %d bytes)", len(piece), len(frame))
        return frame


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
        head = handle.read(len(ZSTD_MAGIC))
        handle.seek(0)
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
            if "too much memory" in str(exc):  # zstd's ZSTD_error_frameParameter_windowTooLarge
                raise CorruptArchiveError(
                    f"{self._description} needs a zstd window over {WINDOW_LIMIT_MIB} MiB to "
                    "decompress (written with zstd --long above 27?); such frames are refused "
                    "so that memory stays bounded"
                ) from exc
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
    "FrameCompressors",
    "LEVEL_FROM_0_9",
    "MAX_LEVEL",
    "MIN_LEVEL",
    "ZSTD_MAGIC",
    "ZstdReader",
    "effective_level",
    "frame_input_size",
    "zstd_available",
    "zstd_module",
]
