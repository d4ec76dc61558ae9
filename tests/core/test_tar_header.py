"""The fast ustar header is byte-identical to tarfile's PAX encoder where it applies."""

from __future__ import annotations

import tarfile

from hypothesis import given, settings
from hypothesis import strategies as st

from archive_parallel.entries import WALKED_KINDS, EntryKind, FileEntry
from archive_parallel.tar_writer import tar_header


def _reference(entry: FileEntry, uname: str, gname: str) -> bytes:
    info = tarfile.TarInfo(entry.name)
    info.type = {
        EntryKind.FILE: tarfile.REGTYPE,
        EntryKind.DIR: tarfile.DIRTYPE,
        EntryKind.SYMLINK: tarfile.SYMTYPE,
    }[entry.kind]
    info.size = entry.size if entry.kind is EntryKind.FILE else 0
    info.mode, info.mtime, info.uid, info.gid = entry.mode, int(entry.mtime), entry.uid, entry.gid
    info.linkname, info.uname, info.gname = entry.linkname, uname, gname
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


@settings(max_examples=300, deadline=None)
@given(
    name=st.text(
        st.characters(min_codepoint=33, max_codepoint=0x3000, exclude_characters="/"),
        min_size=1,
        max_size=120,
    ),
    kind=st.sampled_from(WALKED_KINDS),
    size=st.one_of(st.integers(0, 10**6), st.integers(8**11 - 2, 8**11 + 5)),
    mode=st.integers(0, 0o7777),
    mtime=st.one_of(st.integers(0, 2**33), st.integers(8**11 - 2, 8**11 + 2)),
    uid=st.one_of(st.integers(0, 70000), st.integers(8**7 - 2, 8**7 + 2)),
    link=st.text(min_size=0, max_size=110),
)
def test_fast_header_matches_tarfile(name, kind, size, mode, mtime, uid, link):
    entry = FileEntry(
        "/x",
        name,
        kind,
        size if kind is EntryKind.FILE else 0,
        mode,
        mtime,
        uid,
        uid,
        link if kind is EntryKind.SYMLINK else "",
    )
    from archive_parallel.tar_writer import group_name, user_name

    assert tar_header(entry) == _reference(entry, user_name(uid), group_name(uid))


def test_reproducible_header_fixes_owner_and_time():
    entry = FileEntry("/x", "a.txt", EntryKind.FILE, 3, 0o644, 1234567890.5, 1000, 1000)
    block = tar_header(entry, reproducible=True, fixed_mtime=42)
    info = tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
    assert (info.mtime, info.uid, info.gid, info.uname, info.gname) == (42, 0, 0, "", "")
