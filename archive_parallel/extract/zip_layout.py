"""A zip archive's layout, checked before a byte is written: kinds, modes, data ranges.

``zip_kind`` classifies an entry (folder, regular file, symlink, or something refused) from
its name and its unix mode (``external_attr >> 16`` when ``create_system == 3``).
``check_data_ranges`` reads each entry's local header and refuses entries whose header and
data overlap another entry's (the overlapping-entries zip bomb) or run past the central
directory. ``SharedZip`` lets every worker read members of one parsed ``ZipFile``: each member
is read through its own file position (``zipfile`` locks only around seek and read), so
members decompress in parallel without each thread parsing the central directory again.
"""

from __future__ import annotations

import os
import stat
import struct
import threading
import zipfile

from ..errors import CorruptArchiveError, UnsafeArchiveError

UNIX_SYSTEM = 3
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_LOCAL_SIGNATURE = b"PK\x03\x04"

DIR, FILE, SYMLINK = "dir", "file", "symlink"


def unix_mode(info: zipfile.ZipInfo) -> int | None:
    if info.create_system == UNIX_SYSTEM:
        mode = info.external_attr >> 16
        return mode or None
    return None


def zip_kind(info: zipfile.ZipInfo) -> str:
    """``dir``, ``file`` or ``symlink``; any other unix file type raises UnsafeArchiveError."""
    mode = unix_mode(info)
    file_type = stat.S_IFMT(mode) if mode is not None else 0
    if info.filename.endswith(("/", "\\")) or file_type == stat.S_IFDIR:
        return DIR
    if file_type == stat.S_IFLNK:
        return SYMLINK
    if file_type in (0, stat.S_IFREG):
        return FILE
    if file_type in (stat.S_IFCHR, stat.S_IFBLK):
        raise UnsafeArchiveError(info.filename, "device files are not allowed")
    if file_type == stat.S_IFIFO:
        raise UnsafeArchiveError(info.filename, "FIFOs are not allowed")
    raise UnsafeArchiveError(info.filename, f"file type {oct(file_type)} is not allowed")


def open_zip(path: str | os.PathLike[str]) -> zipfile.ZipFile:
    return zipfile.ZipFile(path)


def check_supported(info: zipfile.ZipInfo) -> None:
    if info.flag_bits & 0x1:
        raise CorruptArchiveError("encrypted members are not supported", info.filename)
    if info.compress_type not in zipfile.compressor_names or info.compress_type not in (
        zipfile.ZIP_STORED,
        zipfile.ZIP_DEFLATED,
        zipfile.ZIP_BZIP2,
        zipfile.ZIP_LZMA,
    ):
        raise CorruptArchiveError(
            f"unsupported compression method {info.compress_type}", info.filename
        )


def check_data_ranges(
    path: str | os.PathLike[str], infos: list[zipfile.ZipInfo], central_dir_offset: int
) -> None:
    """Refuse overlapping entries and entries whose data runs past the central directory."""
    ranges: list[tuple[int, int, str]] = []
    with open(path, "rb") as handle:
        for info in infos:
            handle.seek(info.header_offset)
            header = handle.read(_LOCAL_HEADER.size)
            if len(header) != _LOCAL_HEADER.size:
                raise CorruptArchiveError("local header is truncated", info.filename)
            fields = _LOCAL_HEADER.unpack(header)
            if fields[0] != _LOCAL_SIGNATURE:
                raise CorruptArchiveError("bad local header signature", info.filename)
            name_length, extra_length = fields[9], fields[10]
            data_start = info.header_offset + _LOCAL_HEADER.size + name_length + extra_length
            data_end = data_start + info.compress_size
            if data_end > central_dir_offset:
                raise CorruptArchiveError(
                    "member data runs past the central directory", info.filename
                )
            ranges.append((info.header_offset, data_end, info.filename))
    ranges.sort()
    for (_, end, first), (start, _, second) in zip(ranges, ranges[1:]):
        if start < end:
            raise UnsafeArchiveError(
                second, f"overlaps the data of entry {first!r} (overlapping zip entries)"
            )


def central_directory_offset(handle: zipfile.ZipFile, archive_size: int) -> int:
    offset = getattr(handle, "start_dir", None)
    return int(offset) if isinstance(offset, int) else archive_size


class SharedZip:
    """One ``ZipFile`` read by many threads. ``ZipFile.open`` keeps a reference count of its
    file that is not thread-safe, so opening is serialised here; reading is not."""

    def __init__(self, archive: zipfile.ZipFile, path: str | os.PathLike[str]) -> None:
        self.archive = archive
        self.path = path
        self._lock = threading.Lock()

    def open(self, info: zipfile.ZipInfo) -> zipfile.ZipExtFile:
        with self._lock:
            return self.archive.open(info)
