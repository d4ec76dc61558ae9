"""A zip archive's layout, checked before a byte is written: methods, kinds, modes, data ranges.

``check_supported`` refuses a member that is encrypted or compressed with a method no
reader here reads (``UnsupportedArchiveError``, naming the method and what to do instead).

``zip_kind`` classifies an entry (folder, regular file, symlink, or something refused) from
its name and its unix mode (``external_attr >> 16`` when ``create_system == 3``).
``check_data_ranges`` reads each entry's local header and refuses entries whose header and
data overlap another entry's (the overlapping-entries zip bomb) or run past the central
directory, or whose local header names another file; it returns where each entry's data
starts, so extraction and verification read it (``read.zip_inflate``) with ``os.pread`` at
that offset, each worker at its own, without parsing the header or the central directory
again. Headers that lie close together (a package's small members) are read several at a
time (``_HeaderReads``): one system call for a few dozen of them, not one each.
"""

from __future__ import annotations

import bisect
import os
import stat
import struct
import time
import zipfile
from typing import NoReturn

from ..codecs.zip_extra import member_name, read_exact_mtime
from ..display import quoted
from ..entries import EntryKind
from ..errors import CorruptArchiveError, UnsafeArchiveError, UnsupportedArchiveError
from .open_archive import OpenArchive

UNIX_SYSTEM = 3
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_LOCAL_SIGNATURE = b"PK\x03\x04"
_UTF8_FLAG = 0x800
#: bytes read past a local header in the same ``pread``, enough for most names
_NAME_GUESS = 226
#: a local header read from the archive brings with it the following ones that start within
#: this many bytes of it (the data between them too: a few small members' worth)
HEADER_READ_SPAN = 64 * 1024

#: the compression methods read here (``zipfile`` decodes bzip2 and LZMA, 7-Zip's among them)
READ_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA)
#: the names of the other methods (APPNOTE 4.4.5), for messages
_METHOD_NAMES = {
    1: "Shrink",
    2: "Reduce",
    3: "Reduce",
    4: "Reduce",
    5: "Reduce",
    6: "Implode",
    7: "Tokenize",
    9: "Deflate64",
    10: "PKWARE DCL Implode",
    16: "IBM CMPSC",
    18: "IBM TERSE",
    19: "IBM LZ77",
    20: "Zstandard",
    93: "Zstandard",
    94: "MP3",
    95: "XZ",
    96: "JPEG",
    97: "WavPack",
    98: "PPMd",
}
#: the method of a WinZip AES-encrypted member (its real method is in its extra field)
_AES_METHOD = 99
_ENCRYPTED_FLAG = 0x1
_PATCHED_DATA_FLAG = 0x20
_STRONG_ENCRYPTION_FLAG = 0x40
_DECRYPT = "decrypt it first (extract it with its password, then re-create the zip without one)"
_RECOMPRESS = "re-create the zip with Deflate, e.g. 7-Zip -mm=Deflate"


def unix_mode(info: zipfile.ZipInfo) -> int | None:
    if info.create_system == UNIX_SYSTEM:
        mode = info.external_attr >> 16
        return mode or None
    return None


def entry_kind(info: zipfile.ZipInfo) -> EntryKind:
    """``DIR``, ``FILE``, ``SYMLINK``, or ``OTHER`` for any other unix file type."""
    mode = unix_mode(info)
    file_type = stat.S_IFMT(mode) if mode is not None else 0
    if info.filename.endswith(("/", "\\")) or file_type == stat.S_IFDIR:
        return EntryKind.DIR
    if file_type == stat.S_IFLNK:
        return EntryKind.SYMLINK
    if file_type in (0, stat.S_IFREG):
        return EntryKind.FILE
    return EntryKind.OTHER


def zip_kind(info: zipfile.ZipInfo) -> EntryKind:
    """``DIR``, ``FILE`` or ``SYMLINK``; any other unix file type raises UnsafeArchiveError."""
    kind = entry_kind(info)
    if kind is not EntryKind.OTHER:
        return kind
    file_type = stat.S_IFMT(unix_mode(info) or 0)
    if file_type in (stat.S_IFCHR, stat.S_IFBLK):
        raise UnsafeArchiveError(member_name(info), "device files are not allowed")
    if file_type == stat.S_IFIFO:
        raise UnsafeArchiveError(member_name(info), "FIFOs are not allowed")
    raise UnsafeArchiveError(member_name(info), f"file type {oct(file_type)} is not allowed")


def open_zip(path: OpenArchive | str | os.PathLike[str]) -> zipfile.ZipFile:
    """The archive, its central directory read and its entry count checked
    (``check_entry_count``). An ``OpenArchive`` is read through its descriptor (and stays
    open when the ``ZipFile`` closes): ``archive_fd`` is that descriptor."""
    handle = zipfile.ZipFile(path.reader() if isinstance(path, OpenArchive) else path)
    try:
        check_entry_count(handle)
    except BaseException:
        handle.close()
        raise
    return handle


def check_entry_count(handle: zipfile.ZipFile) -> None:
    """Refuse a central directory that holds another number of entries than its end record
    says. ``zipfile`` reads entries until it has read the directory's size in bytes, so one
    damaged length field makes it stop early, and the entries after it would silently
    vanish. (A count kept modulo 65,536, as some old writers did, is accepted.)"""
    end_record = getattr(zipfile, "_EndRecData", None)
    if end_record is None or handle.fp is None:  # pragma: no cover - another zipfile
        return
    record = end_record(handle.fp)
    if not record:
        return
    declared, found = int(record[zipfile._ECD_ENTRIES_TOTAL]), len(handle.infolist())
    if found != declared and found % 0x10000 != declared:
        raise CorruptArchiveError(
            f"{handle.filename}: the central directory holds {found} entries where its end "
            f"record says {declared}: the archive is damaged"
        )


def check_supported(info: zipfile.ZipInfo) -> None:
    """Refuse a member no reader here can read, encrypted or compressed with a method other
    than ``READ_METHODS``, with ``UnsupportedArchiveError`` naming the member as extraction
    and listings name it (``member_name``: ``zipfile``'s cp437 reading of an Info-ZIP UTF-8
    name is not it), what it uses, by name, and what to do instead."""
    method = info.compress_type
    if method == _AES_METHOD:
        _refuse(info, "AES encryption", _DECRYPT)
    if info.flag_bits & _STRONG_ENCRYPTION_FLAG:
        _refuse(info, "PKWARE strong encryption", _DECRYPT)
    if info.flag_bits & _ENCRYPTED_FLAG:
        _refuse(info, "ZipCrypto encryption", _DECRYPT)
    if info.flag_bits & _PATCHED_DATA_FLAG:
        _refuse(info, "PKWARE patched data", _RECOMPRESS)
    if method not in READ_METHODS or method not in zipfile.compressor_names:
        name = _METHOD_NAMES.get(method, "an unknown")
        _refuse(info, f"{name} compression (zip method {method})", _RECOMPRESS)


def _refuse(info: zipfile.ZipInfo, what: str, hint: str) -> NoReturn:
    name = member_name(info)
    raise UnsupportedArchiveError(
        f"member {quoted(name)} uses {what}, which this library does not read: {hint}", name
    )


def _local_name_matches(info: zipfile.ZipInfo, flags: int, raw_name: bytes) -> bool:
    """The test ``ZipFile.open`` makes: the local header names the central directory's entry."""
    if raw_name.isascii():  # both encodings read ASCII as ASCII: the fast codec decides
        return raw_name.decode("ascii") == info.orig_filename
    try:
        local = raw_name.decode("utf-8" if flags & _UTF8_FLAG else "cp437")
    except UnicodeDecodeError:
        return False
    return local == info.orig_filename


class _HeaderReads:
    """The archive's local headers (``length`` bytes from each of ``starts``), read through
    descriptor ``source`` with ``os.pread``: a read that must go to the file also takes the
    following headers starting within ``HEADER_READ_SPAN``, so that they come from memory.
    A header far from the next one (a large member between them) is read alone, as before."""

    def __init__(self, source: int, starts: list[int], length: int) -> None:
        self._source = source
        self._starts = sorted(starts)
        self._length = length
        self._buffer = b""
        self._base = 0

    def at(self, offset: int) -> bytes:
        """``length`` bytes from ``offset`` (fewer at the end of the file)."""
        end = offset + self._length
        base = self._base
        if base <= offset and end <= base + len(self._buffer):
            return self._buffer[offset - base : end - base]
        furthest = bisect.bisect_right(self._starts, offset + HEADER_READ_SPAN) - 1
        read_end = max(end, self._starts[furthest] + self._length if furthest >= 0 else end)
        self._buffer, self._base = os.pread(self._source, read_end - offset, offset), offset
        return self._buffer[: self._length]


def check_data_ranges(
    source: int, infos: list[zipfile.ZipInfo], central_dir_offset: int
) -> list[int]:
    """Refuse overlapping entries and entries whose data runs past the central directory.

    Reads each local header through ``source`` (a descriptor of the archive, with ``os.pread``,
    so its file position is left alone) and returns each entry's data offset, in ``infos``
    order: where a worker reads the compressed bytes without parsing the header again.
    """
    ranges: list[tuple[int, int, int]] = []  # (start, end, index in infos)
    offsets: list[int] = []
    misnamed: zipfile.ZipInfo | None = None  # reported after the overlaps, more telling
    headers = _HeaderReads(
        source, [info.header_offset for info in infos], _LOCAL_HEADER.size + _NAME_GUESS
    )
    for index, info in enumerate(infos):
        header = headers.at(info.header_offset)
        if len(header) < _LOCAL_HEADER.size:
            raise CorruptArchiveError("local header is truncated", member_name(info))
        fields = _LOCAL_HEADER.unpack_from(header)
        if fields[0] != _LOCAL_SIGNATURE:
            raise CorruptArchiveError("bad local header signature", member_name(info))
        flags, name_length, extra_length = fields[2], fields[9], fields[10]
        name_start = info.header_offset + _LOCAL_HEADER.size
        raw_name = header[_LOCAL_HEADER.size : _LOCAL_HEADER.size + name_length]
        if len(raw_name) < name_length:
            raw_name = os.pread(source, name_length, name_start)
        if misnamed is None and not _local_name_matches(info, flags, raw_name):
            misnamed = info
        data_start = name_start + name_length + extra_length
        data_end = data_start + info.compress_size
        if data_end > central_dir_offset:
            raise CorruptArchiveError(
                "member data runs past the central directory", member_name(info)
            )
        ranges.append((info.header_offset, data_end, index))
        offsets.append(data_start)
    ranges.sort()
    for (_, end, first), (start, _, second) in zip(ranges, ranges[1:]):
        if start < end:
            raise UnsafeArchiveError(
                member_name(infos[second]),
                f"overlaps the data of entry {member_name(infos[first])!r} "
                "(overlapping zip entries)",
            )
    if misnamed is not None:
        raise CorruptArchiveError(
            "the local header names another file than the central directory",
            member_name(misnamed),
        )
    return offsets


def archive_fd(handle: zipfile.ZipFile) -> int:
    """The descriptor of the file ``handle`` parsed, for ``os.pread`` (thread-safe, no seek)."""
    if handle.fp is None:
        raise ValueError("the zip archive is closed")
    return handle.fp.fileno()


def central_directory_offset(handle: zipfile.ZipFile, archive_size: int) -> int:
    offset = getattr(handle, "start_dir", None)
    return int(offset) if isinstance(offset, int) else archive_size


def zip_mtime(info: zipfile.ZipInfo) -> float | None:
    """The member's mtime: the exact UTC one from its extra fields (``read_exact_mtime``),
    else its DOS date (the writer's local time, read as this machine's)."""
    exact = read_exact_mtime(info)
    if exact is not None:
        return exact
    try:
        return time.mktime((*info.date_time, 0, 0, -1))
    except (OverflowError, ValueError):
        return None
