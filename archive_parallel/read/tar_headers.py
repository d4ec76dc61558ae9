"""Bounds on tar headers, applied before ``tarfile`` reads them.

``tarfile`` reads a whole pax record or GNU long name into memory as soon as it meets its
header, follows chains of such headers by recursion, keeps every global pax keyword for the
rest of the archive (and copies them for each member), and collects GNU sparse maps of any
length. A few hundred bytes of archive can therefore ask for gigabytes, and a stream of headers
that produce no data can cost unbounded time. ``BoundedTarInfo`` (the ``tarinfo`` class of
``TarStream``'s ``TarFile``) checks each header before ``tarfile`` acts on it:

* a pax, global or GNU long name/link record larger than ``max_header_record_size`` is refused
  from its header's declared size, before a byte of it is read;
* a record that is read is peeked at first (``_ForwardReader.unread`` gives it back), and
  global records are capped (``MAX_GLOBAL_RECORDS`` in all); a sparse member (the old GNU
  sparse type, or pax records keyed ``GNU.sparse.*``) is refused at the next header, before
  ``tarfile`` reads its sparse map, named as the records name it or else as that header does;
* more than ``MAX_HEADER_CHAIN`` extension headers in a row are refused (honest archives have
  two or three before a member);
* every header block, record byte and pax record (weighted ``PAX_RECORD_COST`` bytes, its
  parsing cost) is counted, and once ``header_check_threshold`` bytes have been counted, more
  than ``max_header_ratio`` header bytes per byte of the archive file is refused.

Refusals are ``ArchiveLimitError`` (a limit that a setting raises) or ``UnsafeArchiveError`` /
``CorruptArchiveError`` (never valid), with the header's offset in the uncompressed stream.
"""

from __future__ import annotations

import re
import tarfile
from dataclasses import dataclass
from typing import Any

from ..config import ArchiveConfig
from ..errors import ArchiveLimitError, CorruptArchiveError, UnsafeArchiveError
from .ustar_block import parse_block

#: extension headers allowed in a row before a member's own header
MAX_HEADER_CHAIN = 8
#: pax records all the global headers of one archive may hold together
MAX_GLOBAL_RECORDS = 1024
#: bytes a pax record counts for against the header ratio, besides its own bytes
PAX_RECORD_COST = 64

_RECORD_TYPES = (
    tarfile.XHDTYPE,
    tarfile.XGLTYPE,
    tarfile.SOLARIS_XHDTYPE,
    tarfile.GNUTYPE_LONGNAME,
    tarfile.GNUTYPE_LONGLINK,
)
_PAX_TYPES = (tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE)
_WHERE = "(tar headers)"
#: the start of a pax record as ``tarfile`` matches it (its most lenient releases, which step
#: on past a record they cannot frame): its length and its keyword
_PAX_RECORD = re.compile(rb"(\d+) ([^=]+)=")
_SPARSE_KEY = b"GNU.sparse."
#: the records that name a sparse member, the better first: its real name, its path
_SPARSE_NAMES = (b"GNU.sparse.name", b"path")


@dataclass(frozen=True, slots=True)
class HeaderLimits:
    max_record_size: int
    max_ratio: float
    threshold: int

    @classmethod
    def from_config(cls, config: ArchiveConfig | None) -> HeaderLimits:
        config = config or ArchiveConfig()
        return cls(
            int(config.max_header_record_size),
            float(config.max_header_ratio),
            int(config.header_check_threshold),
        )


class HeaderGuard:
    """Counts the header work of one tar stream; raises past the limits."""

    def __init__(self, limits: HeaderLimits, archive_size: int) -> None:
        self.limits = limits
        self.archive_size = max(1, int(archive_size))
        self.header_bytes = 0
        self.headers = 0
        self.chain = 0
        self.global_records = 0
        #: the member that pax records made sparse ("" when they do not name it), refused at
        #: the next header, which tarfile reads before it acts on the records' sparse map
        self.sparse_member: str | None = None

    def charge(self, nbytes: int) -> None:
        self.header_bytes += nbytes
        limits = self.limits
        if (
            self.header_bytes > limits.threshold
            and self.header_bytes > limits.max_ratio * self.archive_size
        ):
            raise ArchiveLimitError(
                _WHERE,
                f"{self.header_bytes} bytes of tar headers is more than "
                f"{limits.max_ratio:g} times the archive's {self.archive_size} bytes "
                "(max_header_ratio)",
            )

    def header(self, info: tarfile.TarInfo) -> None:
        self.headers += 1
        self.charge(tarfile.BLOCKSIZE)
        if info.type == tarfile.GNUTYPE_SPARSE or self.sparse_member is not None:
            raise UnsafeArchiveError(
                self.sparse_member or _member(info), "sparse files are not supported"
            )
        if info.type not in _RECORD_TYPES:
            return
        if info.size > self.limits.max_record_size:
            raise ArchiveLimitError(
                _member(info, info.offset),
                f"a header record of {info.size} bytes is larger than "
                f"max_header_record_size ({self.limits.max_record_size} bytes)",
            )
        if self.chain >= MAX_HEADER_CHAIN:
            raise CorruptArchiveError(
                f"more than {MAX_HEADER_CHAIN} extended tar headers in a row at offset "
                f"{info.offset} (damaged or hostile archive)"
            )

    def record(self, info: tarfile.TarInfo, data: bytes) -> None:
        """Check a record's content (``data``, as read) before ``tarfile`` parses it."""
        cost = len(data)
        if info.type in _PAX_TYPES:
            records = data.count(b"\n")
            cost += PAX_RECORD_COST * records
            if _SPARSE_KEY in data:  # the common case, pax records with no such text, at once
                self.sparse_member = _sparse_member(data)
            if info.type == tarfile.XGLTYPE:
                self.global_records += records
                if self.global_records > MAX_GLOBAL_RECORDS:
                    raise ArchiveLimitError(
                        _WHERE, f"more than {MAX_GLOBAL_RECORDS} global pax records"
                    )
        self.charge(cost)


def _sparse_member(data: bytes) -> str | None:
    """The member that pax records ``data`` make sparse, known by the records' keywords as
    ``tarfile`` knows it (text that merely holds "GNU.sparse.", in a name, a link target or an
    extended attribute, is no keyword): the name the records give, "" when they give none;
    None when no keyword is ``GNU.sparse.*``. The records are walked by their lengths as
    ``tarfile`` walks them, so no keyword it would act on is missed."""
    records: dict[bytes, bytes] = {}
    pos = 0
    while (match := _PAX_RECORD.match(data, pos)) is not None:
        length = int(match.group(1))
        if length == 0:
            break  # tarfile refuses the header here
        records[match.group(2)] = data[match.end(2) + 1 : match.start(1) + length - 1]
        pos += length
    if not any(key.startswith(_SPARSE_KEY) for key in records):
        return None
    name = next((records[key] for key in _SPARSE_NAMES if key in records), b"")
    return name.decode("utf-8", "surrogateescape")[:256]


def _member(info: tarfile.TarInfo, offset: int | None = None) -> str:
    if info.type in _RECORD_TYPES:
        return f"(extended header at offset {offset if offset is not None else info.offset})"
    return info.name[:256]


class BoundedTarInfo(tarfile.TarInfo):
    """``TarInfo`` that has ``HeaderGuard`` check each header before ``tarfile`` processes it.

    The guard and ``unread`` come from the file object ``tarfile`` reads
    (``tar_stream._ForwardReader``). Ordinary header blocks are parsed by
    ``ustar_block.parse_block``, every other block by ``tarfile`` itself: through ``_frombuf``
    where ``tarfile`` has it (releases from mid-2025 on read every header through it), else
    through ``frombuf``."""

    if hasattr(tarfile.TarInfo, "_frombuf"):

        @classmethod
        def _frombuf(
            cls, buf: bytes, encoding: str, errors: str, *, dircheck: bool = True, **options: Any
        ) -> Any:
            fast = None if options else parse_block(cls, buf, encoding, errors, dircheck)
            return fast or super()._frombuf(  # type: ignore[misc]
                buf, encoding, errors, dircheck=dircheck, **options
            )

    else:

        @classmethod
        def frombuf(cls, buf: bytes, encoding: str, errors: str) -> Any:
            return parse_block(cls, buf, encoding, errors) or super().frombuf(buf, encoding, errors)

    def _proc_member(self, tarfile_: Any) -> Any:
        reader = tarfile_.fileobj
        guard: HeaderGuard = reader.header_guard
        guard.header(self)
        if self.type not in _RECORD_TYPES:
            return super()._proc_member(tarfile_)
        data = reader.read(self._block(self.size))
        reader.unread(data)
        guard.record(self, data)
        guard.chain += 1
        try:
            return super()._proc_member(tarfile_)
        finally:
            guard.chain -= 1


__all__ = ["BoundedTarInfo", "HeaderGuard", "HeaderLimits"]
