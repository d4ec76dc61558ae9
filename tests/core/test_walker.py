"""The walker: the depth-first walk and the level walk give the same entries in member-name
order, a folder reached under two names through followed links is archived under both (only
a loop is refused, and a folder under at most MAX_FOLDER_NAMES names), and creation leaves
out the archive it writes, its side file and their temporary files."""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
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


def test_a_folder_reached_under_two_names_is_archived_under_both_and_a_loop_is_not_entered(
    tmp_path, caplog
):
    root = _tree(tmp_path / "src", ["real/file.txt"])
    (root / "alias").symlink_to("real")
    (root / "real" / "loop").symlink_to("..")
    with caplog.at_level(logging.WARNING):
        skipped: list[tuple[str, str]] = []
        entries = list(iter_tree(root, WalkOptions(follow_symlinks=True), skipped))
    names = [e.name for e in entries]
    # an alias is not a loop: its contents come under both names; "loop" is the root again,
    # one of its own ancestors, so it is listed (an empty folder) and not entered
    assert names == ["alias", "alias/file.txt", "alias/loop", "real", "real/file.txt", "real/loop"]
    assert all(e.kind is EntryKind.DIR for e in entries if not e.name.endswith("file.txt"))
    assert sorted(skipped) == [("alias/loop", "folder loop"), ("real/loop", "folder loop")]
    assert caplog.text.count("folder loop") == 2
    assert [e.name for e in _level_walk(root, WalkOptions(follow_symlinks=True))] == names


def test_a_loop_deeper_down_is_refused_where_it_closes(tmp_path):
    """``a/b/up -> ../..`` is the root again: the walk enters ``a``, ``a/b``, then stops at
    ``up``; ``a/b/side -> ..`` is ``a``, an ancestor too."""
    root = _tree(tmp_path / "src", ["a/b/f"])
    (root / "a" / "b" / "up").symlink_to("../..")
    (root / "a" / "b" / "side").symlink_to("..")
    options = WalkOptions(follow_symlinks=True)
    names = [e.name for e in iter_tree(root, options)]
    assert names == ["a", "a/b", "a/b/f", "a/b/side", "a/b/up"]
    assert [e.name for e in _level_walk(root, options)] == names


def test_both_names_of_a_followed_alias_are_archived_as_gnu_tar_h_does(tmp_path):
    """``current -> shared`` beside ``shared`` (a deployment layout): ``tar -h`` archives the
    contents under both names, and so do we, in every walk."""
    root = _tree(tmp_path / "src", ["shared/conf.ini", "shared/sub/deep.txt", "top.txt"])
    (root / "current").symlink_to("shared")
    (root / "shared" / "sub" / "back").symlink_to("../../shared")  # a loop, for good measure
    listing = subprocess.run(
        ["tar", "-chf", "-", "--exclude=back", "."],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout
    expected = sorted(
        name.removeprefix("./").rstrip("/")
        for name in subprocess.run(
            ["tar", "-tf", "-"], input=listing, capture_output=True, check=True
        )
        .stdout.decode()
        .splitlines()
        if name not in ("./", ".")
    )
    config = ArchiveConfig(follow_symlinks=True, exclude_patterns=["back"])
    with ArchiveManager() as manager:
        meta = manager.create_archive(root, tmp_path / "a.tar.gz", config)
        manager.extract_archive(tmp_path / "a.tar.gz", tmp_path / "out")
    assert sorted(meta.files) == [n for n in expected if (root / n).is_file()]
    for name in ("shared", "current"):
        assert (tmp_path / "out" / name / "conf.ini").read_text() == "shared/conf.ini" * 3
        assert (tmp_path / "out" / name / "sub" / "deep.txt").is_file()
    unpacked = sorted(
        p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*")
    )
    assert unpacked == expected


def _doubling_chain(root: Path, depth: int) -> Path:
    """``d0`` .. ``d<depth>``, each ``d<k>`` holding a file and two links, ``a`` and ``b``, to
    ``d<k+1>``: ``d<k>`` is reachable under 2**k names, none of them a loop."""
    for k in range(depth + 1):
        (root / f"d{k}").mkdir(parents=True)
        (root / f"d{k}" / "f").write_bytes(b"%d" % k)
    for k in range(depth):
        for link in "ab":
            (root / f"d{k}" / link).symlink_to(f"../d{k + 1}")
    return root


def test_links_that_multiply_names_are_cut_at_max_folder_names_the_same_in_every_walk(
    tmp_path, caplog
):
    """2**20 names of ``d20`` would be archived without the guard; with it each folder's
    contents come under at most MAX_FOLDER_NAMES names (the shallowest, then in name order),
    each further name is an empty folder, and which names those are does not depend on the
    walk."""
    depth = 20
    root = _doubling_chain(tmp_path / "src", depth)
    options = WalkOptions(follow_symlinks=True)
    with caplog.at_level(logging.WARNING):
        result = walk_tree(root, options)
    names = [e.name for e in result.entries]
    assert names == [e.name for e in _level_walk(root, options)]
    assert names == [e.name for e in iter_tree(root, options)]
    assert f"already archived under {walker.MAX_FOLDER_NAMES} names" in caplog.text
    # d<k> has 2**(k+1) - 1 names (``d<k>``, ``d<k-1>/a``, ``d<k-1>/b``, ``d<k-2>/a/a``...)
    limit = walker.MAX_FOLDER_NAMES
    names_of = dict.fromkeys(range(depth + 1), 0)
    for name in names:
        if name.endswith("/f"):
            parts = name.split("/")
            names_of[int(parts[0][1:]) + len(parts) - 2] += 1
    assert names_of == {k: min(2 ** (k + 1) - 1, limit) for k in range(depth + 1)}
    assert len(names) < 3 * 2 * walker.MAX_FOLDER_NAMES * (depth + 1)


@st.composite
def _linked_trees(draw):
    """A few folders, some files, and links to folders (an alias, an ancestor, anything)."""
    folders = draw(
        st.lists(st.sampled_from(["a", "b", "a/c", "b/d", "a/c/e"]), unique=True, max_size=5)
    )
    folders = sorted({"/".join(f.split("/")[: i + 1]) for f in folders for i in range(3)})
    folders = [f for f in folders if f]
    files = draw(st.lists(st.sampled_from(["f", *[f"{d}/f" for d in folders]]), unique=True))
    places = ["", *folders]
    links = draw(
        st.lists(
            st.tuples(
                st.sampled_from(places), st.sampled_from(["l", "m"]), st.sampled_from(places)
            ),
            max_size=4,
            unique_by=lambda t: (t[0], t[1]),
        )
    )
    return folders, files, links


def _expected_walk(root: Path) -> list[str]:
    """What ``tar -h`` would archive, minus the loops: every name reachable without entering
    a folder that is one of its own ancestors (by real path)."""
    names: list[str] = []

    def visit(path: Path, rel: str, ancestors: frozenset[str]) -> None:
        for child in sorted(os.listdir(path)):
            name = f"{rel}/{child}" if rel else child
            full = path / child
            if not full.exists():
                continue  # a dangling link is skipped
            names.append(name)
            if full.is_dir() and os.path.realpath(full) not in ancestors:
                visit(full, name, ancestors | {os.path.realpath(full)})

    visit(root, "", frozenset({os.path.realpath(root)}))
    return names


@settings(max_examples=100, deadline=None)
@given(tree=_linked_trees())
def test_a_followed_walk_archives_every_name_but_loops_in_every_walk(tmp_path_factory, tree):
    folders, files, links = tree
    root = tmp_path_factory.mktemp("linked") / "src"
    root.mkdir()
    for folder in folders:
        (root / folder).mkdir(parents=True, exist_ok=True)
    for name in files:
        (root / name).write_bytes(name.encode())
    for where, link, target in links:
        if not (root / where / link).exists():
            rel_target = os.path.relpath(root / target, root / where)
            (root / where / link).symlink_to(rel_target)
    expected = _expected_walk(root)
    assume(len(expected) < 2000)
    options = WalkOptions(follow_symlinks=True)
    assert [e.name for e in iter_tree(root, options)] == expected
    assert [e.name for e in _level_walk(root, options)] == expected


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
    or backup another writer left beside them."""
    root = _many_folders(tmp_path / "src")
    (root / "dist").mkdir()
    (root / "dist" / f".app.{suffix}.ap-tmp-other-0123456789ab").write_bytes(b"stale")
    (root / "dist" / f".app.{suffix}.meta.ap-bak-other-0123456789ab").write_bytes(b"stale")
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
