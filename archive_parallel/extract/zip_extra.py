"""Zip extra fields: the Info-ZIP extended timestamp (0x5455, a member's exact unix mtime)
and the Unicode Path field (0x7075, the UTF-8 name of a member whose name lacks the UTF-8 flag).

A small parser kept inside the extract package until ``archive_parallel.codecs.zip_extra``
lands on main; same signature: ``read_unix_mtime(zipinfo) -> float | None``.
"""

from __future__ import annotations

import struct
import zipfile
import zlib

EXTENDED_TIMESTAMP_ID = 0x5455


def read_unix_mtime(info: zipfile.ZipInfo) -> float | None:
    """The member's mtime from its 0x5455 extra field, or None when it has none."""
    extra = info.extra or b""
    offset = 0
    while offset + 4 <= len(extra):
        header_id, size = struct.unpack_from("<HH", extra, offset)
        body = extra[offset + 4 : offset + 4 + size]
        offset += 4 + size
        if header_id != EXTENDED_TIMESTAMP_ID or len(body) < 5:
            continue
        if body[0] & 1:  # bit 0: modification time present, and it comes first
            return float(struct.unpack_from("<i", body, 1)[0])
    return None


UNICODE_PATH_ID = 0x7075
UTF8_FLAG = 0x800


def _unicode_path_extra(info: zipfile.ZipInfo, raw_name: bytes) -> str | None:
    extra = info.extra or b""
    offset = 0
    while offset + 4 <= len(extra):
        header_id, size = struct.unpack_from("<HH", extra, offset)
        body = extra[offset + 4 : offset + 4 + size]
        offset += 4 + size
        if header_id != UNICODE_PATH_ID or len(body) < 5 or body[0] != 1:
            continue
        if struct.unpack_from("<I", body, 1)[0] != zlib.crc32(raw_name):
            continue  # stale: the plain name was changed after the extra was written
        try:
            return body[5:].decode("utf-8")
        except UnicodeDecodeError:
            return None
    return None


def member_name(info: zipfile.ZipInfo) -> str:
    """The member's name as its writer meant it.

    ``zipfile`` decodes names without the UTF-8 flag as cp437. Info-ZIP's ``zip`` writes UTF-8
    names without that flag (adding a Unicode Path extra field 0x7075), so: the extra field's
    name when present and current, else the cp437 bytes read as UTF-8 when they are valid
    UTF-8, else zipfile's cp437 reading.
    """
    name = info.filename
    if info.flag_bits & UTF8_FLAG or name.isascii():
        return name
    try:
        raw = info.orig_filename.encode("cp437")
    except UnicodeEncodeError:
        return name
    from_extra = _unicode_path_extra(info, raw)
    if from_extra is not None:
        return from_extra
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return name
