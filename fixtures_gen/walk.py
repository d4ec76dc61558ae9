"""Walking a tree on disk: one ``os.scandir`` per folder, no link following, NFC relative paths.

Shared by ``verify`` (compare with a manifest), the reuse check in ``generate`` and ``describe``.
Names are normalised to NFC so a tree copied through a file system that decomposes names (HFS+)
still matches its manifest.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class WalkedEntry:
    path: str  # relative, "/"-separated, NFC
    kind: str  # "file", "dir", "symlink" or "other"
    size: int
    full_path: str
    target: str | None = None


def walk_tree(root: str | os.PathLike[str]) -> list[WalkedEntry]:
    """Every entry under ``root`` (not ``root`` itself), folders before their contents."""
    entries: list[WalkedEntry] = []
    stack: list[tuple[str, str]] = [(os.fspath(root), "")]
    while stack:
        folder, prefix = stack.pop()
        with os.scandir(folder) as iterator:
            children = sorted(iterator, key=lambda item: item.name)
        for child in children:
            relative = prefix + unicodedata.normalize("NFC", child.name)
            if child.is_symlink():
                entries.append(
                    WalkedEntry(relative, "symlink", 0, child.path, os.readlink(child.path))
                )
            elif child.is_dir(follow_symlinks=False):
                entries.append(WalkedEntry(relative, "dir", 0, child.path))
                stack.append((child.path, relative + "/"))
            elif child.is_file(follow_symlinks=False):
                size = child.stat(follow_symlinks=False).st_size
                entries.append(WalkedEntry(relative, "file", size, child.path))
            else:
                entries.append(WalkedEntry(relative, "other", 0, child.path))
    return entries
