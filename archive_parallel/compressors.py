"""Choosing the compressed sink a tar stream is written into, per format.

Every sink has ``write(data)``, ``finish()`` (ends the compressed stream without closing the
underlying file), ``abort()`` (stops in-flight work after an error) and ``peak_in_flight``.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
from concurrent.futures import Executor
from typing import BinaryIO, Protocol

from .config import ArchiveConfig
from .formats import CompressionFormat


class CompressedSink(Protocol):
    peak_in_flight: int

    def write(self, data: bytes, /) -> object: ...

    def finish(self) -> None: ...

    def abort(self) -> None: ...


class _PassThrough:
    """Plain tar: bytes go straight to the file."""

    peak_in_flight = 0

    def __init__(self, out: BinaryIO) -> None:
        self._out = out

    def write(self, data: bytes) -> int:
        return self._out.write(data)

    def finish(self) -> None:
        pass

    def abort(self) -> None:
        pass


class _StdlibSink:
    peak_in_flight = 0

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, data: bytes) -> int:
        return self._stream.write(data)

    def finish(self) -> None:
        self._stream.close()

    def abort(self) -> None:
        pass


def open_sink(
    out: BinaryIO, fmt: CompressionFormat, config: ArchiveConfig, executor: Executor | None
) -> CompressedSink:
    level = config.compression_level
    if fmt is CompressionFormat.TAR:
        return _PassThrough(out)
    if fmt is CompressionFormat.TAR_GZ:
        return _StdlibSink(gzip.GzipFile(fileobj=out, mode="wb", compresslevel=level, mtime=0))
    if fmt is CompressionFormat.TAR_BZ2:
        return _StdlibSink(bz2.BZ2File(out, "wb", compresslevel=max(1, level)))
    if fmt is CompressionFormat.TAR_XZ:
        return _StdlibSink(lzma.LZMAFile(out, "wb", preset=level))
    raise ValueError(f"{fmt} has no tar sink")
