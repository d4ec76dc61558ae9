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
from collections.abc import Callable, Iterable
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
    members: list[str] = field(default_factory=list)
    file_count: int = 0
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


def tar_header(entry: FileEntry, reproducible: bool = False, fixed_mtime: int = 0) -> bytes:
    info = tarfile.TarInfo(entry.name)
    info.type = _TYPES[entry.kind]
    info.size = entry.size if entry.kind is EntryKind.FILE else 0
    info.mode = entry.mode
    info.linkname = entry.linkname
    if reproducible:
        info.mtime = fixed_mtime
        info.uid = info.gid = 0
        info.uname = info.gname = ""
    else:
        info.mtime = int(entry.mtime)
        info.uid, info.gid = entry.uid, entry.gid
        info.uname, info.gname = user_name(entry.uid), group_name(entry.gid)
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def _padding(size: int) -> bytes:
    rest = size % BLOCK
    return _ZEROS[: BLOCK - rest] if rest else b""


def write_tar(
    sink: ByteSink,
    items: Iterable[tuple[FileEntry, Content]],
    reproducible: bool = False,
    fixed_mtime: int = 0,
    on_bytes: Callable[[int], None] | None = None,
) -> TarResult:
    """Write every item as a tar member into ``sink``, then the end-of-archive blocks."""
    result = TarResult()
    written = 0
    for entry, content in items:
        header = tar_header(entry, reproducible, fixed_mtime)
        sink.write(header)
        written += len(header)
        result.members.append(entry.name)
        if entry.kind is EntryKind.FILE:
            result.file_count += 1
            result.uncompressed_size += entry.size
            if isinstance(content, LoadedFile):
                sink.write(content.data)
                sha = content.sha256
            elif isinstance(content, StreamedFile):
                for chunk in content.chunks():
                    sink.write(chunk)
                    if on_bytes is not None:
                        on_bytes(len(chunk))
                sha = content.sha256 or ""
            else:  # pragma: no cover - the reader always gives content for files
                raise TypeError(f"no content for {entry.name}")
            result.file_sha256[entry.name] = sha
            pad = _padding(entry.size)
            if pad:
                sink.write(pad)
            written += entry.size + len(pad)
            if on_bytes is not None and isinstance(content, LoadedFile):
                on_bytes(entry.size)
        elif entry.kind is EntryKind.SYMLINK:
            result.file_count += 1
    written += 2 * BLOCK
    tail = 2 * BLOCK + (-written % RECORD)
    sink.write(bytes(tail))
    return result
