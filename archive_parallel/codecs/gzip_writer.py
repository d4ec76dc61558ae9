"""One standard gzip member written from parallel deflate blocks.

The header is fixed (no name, the given mtime, OS byte 255 "unknown", XFL from the level), so
the same input gives the same bytes on every machine and with any thread count. The body is
a ``ParallelDeflater`` stream (with restart points every ``restart_every`` blocks when asked,
described by ``index()``) and the trailer holds the CRC-32 and the input size modulo
2^32, exactly as RFC 1952 says: ``gzip -t``, ``gzip -dc``, ``tar``, ``gzip`` and ``tarfile``
all read it as an ordinary single-member file.
"""

from __future__ import annotations

import logging
import struct
from concurrent.futures import Executor
from typing import Any, BinaryIO

from ..progress import OutputProgress
from .deflate_blocks import ParallelDeflater
from .gzip_index import GZIP_HEADER_SIZE, GzipIndex
from .stream_base import CompressedStreamWriter

logger = logging.getLogger(__name__)

GZIP_MAGIC = b"\x1f\x8b"
_DEFLATE_METHOD = 8
_OS_UNKNOWN = 255


def gzip_header(level: int, mtime: int = 0) -> bytes:
    """A 10-byte gzip member header with no optional fields."""
    xfl = 2 if level == 9 else 4 if level == 1 else 0
    return GZIP_MAGIC + struct.pack(
        "<BBIBB", _DEFLATE_METHOD, 0, int(mtime) & 0xFFFFFFFF, xfl, _OS_UNKNOWN
    )


class ParallelGzipWriter(CompressedStreamWriter):
    """Write-only binary file-like producing one gzip member on ``out``."""

    def __init__(
        self,
        out: BinaryIO,
        level: int,
        block_size: int,
        executor: Executor | None,
        max_in_flight: int,
        backend: str = "zlib",
        mtime: int = 0,
        restart_every: int = 0,
        progress: OutputProgress | None = None,
    ) -> None:
        super().__init__()
        self._out = out
        self._deflater = ParallelDeflater(
            out,
            level,
            block_size,
            executor,
            max_in_flight,
            backend=backend,
            restart_every=restart_every,
            progress=progress,
        )
        out.write(gzip_header(level, mtime))
        self._header_size = GZIP_HEADER_SIZE
        self._trailer_size = 0

    @property
    def input_size(self) -> int:
        return self._deflater.input_size

    @property
    def output_size(self) -> int:
        """Compressed bytes written so far, header and (after finish) trailer included."""
        return self._header_size + self._deflater.output_size + self._trailer_size

    @property
    def crc32(self) -> int:
        return self._deflater.crc32

    @property
    def peak_in_flight(self) -> int:
        return self._deflater.peak_in_flight

    def index(self) -> GzipIndex | None:
        """After ``finish``: where the restart segments are (for parallel reading), or None
        when there are fewer than two (``restart_every`` 0 or a short input)."""
        segments = self._deflater.segments
        if not self._trailer_size or len(segments) < 2:
            return None
        starts = [
            (self._header_size + s.compressed_offset, s.uncompressed_offset, s.crc32)
            for s in segments
        ]
        return GzipIndex.from_segments(starts, self.output_size, self.input_size)

    def _write(self, data: Any) -> None:
        self._deflater.write(data)

    def _finish(self) -> None:
        self._deflater.finish()
        trailer = struct.pack("<II", self._deflater.crc32, self._deflater.input_size & 0xFFFFFFFF)
        self._out.write(trailer)
        self._trailer_size = len(trailer)

    def _abort(self) -> None:
        self._deflater.abort()


__all__ = ["ParallelGzipWriter", "gzip_header"]
