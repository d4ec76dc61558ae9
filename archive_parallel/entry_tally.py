"""The entries of a walk, taken as they come and tallied on the way.

Creation compresses its first files while the walk is still going on (``walker.iter_tree``
yields each entry as soon as its folder is scanned). What the rest of a creation needs of the
whole walk (the names of the files, which the side file lists, their count and their total
size) is tallied as entries pass, and ``peek`` takes entries ahead without losing them, so the
caller can choose the parallel or the sequential path from the first files, a tar.gz can
know it has enough input for full-sized blocks, and a creation that needs the total up front
(a progress callback is told it) can take the whole walk first.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Iterator

from .entries import EntryKind, FileEntry


class EntryTally:
    """Iterate it once for every entry, in walk order. ``files`` (the names of files and
    links, not folders), ``file_count`` and ``total_bytes`` cover the entries taken so far;
    ``complete`` turns True once the walk has ended."""

    def __init__(self, entries: Iterable[FileEntry]) -> None:
        self._source = iter(entries)
        self._ahead: collections.deque[FileEntry] = collections.deque()
        self.files: list[str] = []
        self.total_bytes = 0
        self.complete = False

    @property
    def file_count(self) -> int:
        return len(self.files)

    def peek(self, files: int | None = None, total_bytes: int = 0) -> EntryTally:
        """Take entries ahead until ``files`` files and ``total_bytes`` bytes are tallied (every
        entry with ``files=None``) or the walk has ended; they still come first when the tally
        is iterated."""
        while not self.complete and (
            files is None or self.file_count < files or self.total_bytes < total_bytes
        ):
            entry = self._take()
            if entry is not None:
                self._ahead.append(entry)
        return self

    def __iter__(self) -> Iterator[FileEntry]:
        while self._ahead:
            yield self._ahead.popleft()
        while (entry := self._take()) is not None:
            yield entry

    def _take(self) -> FileEntry | None:
        entry = next(self._source, None)
        if entry is None:
            self.complete = True
            return None
        if entry.kind is not EntryKind.DIR:
            self.files.append(entry.name)
        self.total_bytes += entry.size
        return entry


__all__ = ["EntryTally"]
