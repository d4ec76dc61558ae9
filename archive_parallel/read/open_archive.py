"""``OpenArchive``: the archive opened once, and every read of one operation made through it.

An extraction or a verification hashes the archive (the side file's SHA-256) and reads its
members, often at the same time, in several threads. Were each of them to open the path
anew, another process that renames a new archive over the path, or writes into the file,
could give each a different file: the hash would then vouch for bytes that are not the ones
extracted. So the archive is opened once, and everything reads that one descriptor with
``os.pread`` (which takes an offset and leaves the file position alone, so any number of
threads read it at once): the hash (``sha256``), the zip and indexed gzip readers, and the
file objects ``reader`` makes for the stream decoders (each with its own position).

A rename over the path no longer matters once the file is open, but a write into the open
file still would: ``check_unchanged``, called once the last byte was read, compares the
file's ``fstat`` with the one taken as it was opened (size, mtime, ctime: a write moves
its mtime and ctime), as archiving does for its source files
(``source_reader.check_unchanged``).
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
from typing import Any, BinaryIO

from ..descriptors import OwnedDescriptor, open_fd
from ..errors import ArchiveError, CorruptArchiveError
from ..interrupts import checkpoint
from . import CHUNK_SIZE
from .archive_file import archive_stat, not_a_file, read_failure

#: never waits (a path swapped for a FIFO since its ``stat``), never takes a terminal as the
#: controlling one, not inherited by child processes
_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
_FLAGS |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


class OpenArchive(OwnedDescriptor):
    """The archive at ``path``, open for reading (``fd``) until ``close``; ``opened`` is its
    ``fstat`` as it was opened and ``size`` its size then. ``ArchiveError`` when it is
    missing or cannot be opened (naming it, as ``archive_file.read_failure`` does)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        try:
            self.fd = open_fd(self.path, _FLAGS)  # held at once: ``close`` closes it
            self.opened = os.fstat(self.fd)
        except FileNotFoundError:
            self.close()
            raise ArchiveError(f"archive not found: {self.path}") from None
        except OSError as exc:
            self.close()
            raise read_failure(self.path, exc) from exc
        except BaseException:
            self.close()
            raise

    @property
    def size(self) -> int:
        return self.opened.st_size

    def __enter__(self) -> OpenArchive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the descriptor (once). Call it only when no reader is left running. (An
        interrupt between ``open_archive``'s return and the caller's ``with`` drops the
        object unclosed: ``OwnedDescriptor.__del__`` closes it then.)"""
        self._close_now()

    def read_at(self, length: int, offset: int) -> bytes:
        """Up to ``length`` bytes at ``offset`` (fewer only at the end of the file)."""
        data = os.pread(self.fd, length, offset)
        if len(data) == length or not data:
            return data
        parts = [data]  # a very large read may come back in pieces
        got = len(data)
        while got < length and (more := os.pread(self.fd, length - got, offset + got)):
            parts.append(more)
            got += len(more)
        return b"".join(parts)

    def reader(self, owning: bool = False) -> BinaryIO:
        """A buffered file object over the archive with its own position, for a decoder
        that reads in order or seeks (``zipfile``, the gzip, bz2, xz and zstd readers).
        Closing it leaves the archive open, unless ``owning``: then it closes the archive
        too (a reader that is the archive's only user)."""
        return io.BufferedReader(_PreadFile(self, owning))  # type: ignore[return-value]

    def sha256(self, chunk_size: int = CHUNK_SIZE) -> str:
        """The SHA-256 of every byte of the file, read through ``fd`` (``OSError`` as
        reading fails)."""
        digest = hashlib.sha256()
        offset = 0
        while True:
            checkpoint()
            chunk = os.pread(self.fd, chunk_size, offset)
            if not chunk:
                return digest.hexdigest()
            digest.update(chunk)
            offset += len(chunk)

    def check_unchanged(self, doing: str) -> None:
        """``CorruptArchiveError`` naming the archive unless its ``fstat`` still has the
        size, mtime and ctime it had when opened (``doing``: "extracted", "verified").

        The ctime is not compared when the file's link count changed: renaming another file
        over the path (or deleting it) moves the ctime of the file it replaces, whose bytes,
        the ones read through the descriptor, stay as they were; a write moves the mtime."""
        now = os.fstat(self.fd)
        before = self.opened
        relinked = now.st_nlink != before.st_nlink
        if (
            now.st_size != before.st_size
            or now.st_mtime_ns != before.st_mtime_ns
            or (now.st_ctime_ns != before.st_ctime_ns and not relinked)
        ):
            raise CorruptArchiveError(
                f"{self.path}: archive changed while it was being {doing} "
                "(written to, or its inode changed, after it was opened)"
            )


def open_archive(archive_path: str | os.PathLike[str]) -> OpenArchive:
    """The archive to extract or verify, opened once (``OpenArchive``): ``ArchiveError``
    when it is missing or cannot be read, ``CorruptArchiveError`` when it is a folder or
    anything else that is not a regular file (never opened: a FIFO would wait for a writer),
    or empty. What was opened is checked again, in case the path changed in between."""
    if kind := not_a_file(archive_stat(archive_path)):
        raise CorruptArchiveError(f"{os.fspath(archive_path)} is {kind}, not an archive")
    archive = OpenArchive(archive_path)
    try:
        if kind := not_a_file(archive.opened):
            raise CorruptArchiveError(f"{archive.path} is {kind}, not an archive")
        if archive.size == 0:
            raise CorruptArchiveError(f"{archive.path} is empty (zero bytes)")
    except BaseException:
        archive.close()
        raise
    return archive


def borrow_or_open(archive: OpenArchive | str | os.PathLike[str]) -> tuple[OpenArchive, bool]:
    """``archive`` when it is already open, else the path opened (``OpenArchive``); and
    whether the caller opened it here, and so must close it."""
    if isinstance(archive, OpenArchive):
        return archive, False
    return OpenArchive(archive), True


class _PreadFile(io.RawIOBase):
    """A raw, seekable file object over an ``OpenArchive``, read with ``os.pread`` at its
    own position (so any number of them, and ``os.pread`` callers, share the descriptor).
    ``fileno`` is the archive's descriptor, for readers that ``pread`` it themselves
    (``zip_layout.archive_fd``); closing it leaves the descriptor open unless ``owning``."""

    def __init__(self, archive: OpenArchive, owning: bool = False) -> None:
        super().__init__()
        self._archive = archive
        self._owning = owning
        self._position = 0
        self.name = archive.path

    def close(self) -> None:
        try:
            if self._owning:
                self._archive.close()
        finally:
            super().close()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._archive.fd

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if _PREADV:
            count = os.preadv(self._archive.fd, [view], self._position)
        else:  # pragma: no cover - systems without preadv
            data = os.pread(self._archive.fd, len(view), self._position)
            count = len(data)
            view[:count] = data
        self._position += count
        return count

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_CUR:
            offset += self._position
        elif whence == os.SEEK_END:
            offset += os.fstat(self._archive.fd).st_size
        elif whence != os.SEEK_SET:
            raise ValueError(f"invalid whence ({whence})")
        if offset < 0:
            raise OSError(errno.EINVAL, "Invalid argument")  # as a file's seek says
        self._position = offset
        return offset

    def tell(self) -> int:
        return self._position


_PREADV = hasattr(os, "preadv")

__all__ = ["OpenArchive", "borrow_or_open", "open_archive"]
