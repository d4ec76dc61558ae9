"""The write-only file-like surface shared by the parallel compressed-stream writers.

A writer is handed to ``tarfile.open(fileobj=..., mode="w|")`` (or written to directly).
``close()``/``finish()`` completes the compressed stream but never closes the underlying
``out``: its owner (an atomic temporary file) decides that. Used as a context manager, an
exception inside the block aborts instead, cancelling queued work and waiting for running
work, so no worker is left holding buffers or writing after the caller has given up.
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any

from ..errors import ArchiveError

logger = logging.getLogger(__name__)


class CompressedStreamWriter:
    """Subclasses implement ``_write``, ``_finish`` and ``_abort``."""

    def __init__(self) -> None:
        self._position = 0
        self._closed = False

    # -- the file-like surface ----------------------------------------------------------
    def write(self, data: Any) -> int:
        if self._closed:
            raise ValueError("write to a closed compressed stream")
        size = memoryview(data).nbytes
        if size:
            try:
                self._write(data)
            except BaseException:
                self.abort()
                raise
            self._position += size
        return size

    def finish(self) -> None:
        """Write everything pending and the stream's trailer; ``out`` stays open."""
        if self._closed:
            return
        try:
            self._finish()
        except BaseException:
            self.abort()
            raise
        self._closed = True

    close = finish

    def abort(self) -> None:
        """Stop: cancel queued work, wait for running work; the output is incomplete."""
        if not self._closed:
            self._closed = True
            self._abort()

    def tell(self) -> int:
        """Uncompressed bytes written so far (``tarfile`` asks for it)."""
        return self._position

    def flush(self) -> None:
        """Nothing to do: blocks are written as they are ready."""

    def index(self) -> Any:
        """After ``finish``: where a reader may start inflating in parallel, when the format
        records it (``ParallelGzipWriter``); None here."""
        return None

    @property
    def closed(self) -> bool:
        return self._closed

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    def __enter__(self) -> CompressedStreamWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self.abort()
        else:
            self.finish()

    # -- for subclasses -----------------------------------------------------------------
    def _write(self, data: Any) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        raise NotImplementedError

    def _abort(self) -> None:
        raise NotImplementedError


__all__ = ["ArchiveError", "CompressedStreamWriter"]
