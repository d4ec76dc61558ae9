"""The tar stream builder: headers from the walker's ``stat`` and content from the source
reader, written in member order into any byte sink (a parallel compressor or a plain file).

Headers are made by ``tarfile.TarInfo.tobuf`` in PAX format (long and unicode names, large
sizes) from the ``stat`` the walker already took, with user and group names cached, so
``tarfile.gettarinfo``'s per-file look-ups are never paid. The uncompressed stream depends only
on the entries (and the reproducible settings), never on thread counts, so the compressed
bytes do not either.
"""

from __future__ import annotations

import functools
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from .entries import EntryKind, FileEntry
from .source_reader import Content, LoadedFile, StreamedFile

BLOCK = tarfile.BLOCKSIZE
RECORD = tarfile.RECORDSIZE
_ZEROS = bytes(RECORD)


class ByteSink(Protocol):
    def write(self, data: bytes, /) -> object: ...


@dataclass
class TarResult:
    uncompressed_size: int = 0
    file_sha256: dict[str, str] = field(default_factory=dict)


@functools.lru_cache(maxsize=1024)
def user_name(uid: int) -> str:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return ""


@functools.lru_cache(maxsize=1024)
def group_name(gid: int) -> str:
    try:
        import grp

        return grp.getgrgid(gid).gr_name
    except (ImportError, KeyError):
        return ""


_TYPES = {
    EntryKind.FILE: tarfile.REGTYPE,
    EntryKind.DIR: tarfile.DIRTYPE,
    EntryKind.SYMLINK: tarfile.SYMTYPE,
}


_MAX7 = 8**7
_MAX11 = 8**11
_DEV_AND_PREFIX = bytes(8 + 8 + 155 + 12)
_USTAR_MAGIC = tarfile.POSIX_MAGIC


def fast_ustar_header(
    name: str,
    mode: int,
    uid: int,
    gid: int,
    size: int,
    mtime: int,
    type_byte: bytes,
    linkname: str,
    uname: str,
    gname: str,
) -> bytes | None:
    """The ustar block ``TarInfo.tobuf(PAX_FORMAT)`` makes when no PAX record is needed, built
    in one pass (most members of real trees); None when the entry needs the general path."""
    try:
        bname = name.encode("ascii")
        blink = linkname.encode("ascii")
        buname = uname.encode("ascii")
        bgname = gname.encode("ascii")
    except UnicodeEncodeError:
        return None
    if len(bname) > 100 or len(blink) > 100 or len(buname) > 32 or len(bgname) > 32:
        return None
    if not (0 <= uid < _MAX7 and 0 <= gid < _MAX7 and 0 <= size < _MAX11 and 0 <= mtime < _MAX11):
        return None
    block = b"".join(
        (
            bname.ljust(100, b"\0"),
            b"%07o\0%07o\0%07o\0%011o\0%011o\0        " % (mode & 0o7777, uid, gid, size, mtime),
            type_byte,
            blink.ljust(100, b"\0"),
            _USTAR_MAGIC,
            buname.ljust(32, b"\0"),
            bgname.ljust(32, b"\0"),
            _DEV_AND_PREFIX,
        )
    )
    return b"%s%06o\0%s" % (block[:148], sum(block), block[155:])


def tar_header(entry: FileEntry, reproducible: bool = False, fixed_mtime: int = 0) -> bytes:
    """The header block(s) of one member: the fast ustar path when it applies, else tarfile's
    general PAX encoder (long or non-ASCII names, huge sizes)."""
    if reproducible:
        mtime, uid, gid, uname, gname = fixed_mtime, 0, 0, "", ""
    else:
        mtime, uid, gid = int(entry.mtime), entry.uid, entry.gid
        uname, gname = user_name(uid), group_name(gid)
    kind = entry.kind
    name = entry.name + "/" if kind is EntryKind.DIR else entry.name
    fast = fast_ustar_header(
        name,
        entry.mode,
        uid,
        gid,
        entry.size if kind is EntryKind.FILE else 0,
        mtime,
        _TYPES[kind],
        entry.linkname,
        uname,
        gname,
    )
    if fast is not None:
        return fast
    info = tarfile.TarInfo(entry.name)
    info.type = _TYPES[entry.kind]
    info.size = entry.size if entry.kind is EntryKind.FILE else 0
    info.mode = entry.mode
    info.linkname = entry.linkname
    info.mtime, info.uid, info.gid, info.uname, info.gname = mtime, uid, gid, uname, gname
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def _padding(size: int) -> bytes:
    rest = size % BLOCK
    return _ZEROS[: BLOCK - rest] if rest else b""


def write_tar(
    sink: ByteSink,
    items: Iterable[tuple[FileEntry, Content]],
    reproducible: bool = False,
    fixed_mtime: int = 0,
) -> TarResult:
    """Write every item as a tar member into ``sink``, then the end-of-archive blocks."""
    result = TarResult()
    written = 0
    for entry, content in items:
        header = tar_header(entry, reproducible, fixed_mtime)
        sink.write(header)
        written += len(header)
        if entry.kind is EntryKind.FILE:
            result.uncompressed_size += entry.size
            if isinstance(content, LoadedFile):
                sink.write(content.data)
                sha = content.sha256
            elif isinstance(content, StreamedFile):
                for chunk in content.chunks():
                    sink.write(chunk)
                sha = content.sha256 or ""
            else:  # pragma: no cover - the reader always gives content for files
                raise TypeError(f"no content for {entry.name}")
            result.file_sha256[entry.name] = sha
            pad = _padding(entry.size)
            if pad:
                sink.write(pad)
            written += entry.size + len(pad)
    written += 2 * BLOCK
    tail = 2 * BLOCK + (-written % RECORD)
    sink.write(bytes(tail))
    return result
