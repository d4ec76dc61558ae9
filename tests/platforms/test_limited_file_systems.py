"""Sources, archives and extractions on file systems that lack a feature (``limitedfs.py``
through FUSE): no inode numbers, no modes, no space, and a flush that ``syncfs`` never
reaches. Each keeps the library's promises: every file archived, every extracted file flushed,
archives written where modes cannot be kept, and nothing held open after a failure."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import pytest

from archive_parallel import ArchiveConfig, ArchiveError, ArchiveManager, durability

FILES = {"main.py": b"print('main')\n", "lib/util.py": b"X = 1\n", "lib/pkg/core.py": b"Y = 2\n"}
FAST = ArchiveConfig(durable_writes=False)


def write_tree(root: Path) -> Path:
    for name, data in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def read_tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file()
    }


def open_paths() -> list[str]:
    """What this process's descriptors point at."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            found.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:  # the listing's own descriptor, closed since
            continue
    return found


@pytest.mark.parametrize("follow_symlinks", [False, True])
def test_a_source_without_inode_numbers_is_archived_whole(limited_mount, tmp_path, follow_symlinks):
    src = write_tree(limited_mount("ino") / "src")
    assert os.stat(src / "lib").st_ino == 0
    config = ArchiveConfig(durable_writes=False, follow_symlinks=follow_symlinks)
    with ArchiveManager() as manager:
        meta = manager.create_archive(src, tmp_path / "app.tar.gz", config)
        manager.extract_archive(tmp_path / "app.tar.gz", tmp_path / "out", FAST)
    assert sorted(meta.files) == sorted(FILES)
    assert read_tree(tmp_path / "out") == FILES


def test_links_that_loop_are_found_without_inode_numbers(limited_mount, tmp_path):
    """Two links to their own folder, followed, multiply names without end unless folders are
    told apart by something other than inode numbers (their real paths)."""
    src = write_tree(limited_mount("ino") / "src")
    (src / "lib" / "again").symlink_to(".")
    (src / "lib" / "more").symlink_to(".")
    config = ArchiveConfig(durable_writes=False, follow_symlinks=True)
    with ArchiveManager() as manager:
        meta = manager.create_archive(src, tmp_path / "app.tar.gz", config)
    assert sorted(meta.files) == sorted(FILES)
    assert {reason for _, reason in meta.skipped} == {"folder loop"}


def test_a_durable_extraction_flushes_every_file_on_a_fuse_mount(limited_mount, tmp_path):
    """``syncfs`` on a FUSE mount returns without reaching the file system: each extracted
    file must be flushed by itself there, before the commit."""
    mount = limited_mount("fsynclog")
    folder = os.open(mount, os.O_RDONLY)
    try:
        assert not durability._syncfs_flushes(folder)
    finally:
        os.close(folder)
    with ArchiveManager() as manager:
        manager.create_archive(write_tree(tmp_path / "src"), tmp_path / "app.tar.gz", FAST)
        manager.extract_archive(tmp_path / "app.tar.gz", mount / "opt", ArchiveConfig())
    assert read_tree(mount / "opt") == FILES
    flushed = (mount.parent / "fsync.log").read_text().splitlines()
    for name in FILES:  # flushed under the staging folder, before the move into place
        assert any(p.startswith("/opt/.ap-staging-") and p.endswith("/" + name) for p in flushed)


def test_syncfs_still_serves_an_ordinary_file_system(tmp_path):
    folder = os.open(tmp_path, os.O_RDONLY)
    try:
        assert durability._syncfs_flushes(folder)
    finally:
        os.close(folder)


@pytest.mark.parametrize("suffix", ["tar.gz", "zip"])
def test_archives_are_written_and_extracted_where_modes_cannot_be_set(
    limited_mount, tmp_path, suffix
):
    mount = limited_mount("chmod")
    src = write_tree(tmp_path / "src")
    (src / "main.py").chmod(0o755)
    archive = mount / f"app.{suffix}"
    with ArchiveManager() as manager:
        manager.create_archive(src, archive, ArchiveConfig())
        manager.create_archive(src, archive, ArchiveConfig())  # over the first: no chmod either
        manager.extract_archive(archive, mount / "opt", ArchiveConfig())
        assert manager.verify_archive_integrity(archive)
    assert read_tree(mount / "opt") == FILES


def test_a_failed_extraction_holds_nothing_open_in_the_destination(limited_mount, tmp_path):
    """A full disk fails the extraction; the staging folder is removed and no descriptor stays
    open in it (which would keep the stick from being unmounted) even with the garbage
    collector off: nothing waits for it."""
    mount = limited_mount("enospc")
    with ArchiveManager() as manager:
        manager.create_archive(write_tree(tmp_path / "src"), tmp_path / "app.tar.gz", FAST)
        gc.disable()
        try:
            with pytest.raises(ArchiveError, match="No space left on device"):
                manager.extract_archive(tmp_path / "app.tar.gz", mount / "opt", FAST)
            held = [target for target in open_paths() if target.startswith(str(mount))]
        finally:
            gc.enable()
    assert held == []
    assert not (mount / "opt").exists()
