"""One raw deflate stream compressed in parallel blocks, the way pigz does it.

Input is cut into ``block_size`` pieces by position (never by how ``write`` was called). Each
piece is compressed by a worker as raw deflate (wbits -15) primed with the previous piece's
last 32 KiB (``zdict``) and ended with ``Z_SYNC_FLUSH`` (byte-aligned, so pieces simply
concatenate); the final piece ends with ``Z_FINISH``. Every ``restart_every``-th piece (from the
first) is compressed without priming instead: a restart point where inflating can begin with
an empty window. The writer records, per restart segment, its compressed and uncompressed
offsets and CRC-32 (``segments``), which is what ``codecs.gzip_index`` needs to inflate the
segments of one ordinary deflate stream in parallel. The cost is 32 KiB of lost history per
segment, about 0.1% of size at 4 MiB segments. The worker also takes the piece's CRC-32, and
the writer joins those in order with ``crc32_combine``. Where a piece of a block does not
compress, the worker stores it rather than search it for matches (``incompressible``). Pieces
travel through an ``OrderedWindow``: at most ``max_in_flight`` are queued or running, and
finished ones are written to ``out`` in input order as soon as they are ready, each reported to
``progress`` as it is (``progress.OutputProgress``). The output bytes therefore depend on the
data, level, block size and backend only, never on threads or window size.
"""

from __future__ import annotations

import collections
import logging
import zlib
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import BinaryIO

from ..errors import ArchiveError
from ..pool import OrderedWindow
from ..progress import OutputProgress
from .backend import deflate_module
from .crc32 import crc32_combine
from .incompressible import deflate_runs

logger = logging.getLogger(__name__)

#: deflate's window: how much of the previous block primes the next one
DICTIONARY_SIZE = 32 * 1024
MIN_BLOCK_SIZE = DICTIONARY_SIZE

Buffer = bytes | bytearray | memoryview
BlockResult = tuple[bytes, int, int]  # (compressed, crc32 of input, input length)


@dataclass(slots=True)
class RestartSegment:
    """A run of blocks that inflates on its own: where it starts in the deflate output and in
    the input, and the CRC-32 and length of its input."""

    compressed_offset: int
    uncompressed_offset: int
    crc32: int = 0
    length: int = 0


def compress_block(
    module: object,
    level: int,
    block: Buffer,
    dictionary: Buffer | None,
    final: bool,
    number: int = 0,
) -> BlockResult:
    """Compress one block as raw deflate; runs in a worker (zlib and crc32 release the GIL).
    Pieces that do not compress are stored instead where the backend gains by it
    (``incompressible``). ``number``: the block's place in the stream, from 1, for the debug
    log."""
    compressed = deflate_runs(module, level, block, dictionary, final)
    logger.debug("deflated block %d (%d -> %d bytes)", number, len(block), len(compressed))
    return compressed, zlib.crc32(block), len(block)


class ParallelDeflater:
    """Writes one raw deflate stream to ``out``; see the module docstring."""

    def __init__(
        self,
        out: BinaryIO,
        level: int,
        block_size: int,
        executor: Executor | None,
        max_in_flight: int,
        backend: str = "zlib",
        restart_every: int = 0,
        progress: OutputProgress | None = None,
    ) -> None:
        """``restart_every``: blocks per restart segment (0: one primed stream, as pigz)."""
        if not 0 <= int(level) <= 9:
            raise ValueError(f"deflate level must be 0-9, got {level}")
        self._out = out
        self._level = int(level)
        self._block_size = max(MIN_BLOCK_SIZE, int(block_size))
        self._module = deflate_module(backend)
        self._window: OrderedWindow[BlockResult] = OrderedWindow(executor, max_in_flight)
        self._buffer = bytearray()
        self._dictionary: Buffer | None = None
        self._crc = 0
        self._input_size = 0
        self._output_size = 0
        self._finished = False
        self._aborted = False
        self._restart_every = max(0, int(restart_every))
        self._blocks_submitted = 0
        self._restarts: collections.deque[bool] = collections.deque()  # per pending block
        self._segments: list[RestartSegment] = []
        self._written_input = 0
        self._progress = progress or OutputProgress.unreported()

    # -- results -----------------------------------------------------------------------
    @property
    def crc32(self) -> int:
        """CRC-32 of all input whose block has been written so far (all of it after finish)."""
        return self._crc

    @property
    def input_size(self) -> int:
        """Bytes given to ``write`` so far."""
        return self._input_size

    @property
    def output_size(self) -> int:
        """Compressed bytes written to ``out`` so far."""
        return self._output_size

    @property
    def peak_in_flight(self) -> int:
        return self._window.peak_in_flight

    @property
    def segments(self) -> list[RestartSegment]:
        """The restart segments written so far (offsets relative to this deflate stream);
        empty when ``restart_every`` is 0."""
        return self._segments

    @property
    def finished(self) -> bool:
        return self._finished

    # -- writing -----------------------------------------------------------------------
    def write(self, data: Buffer) -> None:
        """Add input; every full block is handed to a worker.

        Whole blocks of an immutable ``bytes`` argument are passed to workers without a copy;
        anything else is copied once into a block buffer that no one mutates afterwards.
        """
        self._check_open()
        view = memoryview(data).cast("B")
        size = len(view)
        if not size:
            return
        self._input_size += size
        block_size = self._block_size
        start = 0
        if self._buffer:
            start = min(size, block_size - len(self._buffer))
            self._buffer += view[:start]
            if len(self._buffer) < block_size:
                return
            self._submit_buffer(final=False)
        if size - start >= block_size and isinstance(view.obj, bytes):
            while size - start >= block_size:
                self._submit(view[start : start + block_size], final=False)
                start += block_size
        while size - start >= block_size:
            self._buffer += view[start : start + block_size]
            start += block_size
            self._submit_buffer(final=False)
        if start < size:
            self._buffer += view[start:]
        self._write_ready()

    def finish(self) -> None:
        """Compress what is buffered as the final block and write every pending block."""
        self._check_open()
        self._submit_buffer(final=True)
        for result in self._window.drain():
            self._write_result(result)
        self._finished = True

    def abort(self) -> None:
        """Drop pending work: cancel what has not started, wait for what has."""
        self._aborted = True
        self._buffer = bytearray()
        self._window.cancel()

    # -- internals ---------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._finished:
            raise ArchiveError("deflate stream already finished")
        if self._aborted:
            raise ArchiveError("deflate stream was aborted")

    def _submit_buffer(self, final: bool) -> None:
        """Hand the buffer itself to a worker (no copy) and start a fresh one."""
        block, self._buffer = self._buffer, bytearray()
        self._submit(block, final)

    def _submit(self, block: Buffer, final: bool) -> None:
        restart = bool(self._restart_every) and self._blocks_submitted % self._restart_every == 0
        dictionary = None if restart else self._dictionary
        self._blocks_submitted += 1
        self._restarts.append(restart)
        self._progress.cut()
        try:
            ready = self._window.submit(
                compress_block,
                self._module,
                self._level,
                block,
                dictionary,
                final,
                self._blocks_submitted,
            )
        except BaseException:
            self.abort()
            raise
        if len(block) >= DICTIONARY_SIZE:
            self._dictionary = bytes(block[-DICTIONARY_SIZE:])
        elif len(block):
            previous = bytes(self._dictionary or b"")
            self._dictionary = (previous + bytes(block))[-DICTIONARY_SIZE:]
        for result in ready:
            self._write_result(result)

    def _write_ready(self) -> None:
        for result in self._window.ready():
            self._write_result(result)

    def _write_result(self, result: BlockResult) -> None:
        compressed, crc, length = result
        if self._restarts.popleft():
            self._segments.append(RestartSegment(self._output_size, self._written_input))
        if self._segments:
            segment = self._segments[-1]
            segment.crc32 = crc32_combine(segment.crc32, crc, length)
            segment.length += length
        self._written_input += length
        self._out.write(compressed)
        self._output_size += len(compressed)
        self._crc = crc32_combine(self._crc, crc, length)
        self._progress.written()


__all__ = ["DICTIONARY_SIZE", "ParallelDeflater", "RestartSegment", "compress_block"]
