"""Parsing an ordinary tar header block quickly, and leaving every other block to ``tarfile``.

``tarfile.TarInfo.frombuf`` spends most of its time on the header checksum (it unpacks the
block into two tuples of 504 numbers and sums both, for the unsigned and the signed sum) and
on eight calls of ``nti``, one per number field. On a package of a few thousand small files
that is tens of milliseconds of the calling thread, on every read of the archive.

``parse_block`` reads the ordinary block the same way with less work: one ``struct`` unpack,
each octal field converted by ``int(field, 8)`` on the bytes themselves, and the unsigned
checksum taken from ``zlib.adler32``, whose low half is one plus the sum of the bytes modulo
65,521, which is the exact sum for a run of at most 256 bytes (at most 65,280). It answers
None for any other block: a number in base-256 or not octal, a checksum that only the signed
sum matches or none does, an empty, short or all-zero block, an old GNU sparse header. The
caller then asks ``tarfile``, so every answer, errors included, is ``tarfile``'s own.
"""

from __future__ import annotations

import struct
import tarfile
import zlib
from typing import TypeVar

_Info = TypeVar("_Info", bound=tarfile.TarInfo)

#: name, mode, uid, gid, size, mtime, chksum, type, linkname, (magic and version skipped),
#: uname, gname, devmajor, devminor, prefix, (12 bytes of padding)
_BLOCK = struct.Struct("100s8s8s8s12s12s8s1s100s8x32s32s8s8s155s12x")
#: the checksum counts its own 8 bytes (148-156) as spaces
_CHECKSUM_FIELD_AS_SPACES = 8 * ord(" ")
_NUL = b"\0"


def _octal(field: bytes) -> int:
    """The number in an octal field, as ``tarfile.nti`` reads it; ValueError where ``int``
    refuses it (base-256, any byte past ASCII, stray characters)."""
    return int(field.partition(_NUL)[0] or b"0", 8)


def _unsigned_checksum(block: bytes) -> int:
    view = memoryview(block)
    return (
        (zlib.adler32(view[0:148]) & 0xFFFF)
        + (zlib.adler32(view[156:412]) & 0xFFFF)
        + (zlib.adler32(view[412:512]) & 0xFFFF)
        - 3
        + _CHECKSUM_FIELD_AS_SPACES
    )


def parse_block(
    cls: type[_Info], block: bytes, encoding: str, errors: str, dircheck: bool = True
) -> _Info | None:
    """``cls.frombuf``'s answer for an ordinary header block, or None to ask ``tarfile``.
    ``dircheck`` is ``tarfile``'s own (releases from mid-2025 on): False for the header that
    follows an extended one, whose name ending in ``/`` does not make it a folder."""
    try:
        (
            name,
            mode,
            uid,
            gid,
            size,
            mtime,
            checksum,
            kind,
            linkname,
            uname,
            gname,
            devmajor,
            devminor,
            prefix,
        ) = _BLOCK.unpack(block)
        stored_checksum = _octal(checksum)
        if stored_checksum != _unsigned_checksum(block) or kind == tarfile.GNUTYPE_SPARSE:
            return None
        numbers = [_octal(field) for field in (mode, uid, gid, size, mtime, devmajor, devminor)]
    except (ValueError, struct.error):
        return None
    info = cls()
    info.mode, info.uid, info.gid, info.size, info.mtime, info.devmajor, info.devminor = numbers
    info.chksum = stored_checksum
    info.type = kind
    info.linkname = linkname.partition(_NUL)[0].decode(encoding, errors)
    info.uname = uname.partition(_NUL)[0].decode(encoding, errors)
    info.gname = gname.partition(_NUL)[0].decode(encoding, errors)
    text = name.partition(_NUL)[0].decode(encoding, errors)
    if dircheck and kind == tarfile.AREGTYPE and text.endswith("/"):
        info.type = tarfile.DIRTYPE  # the old V7 way of writing a directory
    if info.isdir():
        text = text.rstrip("/")
    head = prefix.partition(_NUL)[0].decode(encoding, errors)
    if head and info.type not in tarfile.GNU_TYPES:
        text = head + "/" + text  # a ustar name longer than 100 bytes
    info.name = text
    return info


__all__ = ["parse_block"]
