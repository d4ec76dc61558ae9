"""Choosing the compressed sink a tar stream is written into, per format.

tar.gz goes through the pigz-style ``ParallelGzipWriter`` (one standard gzip member), tar.bz2
and tar.xz through ``ParallelStreamWriter`` (concatenated streams), tar.zst through
``ZstdWriter`` (zstd's own worker threads, as many as the pool has), plain tar straight to the
file. With ``executor=None`` the same writers run inline, so the sequential path produces the
same bytes. Every sink has ``write``, ``finish`` (ends the stream, leaves the file open),
``abort``, ``peak_in_flight`` and ``index`` (tar.gz restart segments, else None).
"""

from __future__ import annotations

from concurrent.futures import Executor
from typing import BinaryIO, Protocol

from .codecs.gzip_index import GzipIndex
from .codecs.gzip_writer import ParallelGzipWriter
from .codecs.multistream import ParallelStreamWriter
from .codecs.zstd import ZstdWriter, effective_level
from .config import ArchiveConfig
from .formats import CompressionFormat


class CompressedSink(Protocol):
    @property
    def peak_in_flight(self) -> int: ...

    def write(self, data: bytes, /) -> object: ...

    def finish(self) -> None: ...

    def abort(self) -> None: ...

    def index(self) -> GzipIndex | None: ...


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

    def index(self) -> None:
        return None


def open_sink(
    out: BinaryIO, fmt: CompressionFormat, config: ArchiveConfig, executor: Executor | None
) -> CompressedSink:
    level = config.compression_level
    in_flight = config.blocks_in_flight
    if fmt is CompressionFormat.TAR:
        return _PassThrough(out)
    if fmt is CompressionFormat.TAR_GZ:
        return ParallelGzipWriter(
            out,
            level,
            config.block_size,
            executor,
            in_flight,
            backend=config.compression_backend,
            mtime=0,
            restart_every=config.gzip_restart_blocks,
        )
    if fmt is CompressionFormat.TAR_ZST:
        workers = config.thread_pool_size if executor is not None else 1
        level = effective_level(config.compression_level, config.zstd_level)
        return ZstdWriter(out, level, workers, config.block_size)
    if fmt in (CompressionFormat.TAR_BZ2, CompressionFormat.TAR_XZ):
        codec = "bz2" if fmt is CompressionFormat.TAR_BZ2 else "xz"
        return ParallelStreamWriter(out, codec, level, config.block_size, executor, in_flight)
    raise ValueError(f"{fmt} has no tar sink")
