"""What we write, the system's tools read; what they write, we read."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from archive_parallel import ArchiveConfig

TOOLS = {"tar.gz": ["gzip", "-t"], "tar.bz2": ["bzip2", "-t"], "tar.xz": ["xz", "-t"]}


def _run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, **kw)


@pytest.mark.parametrize("suffix", ["tar.gz", "tar.bz2", "tar.xz", "tar"])
@pytest.mark.parametrize("parallel", [True, False])
def test_system_tar_reads_ours(manager, sample_tree, tmp_path, snapshot, suffix, parallel):
    out = tmp_path / f"a.{suffix}"
    manager.create_archive(
        sample_tree,
        out,
        ArchiveConfig(
            enable_parallel_processing=parallel,
            parallel_threshold=1,
            parallel_min_archive_bytes=0,
            block_size=64 * 1024,
        ),
    )
    if suffix in TOOLS:
        _run([*TOOLS[suffix], str(out)])
    dest = tmp_path / "dest"
    dest.mkdir()
    _run(["tar", "-xf", str(out), "-C", str(dest)])
    assert snapshot(dest) == snapshot(sample_tree)


@pytest.mark.parametrize("parallel", [True, False])
def test_unzip_reads_ours(manager, sample_tree, tmp_path, snapshot, parallel):
    out = tmp_path / "a.zip"
    manager.create_archive(
        sample_tree,
        out,
        ArchiveConfig(
            enable_parallel_processing=parallel, parallel_threshold=1, parallel_min_archive_bytes=0
        ),
    )
    _run(["unzip", "-t", str(out)])
    dest = tmp_path / "dest"
    _run(["unzip", "-q", str(out), "-d", str(dest)])
    # unzip restores modes and links; mtimes to the second via the extended timestamp field
    assert snapshot(dest) == snapshot(sample_tree)


@pytest.mark.skipif(shutil.which("pigz") is None, reason="pigz not installed")
def test_pigz_reads_ours(manager, sample_tree, tmp_path):
    out = tmp_path / "a.tar.gz"
    manager.create_archive(
        sample_tree, out, ArchiveConfig(parallel_threshold=1, parallel_min_archive_bytes=0)
    )
    _run(["pigz", "-t", str(out)])


@pytest.mark.parametrize(
    "flag,suffix", [("z", "tar.gz"), ("j", "tar.bz2"), ("J", "tar.xz"), ("", "tar")]
)
def test_we_read_system_tar(manager, sample_tree, tmp_path, snapshot, flag, suffix):
    out = tmp_path / f"sys.{suffix}"
    _run(["tar", f"-c{flag}f", str(out), "-C", str(sample_tree), "."])
    assert manager.verify_archive_integrity(out)
    dest = tmp_path / "dest"
    manager.extract_archive(out, dest)
    assert snapshot(dest, exclude=set()) == snapshot(sample_tree, exclude=set())


def test_we_read_system_zip(manager, sample_tree, tmp_path, snapshot):
    out = tmp_path / "sys.zip"
    _run(["zip", "-q", "-r", "-y", str(out), "."], cwd=sample_tree)
    assert manager.verify_archive_integrity(out)
    dest = tmp_path / "dest"
    manager.extract_archive(out, dest)
    assert snapshot(dest, exclude=set()) == snapshot(sample_tree, exclude=set())
