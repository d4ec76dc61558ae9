"""Hostile archives that attack the extraction's own machinery rather than the destination's
names: a member named like a staging folder, a tree nested deeper than any walk of it can go,
a chain of links longer than the resolver follows, a zip whose damaged central directory hides
entries, junk after a bzip2 or xz stream, and a zip name cut at a NUL byte. Each one is
refused with a clear ``ArchiveError`` naming what is wrong, and nothing is left behind."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import pytest
from extract_helpers import (
    ALL_FORMATS,
    SUFFIX,
    Entry,
    fmt_id,
    staging_leftovers,
    write_archive,
)

from archive_parallel import (
    ArchiveConfig,
    ArchiveManager,
    CorruptArchiveError,
    UnsafeArchiveError,
)
from archive_parallel.formats import CompressionFormat
from archive_parallel.leftovers import STAGING_PREFIX, owner_tag, remove_stale
from archive_parallel.safety import MAX_NAME_DEPTH

PATHS = {
    "sequential": ArchiveConfig(enable_parallel_processing=False),
    "parallel": ArchiveConfig(
        thread_pool_size=2,
        parallel_threshold=1,
        parallel_batch_size=1,
        parallel_min_archive_bytes=0,
    ),
}


def _extract(archive: Path, dest: Path, path: str) -> None:
    with ArchiveManager() as manager:
        manager.extract_archive(archive, dest, PATHS[path])


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("fmt", ALL_FORMATS, ids=fmt_id)
def test_a_member_named_like_a_staging_folder_is_refused(tmp_path, fmt, path):
    """The checks of a destination's links skip its staging folders, and stale ones are
    removed by the next extraction: an archive may not plant one of its own."""
    planted = f"{STAGING_PREFIX}q"
    archive = write_archive(
        tmp_path / f"a{SUFFIX[fmt]}",
        fmt,
        [Entry(planted, "dir", mode=0o755), Entry(f"{planted}/l", "symlink", linkname="../x")],
    )
    dest = tmp_path / "dest"
    with pytest.raises(UnsafeArchiveError, match="reserved for extraction's own work") as caught:
        _extract(archive, dest, path)
    assert caught.value.member.rstrip("/") == planted
    assert not dest.exists()


@pytest.mark.parametrize("fmt", [CompressionFormat.TAR_GZ, CompressionFormat.ZIP], ids=fmt_id)
def test_the_staging_prefix_deeper_in_the_tree_is_an_ordinary_name(tmp_path, fmt):
    name = f"docs/{STAGING_PREFIX}notes.txt"
    archive = write_archive(tmp_path / f"a{SUFFIX[fmt]}", fmt, [Entry(name, data=b"kept")])
    _extract(archive, tmp_path / "dest", "sequential")
    assert (tmp_path / "dest" / name).read_bytes() == b"kept"


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("fmt", [CompressionFormat.TAR_GZ, CompressionFormat.ZIP], ids=fmt_id)
def test_a_tree_nested_too_deep_is_refused_before_it_is_staged(tmp_path, fmt, path):
    """1,100 folders deep fits the 4,096-byte name limit, but no recursive walk (removing a
    failed staging folder, merging into the destination) gets through it."""
    deep = "a/" * 1100 + "f"
    archive = write_archive(
        tmp_path / f"a{SUFFIX[fmt]}", fmt, [Entry(deep, data=b"x"), Entry("ok.txt", data=b"y")]
    )
    dest = tmp_path / "dest"
    with pytest.raises(UnsafeArchiveError, match=f"nested more than {MAX_NAME_DEPTH} folders"):
        _extract(archive, dest, path)
    assert not dest.exists()


def test_the_depth_limit_is_exact_and_a_tree_at_it_extracts_and_extracts_again(tmp_path):
    at_limit = "d/" * (MAX_NAME_DEPTH - 1) + "f"
    archive = write_archive(
        tmp_path / "a.tar.gz", CompressionFormat.TAR_GZ, [Entry(at_limit, data=b"deep")]
    )
    dest = tmp_path / "dest"
    for _ in range(2):  # the second time merges into the tree the first one made
        _extract(archive, dest, "parallel")
        assert (dest / at_limit).read_bytes() == b"deep"
    over = write_archive(
        tmp_path / "b.tar.gz", CompressionFormat.TAR_GZ, [Entry("d/" + at_limit, data=b"x")]
    )
    with pytest.raises(UnsafeArchiveError, match="folders deep"):
        _extract(over, dest, "parallel")
    assert staging_leftovers(dest) == []


def test_a_stale_staging_folder_too_deep_to_walk_does_not_stop_later_extractions(tmp_path):
    """A killed run's leftover is removed by the next extraction into the same destination;
    one too deep for the recursive removal is left (with a debug line), not fatal."""
    dest = tmp_path / "dest"
    host = owner_tag().split("-")[0]
    stale = dest / f"{STAGING_PREFIX}{host}-3ffffe-abcdef"  # this host, a process long gone
    folders = [stale.joinpath(*["n"] * depth) for depth in range(1101)]
    dest.mkdir()
    for folder in folders:  # one by one: pathlib's mkdir(parents=True) recurses too
        folder.mkdir()
    try:
        assert remove_stale(dest, STAGING_PREFIX, folders=True) == []
        archive = write_archive(
            tmp_path / "a.zip", CompressionFormat.ZIP, [Entry("fine.txt", data=b"ok")]
        )
        _extract(archive, dest, "sequential")
        assert (dest / "fine.txt").read_bytes() == b"ok"
    finally:  # deepest first, so that pytest's own clean-up does not recurse through it
        for folder in reversed(folders):
            folder.rmdir()


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("fmt", [CompressionFormat.TAR, CompressionFormat.ZIP], ids=fmt_id)
def test_a_chain_of_links_longer_than_the_resolver_follows_is_refused(tmp_path, fmt, path):
    chain = [Entry(f"s{i}", "symlink", linkname=f"s{i + 1}") for i in range(1200)]
    archive = write_archive(
        tmp_path / f"a{SUFFIX[fmt]}", fmt, [*chain, Entry("s1200", data=b"end")]
    )
    dest = tmp_path / "dest"
    with pytest.raises(UnsafeArchiveError, match="more than 40 symlinks"):
        _extract(archive, dest, path)
    assert not dest.exists()


@pytest.mark.parametrize("fmt", [CompressionFormat.TAR, CompressionFormat.ZIP], ids=fmt_id)
def test_links_are_followed_as_far_as_the_system_follows_them(tmp_path, fmt):
    """40 links deep opens (the system's own limit); a 41st link on the way is refused."""

    def chain(length: int) -> list[Entry]:
        links = [Entry(f"s{i}", "symlink", linkname=f"s{i + 1}") for i in range(length)]
        return [*links, Entry(f"s{length}", data=b"end")]

    archive = write_archive(tmp_path / f"a{SUFFIX[fmt]}", fmt, chain(40))
    _extract(archive, tmp_path / "dest", "parallel")
    assert (tmp_path / "dest" / "s0").read_bytes() == b"end"  # the system follows it too
    longer = write_archive(tmp_path / f"b{SUFFIX[fmt]}", fmt, chain(41))
    with pytest.raises(UnsafeArchiveError, match="more than 40 symlinks") as caught:
        _extract(longer, tmp_path / "dest2", "parallel")
    assert caught.value.member == "s0"


def _four_member_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in ("a.txt", "b.txt", "c.txt", "d.txt"):
            archive.writestr(name, name * 100)
    return path


def _central_entry(data: bytes, index: int) -> int:
    """The offset of the central directory's ``index``-th entry."""
    offset = -1
    for _ in range(index + 1):
        offset = data.index(b"PK\x01\x02", offset + 1)
    return offset


@pytest.mark.parametrize("field", ["comment", "extra"])
def test_a_damaged_length_in_the_central_directory_does_not_hide_members(tmp_path, field):
    """Python's zipfile stops reading the central directory early when one entry's comment
    or extra length runs past it: the members after it would silently vanish."""
    archive = _four_member_zip(tmp_path / "a.zip")
    data = bytearray(archive.read_bytes())
    field_at = _central_entry(data, 0) + (32 if field == "comment" else 30)
    struct.pack_into("<H", data, field_at, 0xFF00)
    archive.write_bytes(bytes(data))
    manager = ArchiveManager()
    # a comment runs silently past the directory; an extra field may fail to parse at once
    says = "end record says 4" if field == "comment" else "damaged"
    assert manager.verify_archive_integrity(archive) is False
    with pytest.raises(CorruptArchiveError, match=says):
        manager.list_archive(archive)
    for path in PATHS:
        with pytest.raises(CorruptArchiveError, match=says):
            _extract(archive, tmp_path / "dest", path)
    assert not (tmp_path / "dest").exists()


def test_an_end_record_claiming_more_entries_than_there_are_is_damage(tmp_path):
    archive = _four_member_zip(tmp_path / "a.zip")
    data = bytearray(archive.read_bytes())
    end = data.rindex(b"PK\x05\x06")
    struct.pack_into("<HH", data, end + 8, 60000, 60000)  # entries here, entries in all
    archive.write_bytes(bytes(data))
    assert ArchiveManager().verify_archive_integrity(archive) is False
    with pytest.raises(CorruptArchiveError, match="holds 4 entries where its end record"):
        _extract(archive, tmp_path / "dest", "sequential")


def test_a_sound_zip_still_reads(tmp_path):
    archive = _four_member_zip(tmp_path / "a.zip")
    assert ArchiveManager().verify_archive_integrity(archive)
    _extract(archive, tmp_path / "dest", "parallel")
    assert sorted(p.name for p in (tmp_path / "dest").iterdir()) == [
        "a.txt", "b.txt", "c.txt", "d.txt"
    ]  # fmt: skip


@pytest.mark.parametrize("fmt", [CompressionFormat.TAR_BZ2, CompressionFormat.TAR_XZ], ids=fmt_id)
def test_junk_after_the_last_stream_is_damage(tmp_path, fmt):
    """As for a tar.gz or a tar.zst: bytes after the compressed data that are no stream."""
    archive = write_archive(tmp_path / f"a{SUFFIX[fmt]}", fmt, [Entry("a.txt", data=b"a" * 999)])
    with open(archive, "ab") as handle:
        handle.write(b"appended by something else, not a stream " * 4)
    assert ArchiveManager().verify_archive_integrity(archive) is False
    for path in PATHS:
        with pytest.raises(CorruptArchiveError):
            _extract(archive, tmp_path / "dest", path)
    assert not (tmp_path / "dest").exists()


@pytest.mark.parametrize("fmt", [CompressionFormat.TAR_BZ2, CompressionFormat.TAR_XZ], ids=fmt_id)
def test_streams_one_after_another_still_read_as_one(tmp_path, fmt):
    first = write_archive(tmp_path / f"a{SUFFIX[fmt]}", fmt, [Entry("a.txt", data=b"a" * 999)])
    whole = tmp_path / f"twice{SUFFIX[fmt]}"
    raw = first.read_bytes()
    whole.write_bytes(raw + write_archive(tmp_path / f"e{SUFFIX[fmt]}", fmt, []).read_bytes())
    assert ArchiveManager().verify_archive_integrity(whole)
    _extract(whole, tmp_path / "dest", "sequential")
    assert (tmp_path / "dest" / "a.txt").read_bytes() == b"a" * 999


def test_a_zip_name_holding_a_nul_is_refused_whole(tmp_path):
    """zipfile cuts such a name at the NUL (``conf\\0g.json`` would land as ``conf``); a tar
    name with a NUL is refused, and so is this one, under its whole name."""
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as handle:  # zipfile would write the cut name
        handle.writestr("confXg.json", b"{}")
    archive.write_bytes(archive.read_bytes().replace(b"confXg.json", b"conf\x00g.json"))
    names = [member.name for member in ArchiveManager().list_archive(archive)]
    assert names == ["conf\x00g.json"]
    for path in PATHS:
        with pytest.raises(UnsafeArchiveError, match="NUL") as caught:
            _extract(archive, tmp_path / "dest", path)
        assert caught.value.member == "conf\x00g.json"
    assert not (tmp_path / "dest").exists()
