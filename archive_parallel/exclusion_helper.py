"""The old class's ``_should_exclude_file(path, patterns)``, answered as collection answers.

``_collect_files`` returns paths under the source folder as the caller gave it (absolute for an
absolute source), and old tests hand those paths back to ``_should_exclude_file`` without the
source. Where the source folder lives must never exclude a file (``exclusion``), so the helper
needs to know which part of such a path is the source: the caller's ``source_dir`` when given,
else the most recent source folder this manager walked that holds the path (``WalkedSources``).
An absolute path under none of them is matched on its name only; a relative path is taken as
relative to its source folder.
"""

from __future__ import annotations

import collections
import os
import threading
from collections.abc import Sequence

from .exclusion import excluder_for

#: source folders remembered per manager
REMEMBERED_SOURCES = 16


class WalkedSources:
    """The last ``REMEMBERED_SOURCES`` source folders a manager walked, most recent first, as
    absolute paths (not resolved: the paths a walk returns are built on the folder as given).
    Safe to use from many threads."""

    def __init__(self, size: int = REMEMBERED_SOURCES) -> None:
        self._sources: collections.deque[str] = collections.deque(maxlen=size)
        self._lock = threading.Lock()

    def add(self, source: str | os.PathLike[str]) -> None:
        folder = os.path.abspath(source)
        with self._lock:
            if self._sources and self._sources[0] == folder:
                return
            if folder in self._sources:
                self._sources.remove(folder)
            self._sources.appendleft(folder)

    def relative(self, path: str | os.PathLike[str]) -> str | None:
        """``path`` relative to the most recently walked source folder holding it, as a
        member name (``/``-separated), or None when no remembered folder holds it."""
        with self._lock:
            sources = list(self._sources)
        for folder in sources:
            name = member_name_under(path, folder)
            if name is not None:
                return name
        return None


def member_name_under(path: str | os.PathLike[str], source: str | os.PathLike[str]) -> str | None:
    """The member name ``path`` has under ``source`` (None when it is not below it)."""
    try:
        name = os.path.relpath(os.path.abspath(path), os.path.abspath(source))
    except ValueError:  # another drive (Windows)
        return None
    if name in (os.curdir, os.pardir) or name.startswith(os.pardir + os.sep):
        return None
    return name.replace(os.sep, "/")


def should_exclude(
    path: str | os.PathLike[str],
    patterns: Sequence[str] | None,
    source_dir: str | os.PathLike[str] | None = None,
    walked: WalkedSources | None = None,
) -> bool:
    """Whether collection leaves ``path`` out under ``patterns``: it, or a folder holding it
    below the source folder, matches (see the module's docstring for which folder that is)."""
    relative = None
    if source_dir is not None:
        relative = member_name_under(path, source_dir)
    if relative is None:
        if os.path.isabs(path):
            relative = walked.relative(path) if walked is not None else None
            if relative is None:
                relative = os.path.basename(os.path.normpath(path))
        else:
            relative = os.path.normpath(path).replace(os.sep, "/")
            if relative == os.curdir:
                return False
    return excluder_for(tuple(patterns or ())).excludes(relative)
