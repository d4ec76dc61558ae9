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

#: the modes extraction creates a file and a folder with where the archive gives none (a zip
#: made on Windows), or where modes are not kept: the umask in force applies, as for ``open``
#: and ``mkdir``
NEW_FILE_MODE = 0o666
NEW_FOLDER_MODE = 0o777
#: the umask assumed where the system cannot tell it without changing it
_USUAL_UMASK = 0o022


def known_umask() -> int | None:
    """The umask in force where the system tells it without changing it (Linux's
    ``/proc/self/status``; ``os.umask`` would change it for every thread meanwhile), else
    None."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return None


def process_umask() -> int:
    """The umask in force (``known_umask``), else the usual ``0o022``."""
    umask = known_umask()
    return _USUAL_UMASK if umask is None else umask


def unstated_mode(kind: EntryKind, umask: int) -> int:
    """The mode extraction gives a member of ``kind`` whose archive states none:
    ``NEW_FOLDER_MODE`` for a folder, else ``NEW_FILE_MODE``, less ``umask``."""
    return (NEW_FOLDER_MODE if kind is EntryKind.DIR else NEW_FILE_MODE) & ~umask


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
