"""bzip2, xz and zstd written as independent concatenated streams compressed in parallel.

Input is cut by position into stream-sized pieces; a worker compresses each piece into one
complete stream (``bz2.compress`` / ``lzma.compress`` / a zstd frame, all release the GIL)
and the streams are written in order through an ``OrderedWindow`` (at most ``max_in_flight``
pieces queued or running), each reported to ``progress`` as it is written
(``progress.OutputProgress``).
``bzip2``, ``xz``, ``zstd``, ``tar`` and ``tarfile``'s ``r:bz2``/``r:xz``/``r:zst`` modes read
concatenated streams as one. The piece size is chosen per codec so that splitting costs
almost nothing in ratio:

* bz2 works internally in blocks of ``level * 100 kB``; a piece is the multiple of that
  nearest to ``block_size`` (at least one): 900,000 bytes at level 9 with 1 MiB blocks.
* xz compresses better with more history; a piece is at least the preset's dictionary size
  (8 MiB at presets 5-6), rounded up to a multiple of ``block_size``.
* zstd: a piece is at least twice the level's window (``codecs.zstd.frame_input_size``:
  4 MiB at the default level 3), rounded up to a multiple of ``block_size``; each frame
  records its content size and checksum.

Level 0 means bz2 level 1 and xz preset 0; zstd takes its own levels, 1-19. The bytes depend
on data, codec, level and ``block_size`` only, never on threads or window size.
"""

from __future__ import annotations

import bz2
import functools
import logging
import lzma
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any, BinaryIO

from ..pool import OrderedWindow
from ..progress import OutputProgress
from .stream_base import CompressedStreamWriter
from .zstd import MAX_LEVEL as ZSTD_MAX_LEVEL
from .zstd import MIN_LEVEL as ZSTD_MIN_LEVEL
from .zstd import FrameCompressors, frame_input_size

logger = logging.getLogger(__name__)

CODECS = ("bz2", "xz", "zst")
BZ2_BLOCK_UNIT = 100_000
#: LZMA dictionary size of each xz preset 0-9 (from xz's documentation)
XZ_DICTIONARY_SIZES = (
    256 * 1024,
    1 << 20,
    2 << 20,
    4 << 20,
    4 << 20,
    8 << 20,
    8 << 20,
    16 << 20,
    32 << 20,
    64 << 20,
)


def codec_level(codec: str, level: int) -> int:
    """The bz2 compresslevel (1-9) or xz preset (0-9) for an archive level 0-9; for zst,
    zstd's own level (1-19), as given."""
    level = int(level)
    if codec == "zst":
        if not ZSTD_MIN_LEVEL <= level <= ZSTD_MAX_LEVEL:
            raise ValueError(f"zstd level must be {ZSTD_MIN_LEVEL}-{ZSTD_MAX_LEVEL}, got {level}")
        return level
    if not 0 <= level <= 9:
        raise ValueError(f"compression level must be 0-9, got {level}")
    if codec == "bz2":
        return max(1, level)
    if codec == "xz":
        return level
    raise ValueError(f"unknown stream codec {codec!r}; expected one of {CODECS}")


def stream_piece_size(codec: str, level: int, block_size: int) -> int:
    """Input bytes per independent stream (see the module docstring)."""
    block_size = max(1, int(block_size))
    native = codec_level(codec, level)
    if codec == "bz2":
        unit = native * BZ2_BLOCK_UNIT
        return unit * max(1, round(block_size / unit))
    history = frame_input_size(native) if codec == "zst" else XZ_DICTIONARY_SIZES[native]
    return block_size * max(1, -(-history // block_size))


def _compress_bz2(level: int, piece: bytearray) -> bytes:
    stream = bz2.compress(piece, level)
    logger.debug("compressed a bz2 stream (%d -> %d bytes)", len(piece), len(stream))
    return stream


def _compress_xz(preset: int, piece: bytearray) -> bytes:
    stream = lzma.compress(piece, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64, preset=preset)
    logger.debug("compressed an xz stream (%d -> %d bytes)", len(piece), len(stream))
    return stream


def _stream_compressor(codec: str, native_level: int) -> Callable[[bytearray], bytes]:
    """What compresses one piece into one complete stream (in a worker) for ``codec`` at its
    own level; zstd's reuses finished compressors (``FrameCompressors``)."""
    if codec == "zst":
        return FrameCompressors(native_level).compress
    compress = _compress_bz2 if codec == "bz2" else _compress_xz
    return functools.partial(compress, native_level)


class ParallelStreamWriter(CompressedStreamWriter):
    """Write-only binary file-like producing concatenated bz2, xz or zstd streams on ``out``."""

    def __init__(
        self,
        out: BinaryIO,
        codec: str,
        level: int,
        block_size: int,
        executor: Executor | None,
        max_in_flight: int,
        progress: OutputProgress | None = None,
    ) -> None:
        super().__init__()
        self._out = out
        self._progress = progress or OutputProgress.unreported()
        self.codec = codec
        self._native_level = codec_level(codec, level)
        self.piece_size = stream_piece_size(codec, level, block_size)
        self._compress = _stream_compressor(codec, self._native_level)
        self._window: OrderedWindow[bytes] = OrderedWindow(executor, max_in_flight)
        self._buffer = bytearray()
        self._streams = 0
        self._output_size = 0

    @property
    def input_size(self) -> int:
        return self._position

    @property
    def output_size(self) -> int:
        return self._output_size

    @property
    def stream_count(self) -> int:
        """Streams written so far."""
        return self._streams

    @property
    def peak_in_flight(self) -> int:
        return self._window.peak_in_flight

    def _write(self, data: Any) -> None:
        view = memoryview(data).cast("B")
        piece_size = self.piece_size
        start = 0
        while start < len(view):
            take = min(len(view) - start, piece_size - len(self._buffer))
            self._buffer += view[start : start + take]
            start += take
            if len(self._buffer) >= piece_size:
                self._submit()
        for stream in self._window.ready():
            self._write_stream(stream)

    def _submit(self) -> None:
        piece, self._buffer = self._buffer, bytearray()  # handed over, never mutated again
        self._progress.cut()
        for stream in self._window.submit(self._compress, piece):
            self._write_stream(stream)

    def _write_stream(self, stream: bytes) -> None:
        self._out.write(stream)
        self._output_size += len(stream)
        self._streams += 1
        self._progress.written()

    def _finish(self) -> None:
        if self._buffer or self._position == 0:
            self._submit()
        for stream in self._window.drain():
            self._write_stream(stream)

    def _abort(self) -> None:
        self._buffer = bytearray()
        self._window.cancel()


__all__ = ["CODECS", "ParallelStreamWriter", "codec_level", "stream_piece_size"]
