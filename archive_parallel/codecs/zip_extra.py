"""Zip extra fields: the Info-ZIP extended timestamp (0x5455), the NTFS times (0x000a), the
zip64 sizes (0x0001) and the Info-ZIP Unicode Path (0x7075, read by ``member_name``).

The writer puts a 1-second Unix mtime in every local and central header (the DOS time has
2-second steps and no time zone); ``read_unix_mtime`` reads it back from a
``zipfile.ZipInfo`` so extraction can restore exact mtimes.

The field holds 32 bits. Info-ZIP's ``zip`` on a 64-bit system, libarchive and 7-Zip write
times after 2038-01-19 03:14:07 UTC as unsigned (up to 2106-02-07), earlier ones before 1970
as negative, and Info-ZIP's ``unzip`` tells the two apart by the member's DOS date (2038 or
later: unsigned). The writer and ``read_unix_mtime`` do the same. A time the field cannot hold
(after 2106-02-07, before 1901-12-13) is left out, so readers use the DOS date, which runs to
2107 (2-second steps, local time).

7-Zip and Windows tools write the NTFS field instead (or as well): times in 100 ns steps,
UTC. ``read_exact_mtime`` prefers it to the extended timestamp; both are UTC, so either
beats the DOS date, which is the writer's local time (a zip made in Tokyo would extract nine
hours off where clocks show UTC).
"""

from __future__ import annotations

import struct
import zlib
from typing import Any

EXTENDED_TIMESTAMP_ID = 0x5455
ZIP64_EXTRA_ID = 0x0001
_INT32_MIN, _UINT32_END = -(2**31), 2**32
#: the head of an extended timestamp field holding only the mtime (what the writer puts)
_MTIME_ONLY_FIELD = struct.pack("<HHB", EXTENDED_TIMESTAMP_ID, 5, 1)
#: from this DOS date on, a field value with its top bit set is after 2038, not before 1970
#: (Info-ZIP unzip's DOSTIME_2038_01_18)
_DOS_2038 = (2038, 1, 18, 0, 0, 0)


def extended_timestamp(mtime: float) -> bytes:
    """The 0x5455 field with only the modification time (flags bit 0), 9 bytes in all; empty
    for a time it cannot hold (see the module's docstring)."""
    seconds = int(mtime)
    if not _INT32_MIN <= seconds < _UINT32_END:
        return b""
    return struct.pack("<HHBI", EXTENDED_TIMESTAMP_ID, 5, 1, seconds % _UINT32_END)


def zip64_extra(*values: int) -> bytes:
    """The zip64 field holding ``values`` (in spec order: size, compressed size, offset)."""
    return struct.pack(f"<HH{len(values)}Q", ZIP64_EXTRA_ID, 8 * len(values), *values)


def iter_extra_fields(extra: bytes) -> list[tuple[int, bytes]]:
    """``(header id, data)`` of each well-formed field in an extra block."""
    fields = []
    pos = 0
    while pos + 4 <= len(extra):
        field_id, size = struct.unpack_from("<HH", extra, pos)
        pos += 4
        if pos + size > len(extra):
            break
        fields.append((field_id, extra[pos : pos + size]))
        pos += size
    return fields


def read_unix_mtime(zipinfo: Any) -> float | None:
    """The 1-second mtime from a ``ZipInfo``'s extended timestamp field, or None. A value
    with its top bit set is after 2038 when the member's DOS date is (``date_time``), else
    before 1970."""
    extra = bytes(getattr(zipinfo, "extra", b"") or b"")
    if extra[:5] == _MTIME_ONLY_FIELD and len(extra) >= 9:  # the writer's field, first
        raw = struct.unpack_from("<I", extra, 5)[0]
    else:
        for field_id, data in iter_extra_fields(extra):
            if field_id == EXTENDED_TIMESTAMP_ID and len(data) >= 5 and data[0] & 1:
                raw = struct.unpack_from("<I", data, 1)[0]
                break
        else:
            return None
    if raw >= 2**31 and tuple(getattr(zipinfo, "date_time", ())) < _DOS_2038:
        raw -= _UINT32_END
    return float(raw)


NTFS_EXTRA_ID = 0x000A
#: the NTFS field's header id as it appears in an extra block (little-endian)
_NTFS_TAG = struct.pack("<H", NTFS_EXTRA_ID)
#: the NTFS field's attribute holding mtime, atime and ctime (three 64-bit counts)
_NTFS_TIMES_TAG = 1
#: a Windows FILETIME counts 100 ns since 1601-01-01 UTC: these are 1970-01-01's
_FILETIME_1970 = 116_444_736_000_000_000
_FILETIME_PER_SECOND = 10_000_000
#: 10000-01-01 UTC: an NTFS time from then on is read as absent (no date can show it)
_YEAR_10000 = 253_402_300_800


def read_ntfs_mtime(zipinfo: Any) -> float | None:
    """The mtime from a ``ZipInfo``'s NTFS field (0x000a, written by 7-Zip and Windows
    tools: 4 reserved bytes, then attributes; attribute 1 holds mtime, atime and ctime as
    counts of 100 ns since 1601-01-01 UTC), or None: no field, or a time of 0 (unset) or
    from the year 10000 on."""
    extra = bytes(getattr(zipinfo, "extra", b"") or b"")
    if _NTFS_TAG not in extra:  # most zips: no field can be there
        return None
    for field_id, data in iter_extra_fields(extra):
        if field_id != NTFS_EXTRA_ID:
            continue
        for tag, value in iter_extra_fields(data[4:]):  # attributes are laid out as fields
            if tag == _NTFS_TIMES_TAG and len(value) >= 24:
                ticks = struct.unpack_from("<Q", value)[0]
                seconds = (ticks - _FILETIME_1970) / _FILETIME_PER_SECOND
                return seconds if ticks and seconds < _YEAR_10000 else None
    return None


def read_exact_mtime(zipinfo: Any) -> float | None:
    """A member's UTC mtime from its extra fields, or None (only its DOS date, local time,
    is left): the NTFS field's (100 ns, any year) before the extended timestamp's (1 s,
    1901 to 2106)."""
    exact = read_ntfs_mtime(zipinfo)
    return exact if exact is not None else read_unix_mtime(zipinfo)


UNICODE_PATH_ID = 0x7075
UTF8_FLAG = 0x800
#: the Unicode Path field's header id as it appears in an extra block (little-endian)
_UNICODE_PATH_TAG = struct.pack("<H", UNICODE_PATH_ID)


def _unicode_path(zipinfo: Any, raw_name: bytes) -> str | None:
    """The UTF-8 name from an Info-ZIP Unicode Path field (0x7075) still matching the name."""
    for field_id, data in iter_extra_fields(bytes(getattr(zipinfo, "extra", b"") or b"")):
        if field_id != UNICODE_PATH_ID or len(data) < 5 or data[0] != 1:
            continue
        if struct.unpack_from("<I", data, 1)[0] != zlib.crc32(raw_name):
            continue  # stale: the plain name was changed after the field was written
        try:
            return data[5:].decode("utf-8")
        except UnicodeDecodeError:
            return None
    return None


def member_name(zipinfo: Any) -> str:
    """A member's name as its writer meant it.

    ``zipfile`` decodes names without the UTF-8 flag as cp437, but Info-ZIP's ``zip`` writes
    UTF-8 names without that flag (adding a Unicode Path field), and Info-ZIP's ``zip`` on
    Windows and WinZip write a code-page name with ``?`` or ``_`` for each character it lacks
    (``??.txt``, plain ASCII) and the real name in that field. So, without the flag: the
    Unicode Path field's name when present and current (its CRC-32 is the stored name's),
    whatever the stored name, else the raw bytes as UTF-8 when valid, else cp437. The field's
    name is judged by the same name checks as any other (``../x`` is refused).
    ``zipfile`` also cuts a name at its first NUL byte; such a name is returned whole, NUL
    included, for the name checks to refuse (a tar name with a NUL is refused the same way).
    """
    if "\x00" in getattr(zipinfo, "orig_filename", ""):
        return zipinfo.orig_filename
    name = zipinfo.filename
    if zipinfo.flag_bits & UTF8_FLAG:
        return name
    plain = name.isascii()
    if plain and _UNICODE_PATH_TAG not in (getattr(zipinfo, "extra", b"") or b""):
        return name  # most names: no field can be there
    try:
        raw = zipinfo.orig_filename.encode("cp437")
    except UnicodeEncodeError:
        return name
    from_field = _unicode_path(zipinfo, raw)
    if from_field is not None:
        return from_field
    if plain:
        return name
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return name


__all__ = [
    "member_name",
    "EXTENDED_TIMESTAMP_ID",
    "ZIP64_EXTRA_ID",
    "NTFS_EXTRA_ID",
    "extended_timestamp",
    "iter_extra_fields",
    "read_exact_mtime",
    "read_ntfs_mtime",
    "read_unix_mtime",
    "zip64_extra",
]
