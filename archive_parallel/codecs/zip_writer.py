"""A zip writer whose members are compressed in parallel and written in input order.

``zipfile`` cannot write data that was compressed elsewhere, so this writes the format
itself (local headers, data, central directory, end records). Small files (``LoadedFile``,
or ``PendingFile`` still to be read) are made ready by workers in batches of up to
``BATCH_MEMBERS`` members or a byte limit per task (``BATCH_BYTES`` at first, doubling up to
``block_size``): read, hashed, CRC'd, compressed whole and framed with their local headers
into one blob, so the writing thread only appends blobs in order and packs their central
directory headers (tiny files cost no handoff each, a small archive is still shared by
several workers, a large one needs few handoffs). A batch of files averaging under 2 KiB
(``pool.INLINE_MEAN_DEFLATED_SIZE``) is made ready by the writing thread itself: for such
files the per-file interpreter work outweighs what deflate in a worker saves, and more
threads only contend for the lock; batches of files under 16 KiB run at most
``SMALL_BATCHES_AT_ONCE`` at a time, for the same reason. Batches go through an
``OrderedWindow`` of at most ``max_in_flight``; a member is STORED when deflate would not
shrink it, or, from 64 KiB, when samples show none of it compresses (then it is not deflated at
all: ``incompressible``). A large file already deflated while the tree was walked
(``early_deflate``) is not batched: its task joins the window in its place, and the writing
thread frames it as a batch of one. Progress (``progress.OutputProgress``) hears of each batch
and deflate block as it is written. A large file (``StreamedFile``) is streamed by the calling
thread after the window has been drained: its local header is written with blank CRC and sizes,
its chunks go through a ``ParallelDeflater`` (the zip member is the same sync-flushed raw
deflate block stream as our gzip body, storing the pieces that do not compress) or straight
through when samples of its first 64 KiB show it does not compress, and the header is patched
afterwards (``out`` must be seekable). zip64 fields are used for a member whose size could
reach 4 GiB (decided from the entry size up front), for offsets past 4 GiB and for more than
65,534 entries. Members carry Unix modes (``create_system`` 3), the Info-ZIP 1-second timestamp
(1901 to 2106, see ``zip_extra``) and a local DOS time clamped to 1980-2107; ``fixed_mtime``
makes the output reproducible. The bytes depend on the items, level, block size and backend,
never on threads, batches or window size.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import logging
import stat
import struct
import threading
import time
import zlib
from collections.abc import Iterable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO

from ..cores import usable_cpu_count
from ..display import quoted
from ..entries import EntryKind, FileEntry
from ..errors import ArchiveError, SourceChangedError
from ..pool import OrderedWindow, is_tiny_batch
from ..progress import OutputProgress
from ..source_reader import Content, LoadedFile, PendingFile, StreamedFile
from .backend import deflate_module
from .deflate_blocks import ParallelDeflater
from .incompressible import PIECE_SIZE, looks_incompressible, sorts_pieces
from .zip_extra import extended_timestamp, zip64_extra

if TYPE_CHECKING:
    from .early_deflate import EarlyDeflate

logger = logging.getLogger(__name__)

#: a size or offset at or past this needs zip64 fields (lowered by tests)
ZIP64_LIMIT = 0xFFFFFFFF
#: this many entries or more need the zip64 end records (lowered by tests)
ZIP64_ENTRY_LIMIT = 0xFFFF
#: small members compressed per task at most (a task also stops at its byte limit)
BATCH_MEMBERS = 64
#: deflated batches of small files (averaging under ``pool.INLINE_MEAN_FILE_SIZE``) that run
#: at once, at most (fewer on fewer cores): each file's reading, hashing and framing takes the
#: interpreter lock, so past about four threads more of them mostly wait for it and for each
#: other. The package tree's zip on 16 cores took 458 ms at 4 threads, 487 ms at 8 and 724 ms
#: at 16; on 2 cores 16 threads ran at 0.77x of 4, and 1.00x with the batches let in 4 at a
#: time (2 at a time: 4 threads at 1.06x). Batches of larger files are never held back: their
#: deflate runs without the lock (the medium tree's zip: 9.2x at 16 threads on 16 cores).
SMALL_BATCHES_AT_ONCE = 4
#: bytes of small members in the first task; each next task may hold twice as many, up to
#: ``block_size``: a 1 MB archive is still shared by several workers, while a large one
#: needs few handoffs (each costs a thread wake-up, dear on a busy machine)
BATCH_BYTES = 64 * 1024
#: bytes at the start of a streamed member that decide between DEFLATED and STORED
STORE_SAMPLE_SIZE = 64 * 1024

STORED, DEFLATED = 0, 8
_UTF8_FLAG = 0x800
_UNIX = 3
_VERSION_DEFAULT, _VERSION_ZIP64 = 20, 45
_MSDOS_DIRECTORY = 0x10

_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_CENTRAL_HEADER = struct.Struct("<4sHHHHHHIIIHHHHHII")
_END_RECORD = struct.Struct("<4sHHHHIIH")
_ZIP64_END_RECORD = struct.Struct("<4sQHHIIQQQQ")
_ZIP64_LOCATOR = struct.Struct("<4sIQI")
_CRC_OFFSET_IN_LOCAL = 14  # signature, version, flags, method, time, date precede it
_OFFSET_IN_CENTRAL = 42  # the local header's offset ends the fixed part of a central header
_OFFSET = struct.Struct("<I")


@dataclass
class ZipResult:
    """What ``write_zip`` wrote: every member name (folders end in ``/``), the number and
    total size of regular files, and each regular file's SHA-256."""

    members: list[str] = field(default_factory=list)
    file_count: int = 0
    uncompressed_size: int = 0
    file_sha256: dict[str, str] = field(default_factory=dict)
    peak_in_flight: int = 0


@dataclass(slots=True)
class _CentralRecord:
    name: bytes
    flags: int
    method: int
    dos_time: int
    dos_date: int
    crc: int
    compressed_size: int
    size: int
    external_attr: int
    offset: int
    mtime: float
    zip64_sizes: bool


def dos_date_time(mtime: float, utc: bool = False) -> tuple[int, int]:
    """``(dos_time, dos_date)`` of ``mtime`` in local time (UTC with ``utc``, for output that
    must not depend on the machine's time zone), clamped to 1980..2107."""
    try:
        t = time.gmtime(mtime) if utc else time.localtime(mtime)
        parts = (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec)
    except (OverflowError, OSError, ValueError):
        parts = (1980, 1, 1, 0, 0, 0) if mtime < 0 else (2107, 12, 31, 23, 59, 58)
    if parts[0] < 1980:
        parts = (1980, 1, 1, 0, 0, 0)
    elif parts[0] > 2107:
        parts = (2107, 12, 31, 23, 59, 58)
    year, month, day, hour, minute, second = parts
    dos_time = (hour << 11) | (minute << 5) | (min(second, 59) // 2)
    dos_date = ((year - 1980) << 9) | (month << 5) | day
    return dos_time, dos_date


def member_name(entry: FileEntry) -> str:
    return entry.name + "/" if entry.kind is EntryKind.DIR else entry.name


def encoded_name(entry: FileEntry) -> bytes:
    """The member name as zip stores it: UTF-8 (flagged when not ASCII). A name that is not
    valid UTF-8 would be unreadable under that flag: ``ArchiveError`` (creation screens such
    names out earlier, see ``source_names``)."""
    try:
        return member_name(entry).encode("utf-8")
    except UnicodeEncodeError:
        raise ArchiveError(
            f"cannot archive {quoted(entry.path)}: its name is not valid UTF-8"
        ) from None


def external_attributes(entry: FileEntry) -> int:
    if entry.kind is EntryKind.DIR:
        return ((stat.S_IFDIR | entry.mode) << 16) | _MSDOS_DIRECTORY
    if entry.kind is EntryKind.SYMLINK:
        return (stat.S_IFLNK | 0o777) << 16
    return (stat.S_IFREG | entry.mode) << 16


def _needs_zip64_sizes(size: int) -> bool:
    """True when a member of ``size`` bytes might reach the limit (deflate can grow data)."""
    return size + size // 16 + 1024 >= ZIP64_LIMIT


def _deflate_member(module: object, level: int, data: bytes) -> bytes | None:
    """Raw deflate of a whole member in one call (no compressor object per member), or None
    for a member of at least ``PIECE_SIZE`` whose samples show nothing to compress
    (``incompressible``). Smaller members are not sampled: there the samples' own calls
    cost about what deflating them does, and each hands the interpreter lock over."""
    if len(data) >= PIECE_SIZE and sorts_pieces(module, level) and looks_incompressible(data):
        return None
    return module.compress(data, level, -15)  # type: ignore[attr-defined]


def _central_record(
    entry: FileEntry, name: bytes, fixed_mtime: float | None, offset: int, **facts: int | bool
) -> _CentralRecord:
    """The central directory facts of one member whose local header starts at ``offset``."""
    mtime = entry.mtime if fixed_mtime is None else fixed_mtime
    dos_time, dos_date = dos_date_time(mtime, utc=fixed_mtime is not None)
    return _CentralRecord(
        name=name,
        flags=0 if name.isascii() else _UTF8_FLAG,
        dos_time=dos_time,
        dos_date=dos_date,
        external_attr=external_attributes(entry),
        offset=offset,
        mtime=mtime,
        **facts,  # type: ignore[arg-type]
    )


def _local_header(record: _CentralRecord, crc: int, compressed_size: int, size: int) -> bytes:
    """The local header of ``record``'s member with the given CRC and sizes."""
    if record.zip64_sizes:
        extra = zip64_extra(size, compressed_size) + extended_timestamp(record.mtime)
        header_sizes = (0xFFFFFFFF, 0xFFFFFFFF)
        version = _VERSION_ZIP64
    else:
        extra = extended_timestamp(record.mtime)
        header_sizes = (compressed_size, size)
        version = _VERSION_DEFAULT
    return (
        _LOCAL_HEADER.pack(
            b"PK\x03\x04",
            version,
            record.flags,
            record.method,
            record.dos_time,
            record.dos_date,
            crc,
            *header_sizes,
            len(record.name),
            len(extra),
        )
        + record.name
        + extra
    )


#: ``(method, crc, data, size, sha256)`` of one member made ready (``member_data``)
MemberData = tuple[int, int, bytes, int, str | None]


def member_data(
    entry: FileEntry, content: Content | PendingFile, level: int, module: object
) -> MemberData:
    """``(method, crc, data, size, sha256)`` of one small member, its file read here when it
    is still pending; runs in a worker (read, zlib and crc32 release the GIL)."""
    if entry.kind is EntryKind.SYMLINK:
        data = entry.linkname.encode("utf-8", "surrogateescape")
        return STORED, zlib.crc32(data), data, len(data), None
    if entry.kind is EntryKind.DIR or content is None:
        return STORED, 0, b"", 0, None
    if isinstance(content, PendingFile):
        content = content.load()
    assert isinstance(content, LoadedFile)
    data = content.data
    crc = zlib.crc32(data)
    if level > 0 and data:
        compressed = _deflate_member(module, level, data)
        if compressed is not None and len(compressed) < len(data):
            return DEFLATED, crc, compressed, len(data), content.sha256
    return STORED, crc, data, len(data), content.sha256


def _central_header(record: _CentralRecord) -> bytes:
    """The central directory header of ``record``'s member (its offset final)."""
    zip64_values: list[int] = []
    sizes = (record.compressed_size, record.size)
    if record.zip64_sizes:
        zip64_values += [record.size, record.compressed_size]
        sizes = (0xFFFFFFFF, 0xFFFFFFFF)
    offset = record.offset
    if offset >= ZIP64_LIMIT:
        zip64_values.append(offset)
        offset = 0xFFFFFFFF
    extra = (zip64_extra(*zip64_values) if zip64_values else b"") + extended_timestamp(record.mtime)
    version = _VERSION_ZIP64 if zip64_values else _VERSION_DEFAULT
    return (
        _CENTRAL_HEADER.pack(
            b"PK\x01\x02",
            (_UNIX << 8) | version,
            version,
            record.flags,
            record.method,
            record.dos_time,
            record.dos_date,
            record.crc,
            *sizes,
            len(record.name),
            len(extra),
            0,
            0,
            0,
            record.external_attr,
            offset,
        )
        + record.name
        + extra
    )


@dataclass(slots=True)
class _Batch:
    """Small members made ready by one task: their local headers and data back to back
    (``blob``), their central directory facts with offsets relative to the blob's start and
    their central directory headers packed with those offsets (``directory``; the writer only
    adds the blob's position at each ``_OFFSET_IN_CENTRAL``), and what the result accounts
    for them."""

    blob: bytes
    records: list[_CentralRecord]
    directory: bytearray
    header_starts: list[int]
    members: list[str]
    file_sha256: list[tuple[str, str]]
    file_count: int
    file_bytes: int


def _prepare_batch(
    batch: list[tuple[FileEntry, Content | PendingFile]],
    level: int,
    module: object,
    fixed_mtime: float | None,
    gate: threading.BoundedSemaphore | None = None,
) -> _Batch:
    """Read, hash, compress and frame a batch of small members in one task, so the writer
    only appends the blob (a cheap handoff even for tiny files); with ``gate``, once it
    lets the task in (``SMALL_BATCHES_AT_ONCE``)."""
    with gate or contextlib.nullcontext():
        return _prepared(batch, level, module, fixed_mtime)


def _prepared(
    batch: list[tuple[FileEntry, Content | PendingFile]],
    level: int,
    module: object,
    fixed_mtime: float | None,
) -> _Batch:
    ready = [(entry, member_data(entry, content, level, module)) for entry, content in batch]
    return _framed(ready, fixed_mtime)


def _framed(members: list[tuple[FileEntry, MemberData]], fixed_mtime: float | None) -> _Batch:
    """The batch of ``members`` made ready: local headers and data, central headers."""
    parts: list[bytes] = []
    records: list[_CentralRecord] = []
    names: list[str] = []
    shas: list[tuple[str, str]] = []
    file_count = file_bytes = offset = 0
    for entry, (method, crc, data, size, sha256) in members:
        name = encoded_name(entry)
        compressed_size = len(data)
        record = _central_record(
            entry,
            name,
            fixed_mtime,
            offset,
            method=method,
            crc=crc,
            compressed_size=compressed_size,
            size=size,
            zip64_sizes=size >= ZIP64_LIMIT or compressed_size >= ZIP64_LIMIT,
        )
        header = _local_header(record, crc, compressed_size, size)
        parts += (header, data)
        offset += len(header) + compressed_size
        records.append(record)
        names.append(member_name(entry))
        if entry.kind is EntryKind.FILE:
            file_count += 1
            file_bytes += entry.size
            if sha256 is not None:
                shas.append((entry.name, sha256))
    headers = [_central_header(record) for record in records]
    starts = list(itertools.accumulate((len(h) for h in headers[:-1]), initial=0))
    blob = b"".join(parts)
    logger.debug(
        "prepared a batch of %d zip members (%d -> %d bytes)", len(records), file_bytes, len(blob)
    )
    return _Batch(
        blob,
        records,
        bytearray(b"".join(headers)),
        starts,
        names,
        shas,
        file_count,
        file_bytes,
    )


class _ZipWriter:
    def __init__(
        self,
        out: BinaryIO,
        level: int,
        executor: Executor | None,
        max_in_flight: int,
        block_size: int,
        backend: str,
        fixed_mtime: float | None,
        progress: OutputProgress | None = None,
        early: EarlyDeflate | None = None,
    ) -> None:
        if not 0 <= int(level) <= 9:
            raise ValueError(f"zip compression level must be 0-9, got {level}")
        self.out = out
        self.level = int(level)
        self.executor = executor
        self.max_in_flight = max(1, int(max_in_flight))
        self.block_size = block_size
        self.backend = backend
        self.module = deflate_module(backend)
        self.fixed_mtime = fixed_mtime
        self.progress = progress or OutputProgress.unreported()
        #: files deflated while the tree was walked (``early_deflate``), and those of them
        #: whose member data is in the window, oldest first
        self.early = early
        self.early_members: collections.deque[FileEntry] = collections.deque()
        self.position = out.tell()
        #: central directory headers, packed as their members are written, and their number
        self.directory: list[bytes | bytearray] = []
        self.entry_count = 0
        self.result = ZipResult()
        self.window: OrderedWindow[_Batch | MemberData] = OrderedWindow(
            executor, self.max_in_flight, spare=self.max_in_flight
        )
        self.batch: list[tuple[FileEntry, Content | PendingFile]] = []
        self.batch_bytes = 0
        self.batch_byte_limit = min(block_size, BATCH_BYTES)
        self.deflater: ParallelDeflater | None = None
        #: lets in ``SMALL_BATCHES_AT_ONCE`` deflated batches of small files at a time, or as
        #: many as there are cores when fewer
        self.small_gate = threading.BoundedSemaphore(
            max(1, min(SMALL_BATCHES_AT_ONCE, usable_cpu_count()))
        )

    # -- helpers ------------------------------------------------------------------------
    def _emit(self, data: bytes | memoryview) -> None:
        self.out.write(data)
        self.position += len(data)

    def _account(self, entry: FileEntry, sha256: str | None) -> None:
        self.result.members.append(member_name(entry))
        if entry.kind is EntryKind.FILE:
            self.result.file_count += 1
            self.result.uncompressed_size += entry.size
            if sha256 is not None:
                self.result.file_sha256[entry.name] = sha256

    # -- small members ------------------------------------------------------------------
    def submit(self, entry: FileEntry, content: Content | PendingFile) -> None:
        if entry.kind is EntryKind.FILE and not isinstance(content, (LoadedFile, PendingFile)):
            raise ValueError(f"{entry.name}: a regular file needs its content, got {content!r}")
        early = self.early.claim(entry) if self.early is not None else None
        if early is not None:  # deflated while the tree was walked: its own window slot
            self._submit_batch()
            self.early_members.append(entry)
            self.progress.cut()
            self._take_all(self.window.adopt(early))
            return
        self.batch.append((entry, content))
        self.batch_bytes += entry.size
        if self.batch_bytes >= self.batch_byte_limit or len(self.batch) >= BATCH_MEMBERS:
            self._submit_batch()
            self._take_all(self.window.ready())

    def _take_all(self, results: Iterable[_Batch | MemberData]) -> None:
        """Write what came back from the window, in order: a batch, or the member data of a
        file deflated while the tree was walked (framed here, a batch of one)."""
        for result in results:
            if not isinstance(result, _Batch):
                result = _framed([(self.early_members.popleft(), result)], self.fixed_mtime)
            self._write_batch(result)

    def _submit_batch(self) -> None:
        if not self.batch:
            return
        batch, nbytes, self.batch, self.batch_bytes = self.batch, self.batch_bytes, [], 0
        self.batch_byte_limit = min(2 * self.batch_byte_limit, self.block_size)
        # deflated small files (under 16 KiB a file) wait at the gate: SMALL_BATCHES_AT_ONCE
        small = self.level > 0 and is_tiny_batch(nbytes, len(batch))
        gate = self.small_gate if small else None
        args = (batch, self.level, self.module, self.fixed_mtime, gate)
        self.progress.cut()
        # tiny files stay in this thread (OrderedWindow.submit_batch); deflating them makes
        # a worker pay from smaller files on
        done = self.window.submit_batch(
            nbytes, len(batch), _prepare_batch, *args, deflated=self.level > 0
        )
        self._take_all(done)

    def drain(self) -> None:
        self._submit_batch()
        self._take_all(self.window.drain())

    def _write_batch(self, batch: _Batch) -> None:
        base = self.position
        self._emit(batch.blob)
        self.progress.written()
        records = batch.records
        if self.position < ZIP64_LIMIT:  # every offset still fits its 4-byte field
            directory = batch.directory
            for record, start in zip(records, batch.header_starts):
                record.offset += base
                _OFFSET.pack_into(directory, start + _OFFSET_IN_CENTRAL, record.offset)
            self.directory.append(directory)
        else:  # past 4 GiB: offsets go into zip64 fields, the headers are packed again
            for record in records:
                record.offset += base
                self.directory.append(_central_header(record))
        self.entry_count += len(records)
        result = self.result
        result.members += batch.members
        result.file_count += batch.file_count
        result.uncompressed_size += batch.file_bytes
        result.file_sha256.update(batch.file_sha256)

    # -- large members ------------------------------------------------------------------
    def write_streamed(self, entry: FileEntry, content: StreamedFile) -> None:
        self.drain()  # earlier members first: output stays in input order
        chunks = iter(content.chunks())
        first = next(chunks, b"")
        method = self._streamed_method(first)
        zip64 = _needs_zip64_sizes(entry.size)
        name = encoded_name(entry)
        record = _central_record(
            entry,
            name,
            self.fixed_mtime,
            self.position,
            method=method,
            crc=0,
            compressed_size=0,
            size=0,
            zip64_sizes=zip64,
        )
        header = _local_header(record, 0, 0, 0)
        header_offset = self.position
        self._emit(header)
        data_start = self.position
        size = 0
        if method == STORED:
            crc = 0
            for chunk in _chain(first, chunks):
                crc = zlib.crc32(chunk, crc)
                size += len(chunk)
                self._emit(chunk)
                self.progress.caught_up()  # the chunks before this one
            self.progress.caught_up()
        else:
            self.deflater = ParallelDeflater(
                self.out,
                self.level,
                self.block_size,
                self.executor,
                self.max_in_flight,
                backend=self.backend,
                progress=self.progress,
            )
            for chunk in _chain(first, chunks):
                self.deflater.write(chunk)
                size += len(chunk)
            self.deflater.finish()
            crc = self.deflater.crc32
            self.position += self.deflater.output_size
            self.result.peak_in_flight = max(
                self.result.peak_in_flight, self.deflater.peak_in_flight
            )
            self.deflater = None
        compressed_size = self.position - data_start
        if size != entry.size:
            raise SourceChangedError(
                f"{entry.name}: read {size} bytes where stat said {entry.size}"
            )
        if not zip64 and (compressed_size >= ZIP64_LIMIT or size >= ZIP64_LIMIT):
            raise ArchiveError(f"{entry.name}: member grew past the 4 GiB limit of its header")
        record.crc, record.compressed_size, record.size = crc, compressed_size, size
        self._patch_local_header(header_offset, name, crc, compressed_size, size, zip64)
        self.directory.append(_central_header(record))
        self.entry_count += 1
        self._account(entry, content.sha256)

    def _streamed_method(self, first: bytes) -> int:
        """STORED when samples of the first ``STORE_SAMPLE_SIZE`` bytes do not compress (a
        media file), else DEFLATED (where the block deflater still stores the pieces further
        on that do not compress)."""
        if self.level == 0 or not first or looks_incompressible(first[:STORE_SAMPLE_SIZE]):
            return STORED
        return DEFLATED

    def _patch_local_header(
        self, offset: int, name: bytes, crc: int, compressed_size: int, size: int, zip64: bool
    ) -> None:
        end = self.out.tell()
        self.out.seek(offset + _CRC_OFFSET_IN_LOCAL)
        if zip64:
            self.out.write(struct.pack("<I", crc))
            # the zip64 extra field is the first one: after its 4-byte id and length
            self.out.seek(offset + _LOCAL_HEADER.size + len(name) + 4)
            self.out.write(struct.pack("<QQ", size, compressed_size))
        else:
            self.out.write(struct.pack("<III", crc, compressed_size, size))
        self.out.seek(end)

    # -- the end ------------------------------------------------------------------------
    def finish(self) -> ZipResult:
        self.drain()
        directory_offset = self.position
        self._emit(b"".join(self.directory))
        directory_size = self.position - directory_offset
        count = self.entry_count
        needs_zip64 = (
            count >= ZIP64_ENTRY_LIMIT
            or directory_offset >= ZIP64_LIMIT
            or directory_size >= ZIP64_LIMIT
        )
        if needs_zip64:
            zip64_end_offset = self.position
            self._emit(
                _ZIP64_END_RECORD.pack(
                    b"PK\x06\x06",
                    _ZIP64_END_RECORD.size - 12,
                    (_UNIX << 8) | _VERSION_ZIP64,
                    _VERSION_ZIP64,
                    0,
                    0,
                    count,
                    count,
                    directory_size,
                    directory_offset,
                )
            )
            self._emit(_ZIP64_LOCATOR.pack(b"PK\x06\x07", 0, zip64_end_offset, 1))
        self._emit(
            _END_RECORD.pack(
                b"PK\x05\x06",
                0,
                0,
                0xFFFF if count >= ZIP64_ENTRY_LIMIT else count,
                0xFFFF if count >= ZIP64_ENTRY_LIMIT else count,
                0xFFFFFFFF if directory_size >= ZIP64_LIMIT else directory_size,
                0xFFFFFFFF if directory_offset >= ZIP64_LIMIT else directory_offset,
                0,
            )
        )
        self.result.peak_in_flight = max(self.result.peak_in_flight, self.window.peak_in_flight)
        return self.result

    def abort(self) -> None:
        if self.deflater is not None:
            self.deflater.abort()
        self.window.cancel()


def _chain(first: bytes, rest: Iterable[bytes]) -> Iterable[bytes]:
    if first:
        yield first
    yield from rest


def write_zip(
    out: BinaryIO,
    items: Iterable[tuple[FileEntry, Content | PendingFile]],
    level: int,
    executor: Executor | None,
    max_in_flight: int,
    block_size: int,
    backend: str = "zlib",
    fixed_mtime: float | None = None,
    progress: OutputProgress | None = None,
    early: EarlyDeflate | None = None,
) -> ZipResult:
    """Write a whole zip archive of ``items`` (as ``source_reader.unread_contents`` or
    ``iter_contents`` yield them) to the seekable ``out``; see the module docstring.
    ``early`` holds members already deflated while the tree was walked (``early_deflate``):
    it must have been made with the same level and backend."""
    writer = _ZipWriter(
        out, level, executor, max_in_flight, block_size, backend, fixed_mtime, progress, early
    )
    try:
        for entry, content in items:
            if isinstance(content, StreamedFile):
                writer.write_streamed(entry, content)
            else:
                writer.submit(entry, content)
        return writer.finish()
    except BaseException:
        writer.abort()
        raise


__all__ = [
    "DEFLATED",
    "STORED",
    "ZIP64_ENTRY_LIMIT",
    "ZIP64_LIMIT",
    "MemberData",
    "ZipResult",
    "dos_date_time",
    "external_attributes",
    "member_data",
    "member_name",
    "write_zip",
]
