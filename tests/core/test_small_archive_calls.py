"""Calls on small archives skip what only pays on large ones: the side file's archive SHA-256 is
checked in the caller for a small archive (in a worker, while extracting, for a larger one),
and a zip whose files make one batch starts no worker thread. Either way a replaced archive is
refused before anything lands, and a sound one extracts."""

from __future__ import annotations

import os

import pytest

import archive_parallel
from archive_parallel import ArchiveConfig, ArchiveManager
from archive_parallel.integrity import INLINE_ARCHIVE_HASH


@pytest.mark.parametrize("noise", [1000, INLINE_ARCHIVE_HASH + 50_000], ids=["small", "large"])
@pytest.mark.parametrize("suffix", ["zip", "tar.gz"])
def test_a_replaced_archive_is_refused_whichever_thread_hashes_it(tmp_path, noise, suffix):
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "noise.bin").write_bytes(os.urandom(noise))
    for i in range(30):
        (tree / "sub" / f"f{i}.txt").write_text(f"file {i}\n" * 20)
    archive = tmp_path / f"a.{suffix}"
    config = ArchiveConfig(
        parallel_threshold=1,
        parallel_min_archive_bytes=0,
        thread_pool_size=2,
        parallel_batch_size=4,
    )
    with ArchiveManager(config) as manager:
        manager.create_archive(tree, archive)
        size = archive.stat().st_size
        assert (size < INLINE_ARCHIVE_HASH) == (noise < INLINE_ARCHIVE_HASH)
        manager.extract_archive(archive, tmp_path / "good")
        assert (tmp_path / "good" / "noise.bin").read_bytes() == (tree / "noise.bin").read_bytes()
        side = archive.with_name(archive.name + ".meta").read_bytes()
        (tree / "sub" / "f3.txt").write_text("changed\n")
        manager.create_archive(tree, archive)
        archive.with_name(archive.name + ".meta").write_bytes(side)
        dest = tmp_path / "dest"
        with pytest.raises(archive_parallel.CorruptArchiveError, match="SHA-256"):
            manager.extract_archive(archive, dest)
        assert not dest.exists()


def test_a_small_zip_starts_no_worker_thread(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    for i in range(10):
        (tree / f"f{i}.txt").write_text(f"file {i}\n" * 50)
    archive = tmp_path / "small.zip"
    config = ArchiveConfig(
        parallel_threshold=1,
        parallel_min_archive_bytes=0,
        thread_pool_size=2,
        parallel_batch_size=50,
    )
    with ArchiveManager(config) as maker:
        maker.create_archive(tree, archive)
    with ArchiveManager(config) as manager:
        manager.extract_archive(archive, tmp_path / "out")
        assert manager.get_stats()["worker_threads"] == 0
    for i in range(10):
        assert (tmp_path / "out" / f"f{i}.txt").read_text() == f"file {i}\n" * 50


@pytest.mark.parametrize("suffix", ["tar.gz", "zip"])
def test_an_archive_under_parallel_min_archive_bytes_is_extracted_in_the_caller(tmp_path, suffix):
    tree = tmp_path / "tree"
    tree.mkdir()
    for i in range(60):  # well over parallel_threshold, well under a mebibyte
        (tree / f"f{i}.txt").write_text(f"file {i}\n" * 100)
    archive = tmp_path / f"small.{suffix}"
    with ArchiveManager() as maker:
        maker.create_archive(tree, archive)
    assert archive.stat().st_size < ArchiveConfig().parallel_min_archive_bytes
    with ArchiveManager(ArchiveConfig(thread_pool_size=2)) as manager:
        manager.extract_archive(archive, tmp_path / "out")
        stats = manager.get_stats()
        assert stats["sequential_operations"] == 1 and stats["parallel_operations"] == 0
        assert stats["worker_threads"] == 0  # the pool never started
        # the same archive over a lower limit takes the parallel path
        lower = ArchiveConfig(thread_pool_size=2, parallel_min_archive_bytes=1024)
        manager.extract_archive(archive, tmp_path / "again", lower)
        assert manager.get_stats()["parallel_operations"] == 1
    for out in ("out", "again"):
        for i in range(60):
            assert (tmp_path / out / f"f{i}.txt").read_text() == f"file {i}\n" * 100


def test_parallel_min_archive_bytes_cannot_be_negative():
    with pytest.raises(ValueError, match="parallel_min_archive_bytes"):
        ArchiveConfig(parallel_min_archive_bytes=-1)
