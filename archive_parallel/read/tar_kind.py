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


def tar_entry_kind(member: tarfile.TarInfo) -> EntryKind:
    """``DIR``, ``FILE``, ``SYMLINK``, ``HARDLINK``, or ``OTHER`` for any other type."""
    if member.isdir():
        return EntryKind.DIR
    if member.issym():
        return EntryKind.SYMLINK
    if member.islnk():
        return EntryKind.HARDLINK
    if member.isreg():
        return EntryKind.FILE
    return EntryKind.OTHER


def tar_kind(member: tarfile.TarInfo) -> EntryKind:
    """``tar_entry_kind`` of a member extraction accepts; ``UnsafeArchiveError`` for a sparse
    file, a device, a FIFO or any other type."""
    if member.issparse():  # tarfile counts a sparse file as regular
        raise UnsafeArchiveError(member.name, "sparse files are not supported")
    kind = tar_entry_kind(member)
    if kind is not EntryKind.OTHER:
        return kind
    if member.ischr() or member.isblk():
        raise UnsafeArchiveError(member.name, "device files are not allowed")
    if member.isfifo():
        raise UnsafeArchiveError(member.name, "FIFOs are not allowed")
    raise UnsafeArchiveError(member.name, f"member type {member.type!r} is not allowed")
