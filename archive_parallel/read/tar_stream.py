"""Reading a tar archive as one forward stream, with its end checked.

``TarStream`` opens the decompressed stream (``codecs.readers.open_decompressed``) and parses
members with ``tarfile`` in its ordinary ``r`` mode over a reader that can only seek forward
(skipping bytes): tarfile then reads headers and data straight from the stream's chunks. (Its
``r|`` stream mode re-joins its whole read buffer on every header read, which made parsing
the main cost of extracting a tar.gz.) Member data is read in order with ``extractfile``.
``finish()`` checks what ``tarfile`` does not: that the archive ended with its
end-of-archive block rather than being cut off at a member boundary, and it reads the rest of
the stream (padding, then the compressed format's own trailer and CRC) so damage there is
noticed too. Trailing data past ``MAX_TRAILING_BYTES`` is refused rather than inflated
without bound. Headers are parsed within ``tar_headers``' bounds (record sizes, chains,
sparse maps, header bytes per archive byte), and parsed members are not kept.
"""

from __future__ import annotations

import collections
import io
import logging
import os
import tarfile
from collections.abc import Iterator
from concurrent.futures import Executor
from typing import Any, BinaryIO

from ..codecs.gzip_index import GzipIndex
from ..codecs.readers import open_decompressed
from ..errors import CorruptArchiveError
from ..formats import CompressionFormat
from .open_archive import OpenArchive, borrow_or_open
from .tar_headers import BoundedTarInfo, HeaderGuard, HeaderLimits

logger = logging.getLogger(__name__)

MAX_TRAILING_BYTES = 16 * 1024 * 1024
_DRAIN_CHUNK = 1024 * 1024


class _ForwardReader:
    """A file object over the decompressed stream that counts delivered bytes and seeks
    forward only (by reading and dropping); enough for ``tarfile`` reading members in order.
    ``unread`` gives back the bytes just read (a header record peeked at by
    ``tar_headers``); ``header_guard`` is the stream's ``HeaderGuard``."""

    def __init__(self, raw: BinaryIO, header_guard: HeaderGuard) -> None:
        self.raw = raw
        self.header_guard = header_guard
        self.delivered = 0
        self._pushback = b""
        self._recent: collections.deque[tuple[int, bytes | memoryview]] = collections.deque(
            maxlen=4
        )
        self._read_view = getattr(raw, "read_view", None)

    def read(self, size: int = -1) -> bytes:
        if self._pushback:
            return self._read_pushback(size)
        return self._deliver(self.raw.read(size))

    def read_data(self, size: int) -> bytes | memoryview:
        """``read`` for member data: from a ``DecompressedStream``, a memoryview of its chunk
        where the bytes lie in one (``read_view``), so they are not copied."""
        if self._pushback or self._read_view is None:
            return self.read(size)
        return self._deliver(self._read_view(size))

    def _deliver(self, data: Any) -> Any:
        if data:
            self._recent.append((self.delivered, data))
        self.delivered += len(data)
        return data

    def _read_pushback(self, size: int) -> bytes:
        data = self._pushback if size < 0 else self._pushback[:size]
        self._pushback = self._pushback[len(data) :]
        self.delivered += len(data)
        if size < 0 or len(data) < size:
            data += self.read(size - len(data) if size >= 0 else -1)
        return data

    def unread(self, data: bytes) -> None:
        """Give back ``data``, the bytes the last ``read`` returned."""
        self._pushback = data + self._pushback
        self.delivered -= len(data)

    def tell(self) -> int:
        return self.delivered

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence != os.SEEK_SET or offset < self.delivered:
            raise io.UnsupportedOperation("a decompressed tar stream only seeks forward")
        while self.delivered < offset:
            if not self.read(min(offset - self.delivered, _DRAIN_CHUNK)):
                break  # past the end: the next read returns b"", tarfile reports it
        return self.delivered

    def recent_block(self, offset: int, size: int) -> bytes | None:
        """Bytes ``offset:offset+size`` of the stream if still among the last reads."""
        if not self._recent or self._recent[0][0] > offset:
            return None
        start = self._recent[0][0]
        joined = b"".join(chunk for _, chunk in self._recent)
        block = joined[offset - start : offset - start + size]
        return block if len(block) == size else None

    def close(self) -> None:
        self.raw.close()


class MemberData:
    """Reads one member's data, in order, from the shared forward reader."""

    __slots__ = ("_reader", "_position", "_end")

    def __init__(self, reader: _ForwardReader, member: tarfile.TarInfo) -> None:
        self._reader = reader
        self._position = member.offset_data
        self._end = member.offset_data + member.size

    def read(self, size: int) -> bytes | memoryview:
        self._reader.seek(self._position)
        data = self._reader.read_data(min(size, self._end - self._position))
        self._position += len(data)
        return data


def compressed_position(raw: Any) -> int | None:
    """How far into the compressed file the reader is, when it can tell."""
    probe = getattr(raw, "compressed_position", None)
    try:
        if callable(probe):
            return int(probe())
        for attribute in ("fileobj", "_fp"):
            inner = getattr(raw, attribute, None)
            if inner is not None and hasattr(inner, "tell"):
                return int(inner.tell())
        if hasattr(raw, "tell"):
            return int(raw.tell())
    except (OSError, ValueError, AttributeError, TypeError):
        return None
    return None


class TarStream:
    """The members of the tar archive ``path`` in order: an ``OpenArchive`` (read through
    its descriptor, left open) or a path (opened here, closed with the stream)."""

    def __init__(
        self,
        path: OpenArchive | str | os.PathLike[str],
        fmt: CompressionFormat,
        executor: Executor | None,
        gzip_index: GzipIndex | None = None,
        limits: HeaderLimits | None = None,
        inflate_backend: str = "auto",
    ) -> None:
        source, owned = borrow_or_open(path)
        self.tar: tarfile.TarFile | None = None
        try:
            self._raw = open_decompressed(
                source, fmt, executor, gzip_index=gzip_index, inflate_backend=inflate_backend
            )
        except BaseException:
            if owned:
                source.close()
            raise
        self._owned = source if owned else None
        guard = HeaderGuard(limits or HeaderLimits.from_config(None), source.size)
        self.header_guard = guard
        self._reader = _ForwardReader(self._raw, guard)
        try:
            self.tar = tarfile.TarFile(
                fileobj=self._reader,  # type: ignore[arg-type]
                mode="r",
                tarinfo=BoundedTarInfo,
            )
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> TarStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def members(self) -> Iterator[tarfile.TarInfo]:
        """Members in order; ``tarfile`` does not keep them (it would, one per member)."""
        tar = self.tar
        assert tar is not None
        reader = self._reader
        while (member := tar.next()) is not None:
            tar.members.clear()
            yield member
            # skip what is left of the member and its padding in one step (tarfile would seek
            # to the byte before the next header and read it, two calls through the reader)
            if reader.delivered < tar.offset:
                reader.seek(tar.offset)

    def extractfile(self, member: tarfile.TarInfo) -> MemberData:
        """The member's data (a regular file's), read in order before the next member."""
        return MemberData(self._reader, member)

    def position(self) -> int | None:
        return compressed_position(self._raw)

    def finish(self) -> int:
        """Check the end-of-archive block and read the stream to its end; return extra bytes."""
        assert self.tar is not None
        if self._reader.delivered < self.tar.offset + tarfile.BLOCKSIZE:
            raise CorruptArchiveError("tar archive is truncated (no end-of-archive block)")
        # tarfile also stops quietly at an invalid header after the first: make sure it
        # stopped at the zero block that ends an archive.
        block = self._reader.recent_block(self.tar.offset, tarfile.BLOCKSIZE)
        if block is None or block.count(0) != tarfile.BLOCKSIZE:
            raise CorruptArchiveError(f"invalid tar header at offset {self.tar.offset}")
        trailing = 0
        while True:
            data = self._raw.read(_DRAIN_CHUNK)
            if not data:
                return trailing
            trailing += len(data)
            if trailing > MAX_TRAILING_BYTES:
                raise CorruptArchiveError(
                    f"more than {MAX_TRAILING_BYTES} bytes of data after the tar archive's end"
                )

    def close(self) -> None:
        try:
            if self.tar is not None:
                self.tar.close()
        finally:
            try:
                self._raw.close()
            finally:
                if self._owned is not None:
                    self._owned.close()
