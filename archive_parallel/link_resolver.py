"""Where the symlinks of one tree lead, each link resolved once.

``os.path.realpath`` resolves every link it meets from scratch and recurses once per link, so
checking many links of one tree costs links x chain length x target length system calls (a
target may be padded with ``a/../`` to 4 KB, and every link may name the previous one), and a
chain longer than Python's recursion limit is a ``RecursionError``. ``LinkResolver`` answers
what ``realpath`` answers (non-strict: a missing part is kept as it is, a link met again
while it is being resolved, a loop, is kept unresolved) for a tree that does not change
meanwhile, remembering for each link where it led and through how many links. A path that
needs more than ``MAX_HOPS`` links, counted as the system counts them when it opens a path
(it gives up past 40), raises ``TooManyLinks``: the system could not follow it either.
Links are read from the disk (``read_disk_link``), or from any ``read_link`` function given:
a tree of links that exists only as a mapping (an archive's members, before extraction) is
resolved just as it would be once on disk.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable

#: links one path may go through, as Linux and macOS allow when opening it
MAX_HOPS = 40


class TooManyLinks(Exception):
    """Resolving a path went through more than ``MAX_HOPS`` symlinks."""


def read_disk_link(path: str, dir_fd: int | None = None) -> str | None:
    """Where the symlink ``path`` (relative to ``dir_fd`` when given) leads; None when it is
    not a symlink, is missing or cannot be read (taken as it is, as ``realpath`` does)."""
    try:
        if stat.S_ISLNK(os.lstat(path, dir_fd=dir_fd).st_mode):
            return os.readlink(path, dir_fd=dir_fd)
    except OSError:
        pass
    return None


class LinkResolver:
    """``resolve(path)`` for many paths of a tree that does not change meanwhile, its links
    read by ``read_link`` (a path -> its target, or None when the path is not a link)."""

    def __init__(self, read_link: Callable[[str], str | None] = read_disk_link) -> None:
        self._read_link = read_link
        #: link path -> (where it leads, links followed to get there, itself included)
        self._known: dict[str, tuple[str, int]] = {}
        #: paths met that are not links (or do not exist): looked up once each
        self._plain: set[str] = set()
        self._resolving: set[str] = set()

    def resolve(self, path: str) -> str:
        """The real path of ``path`` (absolute), as ``os.path.realpath`` gives it."""
        # made absolute without normalising: ".." must apply to where a link leads
        absolute = path if os.path.isabs(path) else os.path.join(os.getcwd(), path)
        real, _ = self._join(os.sep, absolute)
        return real

    def _join(self, real: str, rest: str) -> tuple[str, int]:
        """``rest`` resolved from the already real folder ``real``; and the links it took."""
        hops = 0
        if os.path.isabs(rest):
            real = os.sep
        for name in rest.split(os.sep):
            if not name or name == os.curdir:
                continue
            if name == os.pardir:
                real = real.rsplit(os.sep, 1)[0] or os.sep
                continue
            # ``real`` is absolute and normal: plain string work, not posixpath's (this loop
            # runs for every part of every link's target)
            candidate = real + name if real == os.sep else real + os.sep + name
            if candidate in self._plain:
                real = candidate
                continue
            known = self._known.get(candidate)
            if known is None and candidate not in self._resolving:
                known = self._follow(real, candidate)
            if known is None:  # not a link, missing, or a loop: the name as it is
                real = candidate
                continue
            real, hops = known[0], hops + known[1]
            if hops > MAX_HOPS:
                raise TooManyLinks(candidate)
        return real, hops

    def _follow(self, folder: str, candidate: str) -> tuple[str, int] | None:
        """Where the link ``candidate`` (in the real folder ``folder``) leads, remembered;
        None when it is not a link."""
        target = self._read_link(candidate)
        if target is None:
            self._plain.add(candidate)
            return None
        if len(self._resolving) >= MAX_HOPS:  # links inside links, deeper than any path may go
            raise TooManyLinks(candidate)
        self._resolving.add(candidate)
        try:
            resolved, hops = self._join(folder, target)
        finally:
            self._resolving.discard(candidate)
        known = (resolved, hops + 1)
        if known[1] > MAX_HOPS:
            raise TooManyLinks(candidate)
        self._known[candidate] = known
        return known


__all__ = ["MAX_HOPS", "LinkResolver", "TooManyLinks", "read_disk_link"]
