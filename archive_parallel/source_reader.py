"""Reading source files for archiving: small files in parallel batches, large ones streamed.

Small files (up to ``SMALL_FILE_LIMIT``) are read whole by worker threads, a batch of
``parallel_batch_size`` files (about ``BATCH_BYTE_LIMIT`` bytes at most) per task, and hashed
there (SHA-256) from the same buffer that will be compressed, so each byte is read once.
Batches of tiny files are read by the caller instead (see ``INLINE_MEAN_FILE_SIZE``). A
consumer that compresses each file on its own (zip) takes them unread instead
(``unread_contents``, ``PendingFile``) and reads them in the task that compresses them. Large
files are streamed by the consumer in ``CHUNK_SIZE`` pieces, hashed as they go. Either way a
file whose size differs from the size its ``stat`` gave (it grew, shrank or vanished while
being archived) raises ``SourceChangedError``: an archive never silently holds a truncated or
padded file. So does a file that is no longer the one the walk saw (``open_source``): opened
without blocking (a FIFO put in its place cannot hang the call), it must still be a regular
file with the walk's device and inode, so a file swapped for a link to another file is never
archived under its name. And so does a file written to in place, even at the same size: once
it has been read, the open descriptor's ``fstat`` must still give the walk's size, mtime and
ctime (``check_unchanged``, as GNU tar's "file changed as we read it"), so a member is never
a mix of old and new blocks. Reading changes only the atime, which leaves the ctime alone.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TypeVar

from .descriptors import open_fd
from .entries import EntryKind, FileEntry
from .errors import ArchiveError, SourceChangedError
from .interrupts import checkpoint
from .pool import OrderedWindow, batched

logger = logging.getLogger(__name__)

#: files up to this size are loaded whole by workers (a zip member of this size is then
#: compressed as one task); larger ones are streamed. Memory in flight stays below about
#: ``batches in flight x (BATCH_BYTE_LIMIT + SMALL_FILE_LIMIT)``.
SMALL_FILE_LIMIT = 2 * 1024 * 1024
CHUNK_SIZE = 1024 * 1024
#: a batch stops growing past this many bytes so memory stays bounded
BATCH_BYTE_LIMIT = 4 * 1024 * 1024

C = TypeVar("C")

_READ_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
#: a regular file reads the same with O_NONBLOCK; a FIFO opens at once instead of waiting
_SOURCE_FLAGS = _READ_FLAGS | getattr(os, "O_NONBLOCK", 0)


def open_source(entry: FileEntry) -> int:
    """A descriptor of ``entry``'s file for reading, checked to be the file the walk saw:
    still a regular file, with the same device and inode (when the walk recorded them).
    Otherwise ``SourceChangedError``; a file gone is ``SourceChangedError`` too."""
    try:
        fd = open_fd(entry.path, _SOURCE_FLAGS)
    except FileNotFoundError as exc:
        raise SourceChangedError(f"{entry.name}: file vanished while being archived") from exc
    except OSError as exc:
        raise ArchiveError(f"cannot read {entry.path}: {exc.strerror or exc}") from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise SourceChangedError(
                f"{entry.name}: replaced by something that is not a regular file "
                "while being archived"
            )
        if entry.ino and (st.st_dev, st.st_ino) != (entry.dev, entry.ino):
            raise SourceChangedError(
                f"{entry.name}: replaced by another file (or a link to one) while being archived"
            )
    except BaseException:
        os.close(fd)
        raise
    return fd


def check_unchanged(after: os.stat_result, entry: FileEntry) -> None:
    """``SourceChangedError`` unless ``after`` (the ``fstat`` of ``entry``'s open file, taken
    once it has been read) still has the size, mtime and ctime the walk saw: anything that
    wrote to the file (or changed its inode: mode, owner, links) since the walk moves its
    ctime. A time of 0 in ``entry`` is unknown and not compared."""
    if (
        after.st_size != entry.size
        or (entry.mtime_ns and after.st_mtime_ns != entry.mtime_ns)
        or (entry.ctime_ns and after.st_ctime_ns != entry.ctime_ns)
    ):
        raise SourceChangedError(
            f"{entry.name}: file changed while being archived "
            "(written to, or its inode changed, after the walk saw it)"
        )


class StreamedFile:
    """A large file read chunk by chunk; ``sha256`` is known once ``chunks()`` is exhausted."""

    def __init__(self, entry: FileEntry, chunk_size: int = CHUNK_SIZE) -> None:
        self.entry = entry
        self.chunk_size = chunk_size
        self.sha256: str | None = None
        #: called with each chunk's length once the consumer asks for the next one (progress)
        self.on_chunk: Callable[[int], None] | None = None

    def chunks(self) -> Iterator[bytes]:
        entry = self.entry
        digest = hashlib.sha256()
        remaining = entry.size
        fd = open_source(entry)
        try:
            with open(fd, "rb") as handle:
                while remaining > 0:
                    chunk = handle.read(min(self.chunk_size, remaining))
                    if not chunk:
                        raise SourceChangedError(
                            f"{entry.name}: file shrank while being archived "
                            f"({entry.size - remaining} of {entry.size} bytes read)"
                        )
                    remaining -= len(chunk)
                    digest.update(chunk)
                    yield chunk
                    if self.on_chunk is not None:
                        self.on_chunk(len(chunk))
                if handle.read(1):
                    raise SourceChangedError(
                        f"{entry.name}: file grew while being archived (beyond {entry.size} bytes)"
                    )
                after = os.fstat(handle.fileno())
        except FileNotFoundError as exc:
            raise SourceChangedError(f"{entry.name}: file vanished while being archived") from exc
        except OSError as exc:
            raise ArchiveError(f"cannot read {entry.path}: {exc.strerror or exc}") from exc
        check_unchanged(after, entry)
        self.sha256 = digest.hexdigest()


@dataclass(slots=True)
class LoadedFile:
    """A small file's whole content and its SHA-256."""

    data: bytes
    sha256: str


@dataclass(frozen=True, slots=True)
class PendingFile:
    """A small file not read yet: the worker that compresses it reads and hashes it
    (``load``), so reading, hashing and compressing are one task and one handoff."""

    entry: FileEntry

    def load(self) -> LoadedFile:
        return read_small_file(self.entry)


Content = LoadedFile | StreamedFile | None


def read_small_file(entry: FileEntry) -> LoadedFile:
    """Read a whole (small) file, checking that it did not change (``check_unchanged``)."""
    fd = open_source(entry)
    try:
        try:
            data = os.read(fd, entry.size + 1)  # a regular file reads short only at its end
            after = os.fstat(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise ArchiveError(f"cannot read {entry.path}: {exc.strerror or exc}") from exc
    if len(data) != entry.size:
        change = "grew" if len(data) > entry.size else "shrank"
        raise SourceChangedError(
            f"{entry.name}: file {change} while being archived "
            f"(stat said {entry.size} bytes, read {len(data)})"
        )
    check_unchanged(after, entry)
    return LoadedFile(data, hashlib.sha256(data).hexdigest())


def _load_batch(batch: list[FileEntry]) -> list[tuple[FileEntry, Content]]:
    out: list[tuple[FileEntry, Content]] = []
    for entry in batch:
        if entry.kind is EntryKind.FILE and entry.size <= SMALL_FILE_LIMIT:
            out.append((entry, read_small_file(entry)))
        elif entry.kind is EntryKind.FILE:
            out.append((entry, StreamedFile(entry)))
        else:
            out.append((entry, None))
    return out


def _load_weight(entry: FileEntry) -> int:
    """Bytes a batch holds for ``entry``; a large (streamed) file ends its batch."""
    if entry.kind is not EntryKind.FILE:
        return 0
    return entry.size if entry.size <= SMALL_FILE_LIMIT else BATCH_BYTE_LIMIT


def iter_contents(
    entries: Iterable[FileEntry],
    executor: Executor | None,
    batch_size: int,
    batches_in_flight: int,
) -> Iterator[tuple[FileEntry, Content]]:
    """``(entry, content)`` in entry order: LoadedFile for small files, StreamedFile for large
    ones (to be consumed before the next item is asked for), None for folders and links."""
    window: OrderedWindow[list[tuple[FileEntry, Content]]] = OrderedWindow(
        executor, batches_in_flight
    )
    try:
        for batch in batched(entries, batch_size, _load_weight, BATCH_BYTE_LIMIT):
            size = sum(e.size for e in batch)
            for loaded in window.submit_batch(size, len(batch), _load_batch, batch):
                yield from loaded
        for loaded in window.drain():
            yield from loaded
    finally:
        window.cancel()


def unread_contents(
    entries: Iterable[FileEntry],
) -> Iterator[tuple[FileEntry, PendingFile | StreamedFile | None]]:
    """``(entry, content)`` in entry order with nothing read yet: PendingFile for small
    files (their consumer reads them where it compresses them), StreamedFile for large ones,
    None for folders and links."""
    for entry in entries:
        if entry.kind is not EntryKind.FILE:
            yield entry, None
        elif entry.size <= SMALL_FILE_LIMIT:
            yield entry, PendingFile(entry)
        else:
            yield entry, StreamedFile(entry)


def with_progress(
    items: Iterable[tuple[FileEntry, C]], add: Callable[[int], None]
) -> Iterator[tuple[FileEntry, C]]:
    """Pass items through, reporting content bytes to ``add`` once their consumer has taken
    them: a streamed file chunk by chunk as it asks for the next chunk, a loaded or pending
    file as it asks for the next item."""
    for entry, content in items:
        if isinstance(content, StreamedFile):
            content.on_chunk = add
            yield entry, content
        else:
            yield entry, content
            if entry.kind is EntryKind.FILE:
                add(entry.size)


class NotRegularFileError(OSError):
    """A path to be read as a file is a folder, a FIFO, a device or a socket."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__(errno.EINVAL, "not a regular file", os.fspath(path))


def read_chunks(path: str | os.PathLike[str], chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """A regular file's bytes in chunks of up to ``chunk_size``, read with ``os.read``.

    Anything else is ``NotRegularFileError`` without a byte read: opened without blocking, a
    FIFO cannot make the call wait for a writer, and a device such as ``/dev/zero``, which
    never ends, is not read (a worker thread stuck in either would outlive Ctrl-C). No
    buffered file object is built, and a short read is taken as the file's end, so a file
    smaller than a chunk costs open, fstat, one read and close: for many tiny files that is
    most of the cost of hashing them."""
    fd = open_fd(path, _SOURCE_FLAGS)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegularFileError(path)
        while True:
            checkpoint()
            chunk = os.read(fd, chunk_size)
            if not chunk:
                return
            yield chunk
            if len(chunk) < chunk_size:
                return
    finally:
        os.close(fd)


def file_sha256(path: str | os.PathLike[str], chunk_size: int = CHUNK_SIZE) -> str:
    """SHA-256 of a file, read in large chunks."""
    digest = hashlib.sha256()
    for chunk in read_chunks(path, chunk_size):
        digest.update(chunk)
    return digest.hexdigest()


def file_digests_sized(
    path: str | os.PathLike[str], chunk_size: int = CHUNK_SIZE
) -> tuple[str, str, int]:
    """``(sha256_hex, md5_hex, bytes read)`` of a file, read once in large chunks."""
    sha = hashlib.sha256()
    md5 = hashlib.md5(usedforsecurity=False)
    size = 0
    for chunk in read_chunks(path, chunk_size):
        sha.update(chunk)
        md5.update(chunk)
        size += len(chunk)
    return sha.hexdigest(), md5.hexdigest(), size


def file_digests(path: str | os.PathLike[str], chunk_size: int = CHUNK_SIZE) -> tuple[str, str]:
    """``(sha256_hex, md5_hex)`` of a file, read once in large chunks."""
    sha, md5, _ = file_digests_sized(path, chunk_size)
    return sha, md5


__all__ = [
    "BATCH_BYTE_LIMIT",
    "CHUNK_SIZE",
    "Content",
    "LoadedFile",
    "NotRegularFileError",
    "PendingFile",
    "SMALL_FILE_LIMIT",
    "StreamedFile",
    "batched",
    "check_unchanged",
    "file_digests",
    "file_digests_sized",
    "file_sha256",
    "iter_contents",
    "read_chunks",
    "read_small_file",
    "unread_contents",
    "with_progress",
]
