"""The walk as a stream: ``iter_tree`` yields entries in the order the level walk sorts them,
each folder scanned only when it is reached, and zip creation compresses its first files while
the walk is still going on, with the same archive, the same side file and the same refusals.
"""

from __future__ import annotations

import logging
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from archive_parallel import (
    ArchiveConfig,
    ArchiveManager,
    UnarchivableNameError,
    source_reader,
    walker,
)
from archive_parallel.entries import EntryKind, FileEntry
from archive_parallel.entry_tally import EntryTally
from archive_parallel.metadata import load_metadata
from archive_parallel.pool import WorkerPool
from archive_parallel.walker import WalkOptions, iter_tree, walk_tree

# names whose order differs between comparing strings and comparing path parts
TRICKY = ["a/b/x/1", "a/f", "a.b/g", "a-b/c/h", "ab", "a0", "ä/x", "Z/y", "a b", "a/b.c", "a/b-c/d"]


def _tree(root: Path, names: list[str]) -> Path:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(name.encode() * 3)
    return root


def test_the_stream_comes_in_the_level_walks_order(tmp_path):
    root = _tree(tmp_path / "src", TRICKY)
    (root / "empty").mkdir()
    (root / "link").symlink_to("a")
    pool = WorkerPool()
    try:
        level = walk_tree(root, WalkOptions(), pool.get(2)).entries
    finally:
        pool.shutdown()
    streamed = list(iter_tree(root, WalkOptions()))
    assert [e.name for e in streamed] == [e.name for e in level]
    assert [e.name for e in streamed] == sorted((e.name for e in level), key=lambda n: n.split("/"))
    assert walk_tree(root, WalkOptions()).entries == streamed


def test_a_folder_is_scanned_only_when_the_stream_reaches_it(tmp_path, monkeypatch):
    root = _tree(tmp_path / "src", [f"{d}/{i}.txt" for d in "abc" for i in range(3)])
    scanned: list[str] = []
    real_scan = walker._scan_dir

    def counting_scan(path, prefix, options, excluder):
        scanned.append(prefix)
        return real_scan(path, prefix, options, excluder)

    monkeypatch.setattr(walker, "_scan_dir", counting_scan)
    stream = iter_tree(root, WalkOptions())
    assert next(stream).name == "a"
    assert scanned == [""]
    assert [next(stream).name for _ in range(4)] == ["a/0.txt", "a/1.txt", "a/2.txt", "b"]
    assert scanned == ["", "a"]
    rest = list(stream)
    assert scanned == ["", "a", "b", "c"] and rest[-1].name == "c/2.txt"


def test_a_folder_reached_twice_through_links_is_kept_once_first_in_name_order(tmp_path, caplog):
    root = _tree(tmp_path / "src", ["real/file.txt"])
    (root / "alias").symlink_to("real")
    (root / "real" / "loop").symlink_to("..")
    with caplog.at_level(logging.WARNING):
        entries = list(iter_tree(root, WalkOptions(follow_symlinks=True)))
    names = [e.name for e in entries]
    # "alias" sorts first, so its contents are kept; "real" is listed, not followed again
    assert names == ["alias", "alias/file.txt", "alias/loop", "real"]
    assert all(e.kind is EntryKind.DIR for e in entries if e.name != "alias/file.txt")
    assert "folder loop" in caplog.text


def _entry(name: str, kind: EntryKind = EntryKind.FILE, size: int = 10) -> FileEntry:
    return FileEntry(f"/src/{name}", name, kind, size if kind is EntryKind.FILE else 0, 0o644, 0)


def test_a_tally_peeks_ahead_without_losing_entries():
    entries = [_entry("d", EntryKind.DIR), _entry("d/a"), _entry("d/l", EntryKind.SYMLINK)]
    entries += [_entry(f"f{i}", size=i) for i in range(5)]
    tally = EntryTally(iter(entries)).peek(2)
    assert (tally.file_count, tally.complete) == (2, False)
    assert list(tally) == entries
    assert tally.complete and tally.file_count == 7
    assert tally.files == ["d/a", "d/l", "f0", "f1", "f2", "f3", "f4"]
    assert tally.total_bytes == 10 + sum(range(5))
    short = EntryTally(iter(entries[:2])).peek(50)
    assert short.complete and short.file_count == 1 and list(short) == entries[:2]
    assert EntryTally(iter(entries)).peek().complete


def _many_folders(root: Path) -> Path:
    """400 files of about 1.1 KB in four folders."""
    for d in range(4):
        (root / f"part{d}").mkdir(parents=True)
        for i in range(100):
            (root / f"part{d}" / f"file{i:03}.txt").write_bytes(b"line %d of %d\n" % (i, d) * 80)
    return root


@pytest.mark.parametrize("suffix", ["zip", "tar.gz", "tar.xz"])
def test_creation_compresses_while_the_walk_goes_on(tmp_path, monkeypatch, suffix):
    """Sequential, so the order of events is fixed: the first batch of files is read and
    compressed before the last folder is scanned (a tar.gz once the walk has found four
    blocks' worth)."""
    root = _many_folders(tmp_path / "src")
    events: list[str] = []
    real_scan, real_read = walker._scan_dir, source_reader.read_small_file

    def scan(path, prefix, options, excluder):
        events.append(f"scan {prefix}")
        return real_scan(path, prefix, options, excluder)

    def read(entry):
        events.append("read")
        return real_read(entry)

    monkeypatch.setattr(walker, "_scan_dir", scan)
    monkeypatch.setattr(source_reader, "read_small_file", read)
    archive = tmp_path / f"out.{suffix}"
    config = ArchiveConfig(enable_parallel_processing=False, block_size=64 * 1024)
    with ArchiveManager() as manager:
        meta = manager.create_archive(root, archive, config)
        stats = manager.get_stats()
    assert events.index("read") < events.index("scan part3")
    assert meta.file_count == 400 and len(meta.files) == 400
    assert stats["timing_stats"]["file_collection"]["count"] == 1
    if suffix == "zip":
        with zipfile.ZipFile(archive) as zf:
            assert zf.testzip() is None
            names = [i.filename for i in zf.infolist() if not i.is_dir()]
    else:
        with tarfile.open(archive) as tar:
            names = [m.name for m in tar if not m.isdir()]
    assert names == meta.files


@pytest.mark.parametrize("suffix", ["zip", "tar.gz", "tar.bz2", "tar.xz", "tar"])
@pytest.mark.parametrize("threads", [1, 2, 4])
def test_a_streamed_archive_is_the_same_as_one_from_the_whole_walk(tmp_path, threads, suffix):
    """A progress callback takes the whole walk first; the archive is the same either way. The
    small block size makes the tree (about 450 KB) more than a tar.gz needs to know before it
    starts with full-sized blocks."""
    root = _many_folders(tmp_path / "src")
    (root / "part2" / "link").symlink_to("file001.txt")
    made = {}
    for label, callback in (("streamed", None), ("whole", lambda current, total: None)):
        config = ArchiveConfig(
            thread_pool_size=threads,
            enable_parallel_processing=threads > 1,
            progress_callback=callback,
            reproducible=True,
            block_size=64 * 1024,
        )
        archive = tmp_path / f"{label}.{suffix}"
        with ArchiveManager() as manager:
            manager.create_archive(root, archive, config)
        meta = load_metadata(archive)
        made[label] = (archive.read_bytes(), meta.files, meta.file_checksums, meta.file_count)
    assert made["streamed"] == made["whole"]


def test_a_bad_name_late_in_a_streamed_zip_refuses_it_and_leaves_nothing(tmp_path):
    root = _many_folders(tmp_path / "src")
    bad = root / "part3" / "zz\x1b[2J.txt"
    bad.write_bytes(b"x")
    out = tmp_path / "out"
    out.mkdir()
    (out / "app.zip").write_bytes(b"the previous archive")
    with ArchiveManager() as manager, pytest.raises(UnarchivableNameError) as raised:
        manager.create_archive(root, out / "app.zip", ArchiveConfig(thread_pool_size=2))
    assert "zz" in str(raised.value)
    assert sorted(os.listdir(out)) == ["app.zip"]
    assert (out / "app.zip").read_bytes() == b"the previous archive"


@pytest.mark.parametrize("suffix", ["zip", "tar.gz"])
def test_an_archive_written_into_a_folder_of_its_source_leaves_its_temporary_file_out(
    tmp_path, suffix
):
    """The walk reaches the archive's folder after the temporary archive was opened there:
    neither it nor the side file's temporary file (nor a stale one) is archived."""
    root = _many_folders(tmp_path / "src")
    (root / "dist").mkdir()
    (root / "dist" / f".app.{suffix}.ap-tmp-other-0123456789ab").write_bytes(b"stale")
    (root / "dist" / "notes.txt").write_bytes(b"kept")
    archive = root / "dist" / f"app.{suffix}"
    config = ArchiveConfig(thread_pool_size=2, block_size=64 * 1024)
    with ArchiveManager() as manager:
        for _ in range(2):  # the second run finds the first archive and its side file
            meta = manager.create_archive(root, archive, config)
    assert [name for name in meta.files if name.startswith("dist/")] == ["dist/notes.txt"]
    assert meta.file_count == 401
