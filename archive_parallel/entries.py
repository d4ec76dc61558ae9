"""Entry kinds, the one vocabulary of the package, and FileEntry: one thing to archive,
described from a single ``stat``."""

from __future__ import annotations

import os
import stat as statmod
from enum import StrEnum
from typing import NamedTuple


class EntryKind(StrEnum):
    """What an entry is, wherever it is met: a walk of a source tree gives ``FILE``, ``DIR``
    and ``SYMLINK`` (``WALKED_KINDS``); an archive's members may also be a ``HARDLINK`` or
    ``OTHER`` (devices, FIFOs: listed, never extracted); ``IMPLICIT_DIR`` is a folder that
    extraction creates for a member below it and that no member names. The values are the
    plain strings ``MemberInfo.kind`` compares equal to (``"file"``, ``"dir"``...)."""

    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"
    HARDLINK = "hardlink"
    OTHER = "other"
    IMPLICIT_DIR = "implicit-dir"


#: the kinds a walk of a source tree gives, that is, what ``create_archive`` writes
WALKED_KINDS = (EntryKind.FILE, EntryKind.DIR, EntryKind.SYMLINK)


class FileEntry(NamedTuple):
    """``path`` is where it lives on disk; ``name`` its member name (relative, ``/``-separated,
    no trailing slash). ``size`` is 0 for folders and links. Immutable; a named tuple rather
    than a frozen dataclass because a walk makes one per file (a frozen dataclass sets each
    field through ``object.__setattr__``: three times the cost, a sixth of a walk's time)."""

    path: str
    name: str
    kind: EntryKind
    size: int
    mode: int
    mtime: float
    uid: int = 0
    gid: int = 0
    linkname: str = ""
    #: the file the walk saw (``st_dev``, ``st_ino``); 0 where unknown. A reader checks the
    #: file it opens against them, so a file swapped after the walk (for a link to a file
    #: outside the tree, say) is never archived in its place
    dev: int = 0
    ino: int = 0
    #: the walk's ``st_mtime_ns`` and ``st_ctime_ns``; 0 where unknown. A reader compares them
    #: with the open file's once it has read it, so a file rewritten in place (same size) while
    #: being archived is refused rather than archived torn
    mtime_ns: int = 0
    ctime_ns: int = 0

    @classmethod
    def from_stat(
        cls, path: str, name: str, st: os.stat_result, kind: EntryKind, linkname: str = ""
    ) -> FileEntry:
        return cls(
            path,
            name,
            kind,
            st.st_size if kind is EntryKind.FILE else 0,
            statmod.S_IMODE(st.st_mode),
            st.st_mtime,
            st.st_uid,
            st.st_gid,
            linkname,
            st.st_dev,
            st.st_ino,
            st.st_mtime_ns,
            st.st_ctime_ns,
        )
