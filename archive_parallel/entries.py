"""FileEntry: one thing to archive, described from a single ``stat``."""

from __future__ import annotations

import stat as statmod
from dataclasses import dataclass
from enum import StrEnum


class EntryKind(StrEnum):
    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"


@dataclass(frozen=True, slots=True)
class FileEntry:
    """``path`` is where it lives on disk; ``name`` its member name (relative, ``/``-separated,
    no trailing slash). ``size`` is 0 for folders and links."""

    path: str
    name: str
    kind: EntryKind
    size: int
    mode: int
    mtime: float
    uid: int = 0
    gid: int = 0
    linkname: str = ""

    @classmethod
    def from_stat(
        cls, path: str, name: str, st: object, kind: EntryKind, linkname: str = ""
    ) -> FileEntry:
        return cls(
            path=path,
            name=name,
            kind=kind,
            size=st.st_size if kind is EntryKind.FILE else 0,  # type: ignore[attr-defined]
            mode=statmod.S_IMODE(st.st_mode),  # type: ignore[attr-defined]
            mtime=st.st_mtime,  # type: ignore[attr-defined]
            uid=st.st_uid,  # type: ignore[attr-defined]
            gid=st.st_gid,  # type: ignore[attr-defined]
            linkname=linkname,
        )
