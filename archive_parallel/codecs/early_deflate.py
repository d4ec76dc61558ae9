"""Deflating a zip's large files while the tree is still being walked.

Creation walks the whole tree before it writes anything (every name is screened first), and
the walk is interpreter work on one core while the others wait. ``EarlyDeflate`` gives them
work: each regular file the walk finds of at least ``EARLY_MIN_BYTES`` (and read whole, so
at most ``SMALL_FILE_LIMIT``) goes to the pool at once, to be read, hashed and deflated
exactly as a batch would do it (``zip_writer.member_data``), until ``EARLY_BUDGET_BYTES``
of files are in hand. The pool's queue is first come, first served, so these large files are
also done before the batches of small ones: none is left to keep one core busy alone at the
end, which is where most of the gain is. When the writer reaches such a file it ``claim``s
the task and puts it in its window in the file's place, so no worker ever waits for
another. Smaller files are left to their batches: taken ahead, they hold the first batches
back behind them.

Only the moment the work is done changes: the bytes are the batch's, a file that changed or
vanished raises the same error in its place, and a file screened out (or never reached, the
creation having failed) is dropped. ``close`` cancels what has not started and waits for
what has, however the creation ends, so no worker reads a source file after it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor, Future, wait

from ..entries import EntryKind, FileEntry
from ..source_reader import SMALL_FILE_LIMIT, PendingFile
from .zip_writer import MemberData, member_data

logger = logging.getLogger(__name__)

#: files smaller than this are left to their batches. On two cores, deflating files from 64 KiB
#: up ahead made a 400-file tree 4% slower (and the package tree 6% faster); from 512 KiB up,
#: no tree measured lost, the package tree gained 4% and a 50-file tree whose last file is
#: 1.2 MB 25% (that file no longer deflated alone at the end)
EARLY_MIN_BYTES = 512 * 1024
#: bytes of files deflated ahead at most: their results wait in memory for the writer
EARLY_BUDGET_BYTES = 8 * 1024 * 1024


def _deflate_early(entry: FileEntry, level: int, module: object) -> MemberData:
    """``entry``'s member data; runs in a worker."""
    return member_data(entry, PendingFile(entry), level, module)


class EarlyDeflate:
    """Deflates large enough files as the walk finds them (``offer``, in the walk's thread)
    until the writer claims each task (``claim``); see the module docstring.

    ``executor`` gives the pool, asked for once ``after_files`` regular files have been
    found (the count from which creation runs in parallel), so a tree too small for the
    pool never starts it."""

    def __init__(
        self,
        executor: Callable[[], Executor],
        level: int,
        module: object,
        after_files: int,
    ) -> None:
        self._executor = executor
        self._level = level
        self._module = module
        self._after_files = max(1, after_files)
        self._files = 0
        self._budget = EARLY_BUDGET_BYTES
        #: worth doing, found before the pool may start
        self._waiting: list[FileEntry] = []
        self._held: dict[str, tuple[FileEntry, Future[MemberData]]] = {}
        self._futures: list[Future[MemberData]] = []

    def __enter__(self) -> EarlyDeflate:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def offer(self, entry: FileEntry) -> None:
        """One entry the walk found: deflate it now if it is worth it and in budget."""
        if entry.kind is not EntryKind.FILE:
            return
        self._files += 1
        if EARLY_MIN_BYTES <= entry.size <= min(SMALL_FILE_LIMIT, self._budget):
            self._budget -= entry.size
            self._waiting.append(entry)
        if self._waiting and self._files >= self._after_files:
            executor = self._executor()
            for waiting in self._waiting:
                future = executor.submit(_deflate_early, waiting, self._level, self._module)
                self._held[waiting.path] = (waiting, future)
                self._futures.append(future)
            self._waiting.clear()

    def claim(self, entry: FileEntry) -> Future[MemberData] | None:
        """The task deflating ``entry`` if it was started while walking (its result is
        ``entry``'s member data, or the error met making it), None otherwise."""
        held = self._held.pop(entry.path, None)
        if held is None or held[0] != entry:
            return None
        return held[1]

    def close(self) -> None:
        """Cancel what has not started, wait for what has, drop every result."""
        futures, self._futures = self._futures, []
        self._held.clear()
        self._waiting.clear()
        started = [future for future in futures if not future.cancel()]
        wait(started)
        if futures:
            logger.debug(
                "%d of %d files were deflated while the tree was walked",
                len(started),
                len(futures),
            )


__all__ = ["EARLY_BUDGET_BYTES", "EARLY_MIN_BYTES", "EarlyDeflate"]
