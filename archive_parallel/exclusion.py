"""Exclusion patterns, matched against a member's name and its path relative to the source.

A pattern with ``*``, ``?`` or ``[`` is a glob matched against the file name and against the
relative path; a plain pattern matches the file name or any folder name of the relative path.
A plain pattern with a ``/`` (a trailing one aside) is, as in ``.gitignore``, a path from the
source folder: ``pkg/build`` is that one entry, not ``vendor/pkg/build``, and a leading ``/`` or
``./`` anchors a name there (``/build`` is the top-level ``build`` only). A folder that matches
is not entered, so what it holds is excluded with it.
Nothing about where the source folder itself lives can exclude a file (the old class matched
plain patterns as substrings of the absolute path; that is deliberately not repeated).
"""

from __future__ import annotations

import fnmatch
import functools
import posixpath
import re
from collections.abc import Sequence

_GLOB_CHARS = frozenset("*?[")


def is_glob(pattern: str) -> bool:
    return any(ch in _GLOB_CHARS for ch in pattern)


def anchored_path(pattern: str) -> str | None:
    """The relative path a plain pattern with a ``/`` before its end names (``/build`` ->
    ``build``, ``./a//b/`` -> ``a/b``), or None for a pattern without one (a name, matched at
    any depth). A path that leads out of the source folder (``../x``, ``/..``) names nothing:
    it is ``""``."""
    pattern = pattern.rstrip("/")
    if "/" not in pattern:
        return None
    path = posixpath.normpath(pattern.lstrip("/"))
    return "" if path in (".", "..") or path.startswith("../") else path


class Excluder:
    """Compiled patterns; ``excludes(relative_posix_path)`` answers for one entry."""

    def __init__(self, patterns: Sequence[str] | None) -> None:
        patterns = [p for p in (patterns or []) if p]
        plain = [(p, anchored_path(p)) for p in patterns if not is_glob(p)]
        # names matched at any depth, and paths from the source folder
        names = (p.rstrip("/") for p, path in plain if path is None)
        self._plain = frozenset(name for name in names if name)
        self._paths = frozenset(path for _, path in plain if path)
        globs = [p for p in patterns if is_glob(p)]
        self._glob = (
            re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in globs)) if globs else None
        )

    def __bool__(self) -> bool:
        return bool(self._plain or self._paths) or self._glob is not None

    def excludes(self, relative: str) -> bool:
        """Whether a walk leaves ``relative`` out: it, or one of the folders holding it,
        matches (the walk asks ``excludes_child`` folder by folder, and never enters a folder
        that matches, so ``logs/old/x.txt`` goes with ``logs/*`` and ``a.egg-info/PKG-INFO``
        with ``*.egg-info``)."""
        prefix = ""
        for name in relative.split("/"):
            prefix = f"{prefix}/{name}" if prefix else name
            if self.excludes_child(name, prefix):
                return True
        return False

    def excludes_child(self, name: str, relative: str) -> bool:
        """``excludes(relative)`` for an entry ``name`` whose folders were not excluded (a
        walk never enters an excluded folder): only its own name can match a plain pattern,
        only its own path a path pattern."""
        return (
            name in self._plain
            or (bool(self._paths) and relative in self._paths)
            or self._glob_excludes(name, relative)
        )

    def _glob_excludes(self, name: str, relative: str) -> bool:
        glob = self._glob
        return glob is not None and bool(glob.match(name) or glob.match(relative))


@functools.lru_cache(maxsize=64)
def excluder_for(patterns: tuple[str, ...]) -> Excluder:
    return Excluder(patterns)
