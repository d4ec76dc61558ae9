"""The archive file itself, before any format is read: it must exist, be a file the caller may
read, and hold bytes.

A path that exists but cannot be read (permission denied, an I/O error, a folder on the way
that may not be searched) is the caller's problem, not damage: ``read_problem`` says so in one
line, "cannot read archive PATH: REASON", which extraction and listing raise as
``ArchiveError`` and verification gives as its reason for False, whether or not a side file
exists."""

from __future__ import annotations

import os
import stat

from ..descriptors import open_fd
from ..errors import ArchiveError, CorruptArchiveError

#: what a path that is not a regular file is, for a message (anything else: "special file")
_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)
#: the readability check's flags: it never waits (a path swapped for a FIFO since its
#: ``stat``), never takes a terminal as the controlling one, and is not inherited
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
_OPEN_FLAGS |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def read_failure(archive_path: str | os.PathLike[str], exc: OSError) -> ArchiveError:
    """The error for an archive that exists but cannot be read, naming it and the reason."""
    return ArchiveError(f"cannot read archive {os.fspath(archive_path)}: {exc.strerror or exc}")


def archive_stat(archive_path: str | os.PathLike[str]) -> os.stat_result:
    """The archive's ``stat`` (through links); ``ArchiveError`` when it is missing."""
    name = os.fspath(archive_path)
    try:
        return os.stat(name)
    except FileNotFoundError:
        raise ArchiveError(f"archive not found: {name}") from None
    except OSError as exc:
        raise read_failure(name, exc) from exc


def read_problem(archive_path: str | os.PathLike[str]) -> str:
    """Why the archive cannot be read, in one line ("cannot read archive PATH: Permission
    denied"), or ``""`` when it can: its ``stat`` works and, when it is a regular file, it
    opens for reading (what is not a regular file is ``not_a_file``'s to say, and is never
    opened). ``ArchiveError`` when it does not exist."""
    name = os.fspath(archive_path)
    try:
        if not not_a_file(os.stat(name)):
            os.close(open_fd(name, _OPEN_FLAGS))
    except FileNotFoundError:
        raise ArchiveError(f"archive not found: {name}") from None
    except OSError as exc:
        return str(read_failure(name, exc))
    return ""


def not_a_file(info: os.stat_result) -> str:
    """What an archive path is when it is not a regular file ("a folder", "a FIFO (named
    pipe)"...), else ``""``. Such a path is never opened: a FIFO would wait for a writer,
    a device might never end."""
    if stat.S_ISREG(info.st_mode):
        return ""
    return next((kind for test, kind in _KINDS if test(info.st_mode)), "a special file")


def require_archive_file(archive_path: str | os.PathLike[str]) -> os.stat_result:
    """The archive's ``stat``; ``ArchiveError`` when missing or unreadable
    (``read_problem``), ``CorruptArchiveError`` for a folder or anything else that is not a
    regular file."""
    info = archive_stat(archive_path)
    if kind := not_a_file(info):
        raise CorruptArchiveError(f"{os.fspath(archive_path)} is {kind}, not an archive")
    if problem := read_problem(archive_path):
        raise ArchiveError(problem)
    return info


def archive_size_of(archive_path: str) -> int:
    """The archive's size (``require_archive_file``); ``CorruptArchiveError`` when empty."""
    info = require_archive_file(archive_path)
    if info.st_size == 0:
        raise CorruptArchiveError(f"{archive_path} is empty (zero bytes)")
    return info.st_size
