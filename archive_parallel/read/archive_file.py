"""The archive file itself, before any format is read: it must exist, be a file and hold bytes."""

from __future__ import annotations

import os
import stat

from ..errors import ArchiveError, CorruptArchiveError


def archive_size_of(archive_path: str) -> int:
    """The archive's size; ``ArchiveError`` when missing, ``CorruptArchiveError`` for a folder."""
    try:
        info = os.stat(archive_path)
    except FileNotFoundError:
        raise ArchiveError(f"archive not found: {archive_path}") from None
    except OSError as exc:
        raise ArchiveError(f"cannot read archive {archive_path}: {exc.strerror}") from exc
    if stat.S_ISDIR(info.st_mode):
        raise CorruptArchiveError(f"{archive_path} is a folder, not an archive")
    if info.st_size == 0:
        raise CorruptArchiveError(f"{archive_path} is empty (zero bytes)")
    return info.st_size
