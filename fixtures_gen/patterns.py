"""Ignore patterns, matched exactly like ArchiveConfig.exclude_patterns.

A pattern containing ``*``, ``?`` or ``[`` is a glob matched against the entry's name and its
relative path; a plain pattern matches when it is the entry's name or one of its folder names
(``__pycache__`` ignores ``pkg/__pycache__/x.pyc``). Never a substring match.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence

_GLOB_CHARS = frozenset("*?[")


def is_ignored(relative_path: str, patterns: Sequence[str]) -> bool:
    if not patterns:
        return False
    parts = relative_path.split("/")
    name = parts[-1]
    for pattern in patterns:
        if _GLOB_CHARS.intersection(pattern):
            if fnmatch.fnmatchcase(name, pattern) or fnmatch.fnmatchcase(relative_path, pattern):
                return True
        elif pattern in parts:
            return True
    return False
