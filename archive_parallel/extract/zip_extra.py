"""The Info-ZIP extended timestamp (extra field 0x5455): a zip member's exact unix mtime.

A small parser kept inside the extract package until ``archive_parallel.codecs.zip_extra``
lands on main; same signature: ``read_unix_mtime(zipinfo) -> float | None``.
"""

from __future__ import annotations

import struct
import zipfile

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
