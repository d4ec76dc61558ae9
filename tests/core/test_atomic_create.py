"""A failed or interrupted create leaves no archive, no side file, no temporary file and no
worker thread behind."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from archive_parallel import ArchiveConfig, ArchiveManager, SourceChangedError

FORMATS = ["tar.gz", "tar.bz2", "tar.xz", "tar", "zip"]


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("parallel", [True, False])
def test_interrupt_from_progress_leaves_nothing(sample_tree, tmp_path, suffix, parallel):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    calls = []

    def interrupt(current, total):
        calls.append(current)
        if len(calls) == 3:
            raise KeyboardInterrupt

    before = set(threading.enumerate())
    m = ArchiveManager()
    cfg = ArchiveConfig(
        progress_callback=interrupt,
        enable_parallel_processing=parallel,
        parallel_threshold=1,
        parallel_min_archive_bytes=0,
        parallel_batch_size=2,
    )
    with pytest.raises(KeyboardInterrupt):
        m.create_archive(sample_tree, out_dir / f"a.{suffix}", cfg)
    assert _leftovers(out_dir) == []
    m.close()
    assert set(threading.enumerate()) <= before


@pytest.mark.parametrize("suffix", FORMATS)
def test_file_growing_while_read_is_reported(sample_tree, tmp_path, suffix):
    big = sample_tree / "big.bin"
    grown = []

    def grow(current, total):
        if current > 0 and not grown:
            with open(big, "ab") as handle:
                handle.write(b"more")
            grown.append(True)

    out_dir = tmp_path / "out"
    with ArchiveManager() as m, pytest.raises(SourceChangedError, match="big.bin"):
        m.create_archive(
            sample_tree,
            out_dir / f"a.{suffix}",
            # blocks small enough (level 1) that one reaches the archive, and so the
            # callback, while big.bin is still being read
            ArchiveConfig(
                progress_callback=grow, enable_parallel_processing=False, compression_level=1
            ),
        )
    assert not out_dir.exists()  # the folder the failed call made is gone too


def test_file_vanishing_is_reported(sample_tree, tmp_path):
    victim = sample_tree / "dir3" / "sub" / "file11.dat"
    assert victim.exists()
    gone = []

    def remove(current, total):
        if not gone:
            victim.unlink()
            gone.append(True)

    out_dir = tmp_path / "out"
    with ArchiveManager() as m, pytest.raises(SourceChangedError, match="file11.dat"):
        m.create_archive(
            sample_tree,
            out_dir / "a.zip",
            ArchiveConfig(progress_callback=remove, enable_parallel_processing=False),
        )
    assert not out_dir.exists()  # the folder the failed call made is gone too


def test_archive_inside_its_own_source(sample_tree):
    with ArchiveManager() as m:
        m.create_archive(sample_tree, sample_tree / "self.tar.gz")
        meta = m.create_archive(sample_tree, sample_tree / "self.tar.gz")
    assert "self.tar.gz" not in meta.files and "self.tar.gz.meta" not in meta.files
