"""The archive file itself, before any format is read: it must exist, be a file and hold bytes."""

from __future__ import annotations

import os
import stat

from ..errors import ArchiveError, CorruptArchiveError

#: what a path that is not a regular file is, for a message (anything else: "special file")
_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def archive_stat(archive_path: str | os.PathLike[str]) -> os.stat_result:
    """The archive's ``stat`` (through links); ``ArchiveError`` when it is missing."""
    name = os.fspath(archive_path)
    try:
        return os.stat(name)
    except FileNotFoundError:
        raise ArchiveError(f"archive not found: {name}") from None
    except OSError as exc:
        raise ArchiveError(f"cannot read archive {name}: {exc.strerror}") from exc


def not_a_file(info: os.stat_result) -> str:
    """What an archive path is when it is not a regular file ("a folder", "a FIFO (named
    pipe)"...), else ``""``. Such a path is never opened: a FIFO would wait for a writer,
    a device might never end."""
    if stat.S_ISREG(info.st_mode):
        return ""
    return next((kind for test, kind in _KINDS if test(info.st_mode)), "a special file")


def require_archive_file(archive_path: str | os.PathLike[str]) -> os.stat_result:
    """The archive's ``stat``; ``ArchiveError`` when missing, ``CorruptArchiveError`` for a
    folder or anything else that is not a regular file."""
    info = archive_stat(archive_path)
    if kind := not_a_file(info):
        raise CorruptArchiveError(f"{os.fspath(archive_path)} is {kind}, not an archive")
    return info


def archive_size_of(archive_path: str) -> int:
    """The archive's size (``require_archive_file``); ``CorruptArchiveError`` when empty."""
    info = require_archive_file(archive_path)
    if info.st_size == 0:
        raise CorruptArchiveError(f"{archive_path} is empty (zero bytes)")
    return info.st_size
