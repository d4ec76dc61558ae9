"""What kind a tar member is, and which kinds extraction accepts.

``tar_entry_kind`` names any member's kind (``EntryKind.OTHER`` for devices, FIFOs and other
types: listed, never extracted); ``tar_kind`` is the kind of a member extraction accepts (a
folder, regular file, symlink or hardlink) and refuses any other, a sparse file included, with
``UnsafeArchiveError`` naming it. Extraction and ``verify`` both judge members by it.
"""

from __future__ import annotations

import tarfile

from ..entries import EntryKind
from ..errors import UnsafeArchiveError

#: each tar member type and its kind (``tarfile.REGULAR_TYPES`` are files, sparse ones too)
_KINDS = {
    **dict.fromkeys(tarfile.REGULAR_TYPES, EntryKind.FILE),
    tarfile.DIRTYPE: EntryKind.DIR,
    tarfile.SYMTYPE: EntryKind.SYMLINK,
    tarfile.LNKTYPE: EntryKind.HARDLINK,
}
_OTHER = EntryKind.OTHER


def tar_entry_kind(member: tarfile.TarInfo) -> EntryKind:
    """``DIR``, ``FILE``, ``SYMLINK``, ``HARDLINK``, or ``OTHER`` for any other type."""
    return _KINDS.get(member.type, _OTHER)


def tar_kind(member: tarfile.TarInfo) -> EntryKind:
    """``tar_entry_kind`` of a member extraction accepts; ``UnsafeArchiveError`` for a sparse
    file, a device, a FIFO or any other type."""
    if member.issparse():  # tarfile counts a sparse file as regular
        raise UnsafeArchiveError(member.name, "sparse files are not supported")
    kind = _KINDS.get(member.type, _OTHER)
    if kind is not _OTHER:
        return kind
    if member.ischr() or member.isblk():
        raise UnsafeArchiveError(member.name, "device files are not allowed")
    if member.isfifo():
        raise UnsafeArchiveError(member.name, "FIFOs are not allowed")
    raise UnsafeArchiveError(member.name, f"member type {member.type!r} is not allowed")
