"""The walker: the depth-first walk and the level walk give the same entries in member-name
order, a folder reached twice through followed links is kept once (the same one each time),
and creation leaves out the archive it writes, its side file and their temporary files."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from archive_parallel import ArchiveConfig, ArchiveManager, walker
from archive_parallel.entries import EntryKind
from archive_parallel.exclusion import Excluder
from archive_parallel.pool import WorkerPool
from archive_parallel.walker import WalkOptions, WalkResult, iter_tree, walk_tree

# names whose order differs between comparing strings and comparing path parts
TRICKY = ["a/b/x/1", "a/f", "a.b/g", "a-b/c/h", "ab", "a0", "ä/x", "Z/y", "a b", "a/b.c", "a/b-c/d"]


def _tree(root: Path, names: list[str]) -> Path:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(name.encode() * 3)
    return root


def _level_walk(root: Path, options: WalkOptions):
    pool = WorkerPool()
    try:
        return walk_tree(root, options, pool.get(2)).entries
    finally:
        pool.shutdown()


def test_both_walks_give_the_entries_in_member_name_order(tmp_path):
    root = _tree(tmp_path / "src", TRICKY)
    (root / "empty").mkdir()
    (root / "link").symlink_to("a")
    level = _level_walk(root, WalkOptions())
    depth_first = list(iter_tree(root, WalkOptions()))
    assert [e.name for e in depth_first] == [e.name for e in level]
    names = [e.name for e in depth_first]
    assert names == sorted(names, key=lambda n: n.split("/"))
    assert walk_tree(root, WalkOptions()).entries == depth_first


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
    # the level walk keeps the same one: the first in name order among folders of one depth
    level = _level_walk(root, WalkOptions(follow_symlinks=True))
    assert [e.name for e in level] == names


def _many_folders(root: Path) -> Path:
    """400 files of about 1.1 KB in four folders."""
    for d in range(4):
        (root / f"part{d}").mkdir(parents=True)
        for i in range(100):
            (root / f"part{d}" / f"file{i:03}.txt").write_bytes(b"line %d of %d\n" % (i, d) * 80)
    return root


@pytest.mark.parametrize("suffix", ["zip", "tar.gz"])
def test_an_archive_written_into_a_folder_of_its_source_leaves_temporary_files_out(
    tmp_path, suffix
):
    """Neither the archive being written nor its side file is archived, nor a temporary file
    another writer left beside them."""
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


_PART = st.sampled_from(["src", "build", "a.pyc", "x.log", "cache", "b", ".DS_Store", "notes.md"])
_PATTERNS = st.lists(
    st.sampled_from(["build", "*.pyc", ".DS_Store", "src/*.log", "cache/", "[ab]", "*.md"]),
    max_size=4,
)


@given(parts=st.lists(_PART, min_size=1, max_size=5), patterns=_PATTERNS)
def test_a_walk_asks_only_the_entry_name_where_its_folders_passed(parts, patterns):
    """The walk never enters an excluded folder, so for an entry whose folders all passed,
    the walk's question (``excludes_child``) has the full rule's answer (``excludes``)."""
    excluder = Excluder(patterns)
    folders = ["/".join(parts[: i + 1]) for i in range(len(parts) - 1)]
    assume(not any(excluder.excludes(folder) for folder in folders))
    relative = "/".join(parts)
    assert excluder.excludes_child(parts[-1], relative) == excluder.excludes(relative)


def test_the_walk_applies_plain_and_glob_patterns_to_names_and_paths(tmp_path):
    root = _tree(tmp_path / "src", ["keep/a.txt", "build/x.txt", "keep/build/y.txt", "k/z.pyc"])
    options = WalkOptions(exclude_patterns=("build", "*.pyc"))
    names = [entry.name for entry in iter_tree(root, options)]
    assert names == ["k", "keep", "keep/a.txt"]


@pytest.mark.parametrize("follow", [False, True])
def test_scanning_through_folder_descriptors_finds_what_scanning_by_path_finds(
    tmp_path, monkeypatch, follow
):
    """Every kind the walk meets (files, folders, links to files, folders and nowhere, a FIFO,
    an excluded name, a file over the size limit) comes out the same whether each folder is
    scanned through its descriptor or by its path, with the same full paths."""
    if not walker.SCAN_BY_DESCRIPTOR:
        pytest.skip("this system cannot scan a folder through its descriptor")
    root = _tree(tmp_path / "src", [*TRICKY, "big/blob", "skip.tmp"])
    (root / "big" / "blob").write_bytes(b"x" * 5000)
    (root / "to-file").symlink_to("a/f")
    (root / "to-folder").symlink_to("a.b")
    (root / "dangling").symlink_to("nowhere")
    os.mkfifo(root / "a" / "pipe")
    options = WalkOptions(exclude_patterns=("*.tmp",), max_file_size=4096, follow_symlinks=follow)

    def walk() -> tuple[list, list]:
        result = WalkResult()
        entries = list(iter_tree(root, options, result.skipped))
        described = [(e.name, e.path, e.kind, e.size, e.mode, e.linkname) for e in entries]
        return described, sorted(result.skipped)

    by_descriptor = walk()
    monkeypatch.setattr(walker, "SCAN_BY_DESCRIPTOR", False)
    by_path = walk()
    assert by_descriptor == by_path
    names = {name: kind for name, _, kind, *_ in by_descriptor[0]}
    assert names["to-file"] is (EntryKind.FILE if follow else EntryKind.SYMLINK)
    assert "big/blob" not in names and "skip.tmp" not in names and "a/pipe" not in names
    assert {name for name, _ in by_descriptor[1]} >= {"big/blob", "a/pipe"}
