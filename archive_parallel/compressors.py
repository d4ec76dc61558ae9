"""Choosing the compressed sink a tar stream is written into, per format.

tar.gz goes through the pigz-style ``ParallelGzipWriter`` (one standard gzip member), tar.bz2,
tar.xz and tar.zst through ``ParallelStreamWriter`` (concatenated streams, or zstd frames),
plain tar straight to the file. With ``executor=None`` the same writers run inline, so the
sequential path produces the same bytes. Every sink has ``write``, ``finish`` (ends the
stream, leaves the file open), ``abort``, ``peak_in_flight`` and ``index`` (tar.gz restart
segments, else None). The compressed sinks report progress as their blocks reach the file
(``progress.OutputProgress``); plain tar writes what it is given at once, so it reports
bytes as they are fed.
"""

from __future__ import annotations

from concurrent.futures import Executor
from typing import BinaryIO, Protocol

from .codecs.gzip_index import GzipIndex
from .codecs.gzip_writer import ParallelGzipWriter
from .codecs.multistream import ParallelStreamWriter
from .codecs.zstd import effective_level, zstd_module
from .config import ArchiveConfig
from .formats import CompressionFormat
from .progress import OutputProgress


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


#: a small tar.gz is cut into at least this many blocks, so that several workers share it
MIN_BLOCKS = 4
MIN_BLOCK_SIZE = 64 * 1024


def gzip_block_size(config: ArchiveConfig, input_bytes: int | None) -> int:
    """The deflate block size for a tar stream of about ``input_bytes``: ``block_size``, or
    less for a small input (a quarter of it, in 64 KiB steps, at least 64 KiB), so that a
    1 MB package is not one block compressed by one worker. It depends on the input's size
    and the config only, never on threads, so the bytes still do not either."""
    block = int(config.block_size)
    if input_bytes is None:
        return block
    quarter = -(-int(input_bytes) // MIN_BLOCKS)
    quarter = -(-quarter // MIN_BLOCK_SIZE) * MIN_BLOCK_SIZE
    return max(MIN_BLOCK_SIZE, min(block, quarter))


def open_sink(
    out: BinaryIO,
    fmt: CompressionFormat,
    config: ArchiveConfig,
    executor: Executor | None,
    input_bytes: int | None = None,
    progress: OutputProgress | None = None,
) -> CompressedSink:
    """The sink for ``fmt``; ``input_bytes`` (the files' total size, when known) lets a small
    tar.gz use smaller blocks (``gzip_block_size``); ``progress`` hears of the blocks written,
    or is told to report bytes as they are fed (plain tar)."""
    level = config.compression_level
    in_flight = config.blocks_in_flight
    if progress is not None and fmt is CompressionFormat.TAR:
        progress.immediate = True
    if fmt is CompressionFormat.TAR:
        return _PassThrough(out)
    if fmt is CompressionFormat.TAR_GZ:
        block = gzip_block_size(config, input_bytes)
        interval = int(config.gzip_restart_interval)
        return ParallelGzipWriter(
            out,
            level,
            block,
            executor,
            in_flight,
            backend=config.compression_backend,
            mtime=0,
            restart_every=-(-interval // block) if interval else 0,
            progress=progress,
        )
    if fmt is CompressionFormat.TAR_ZST:
        zstd_module()  # CodecUnavailableError now, before a byte is written, not in a worker
        zstd_level = effective_level(config.compression_level, config.zstd_level)
        return ParallelStreamWriter(
            out, "zst", zstd_level, config.block_size, executor, in_flight, progress
        )
    if fmt in (CompressionFormat.TAR_BZ2, CompressionFormat.TAR_XZ):
        codec = "bz2" if fmt is CompressionFormat.TAR_BZ2 else "xz"
        return ParallelStreamWriter(
            out, codec, level, config.block_size, executor, in_flight, progress
        )
    raise ValueError(f"{fmt} has no tar sink")
