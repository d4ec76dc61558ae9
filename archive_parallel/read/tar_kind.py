"""What kind a tar member is, and which kinds extraction accepts.

``tar_entry_kind`` names any member's kind (``EntryKind.OTHER`` for devices, FIFOs and other
types: listed, never extracted); ``tar_kind`` is the kind of a member extraction accepts (a
folder, regular file, symlink or hardlink) and refuses any other, a sparse file included, with
``UnsafeArchiveError`` naming it. Extraction and ``verify`` both judge members by it.
"""

from __future__ import annotations

import tarfile

from ..display import quoted
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
#: what GNU tar's other member types hold, for the refusal: a type alone is one letter
_TYPE_WORDS = {
    b"V": "a volume label",
    b"D": "a folder listing of an incremental dump",
    b"M": "the continuation of a file from another volume",
}


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
    raise UnsafeArchiveError(member.name, f"{_type_in_words(member.type)} is not allowed")


def _type_in_words(member_type: bytes) -> str:
    """``member type 'V' (a volume label)``: the type as its character (escaped when it is
    not printable), never as a bytes repr, with what it holds when that is known."""
    shown = f"member type {quoted(member_type.decode('latin-1'))}"
    words = _TYPE_WORDS.get(member_type)
    return f"{shown} ({words})" if words else shown
