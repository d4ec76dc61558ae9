"""Issue 7, item 4: faults while extracting. A destination that fills up, cannot be written or
cannot be created, and a Ctrl-C from the progress callback mid-run: the destination is left
exactly as it was, no staging folder remains and no worker thread is left running. The tests
run as root, so "unwritable" uses real tiny or read-only file systems (tmpfs), skipped when
mounting is not permitted."""

from __future__ import annotations

import os
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from extract_helpers import (
    SUFFIX,
    Entry,
    fmt_id,
    run_extract,
    snapshot,
    staging_leftovers,
    write_archive,
)

from archive_parallel.errors import ArchiveError, CorruptArchiveError, UnsafeArchiveError
from archive_parallel.formats import CompressionFormat

FORMATS = [CompressionFormat.TAR_GZ, CompressionFormat.TAR, CompressionFormat.ZIP]


def _mount_tmpfs(path: Path, options: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True
    )
    return result.returncode == 0


@pytest.fixture
def tiny_fs(tmp_path):
    """A 1 MiB tmpfs holding a destination with one file already in it."""
    mount = tmp_path / "tiny"
    if not _mount_tmpfs(mount, "size=1m"):
        pytest.skip("mounting a tmpfs is not permitted here")
    try:
        (mount / "dest").mkdir()
        (mount / "dest" / "existing.txt").write_text("already here")
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.parametrize("fmt", FORMATS, ids=fmt_id)
@pytest.mark.parametrize("parallel", [True, False], ids=["threads", "inline"])
def test_disk_full_leaves_destination_as_it_was(tiny_fs, tmp_path, fmt, parallel, executor):
    entries = [Entry(f"part{i}.bin", data=os.urandom(300_000)) for i in range(3)]
    entries += [Entry("big.bin", data=os.urandom(1_500_000))]
    archive = write_archive(tmp_path / f"a{SUFFIX[fmt]}", fmt, entries)
    before, free_before = snapshot(tiny_fs), os.statvfs(tiny_fs).f_bfree
    with pytest.raises(ArchiveError) as caught:
        run_extract(archive, tiny_fs / "dest", fmt, executor if parallel else None)
    assert not isinstance(caught.value, (CorruptArchiveError, UnsafeArchiveError))
    assert "space" in str(caught.value).lower()
    assert snapshot(tiny_fs) == before
    assert staging_leftovers(tiny_fs / "dest") == []
    assert os.statvfs(tiny_fs).f_bfree == free_before


def test_read_only_destination(tmp_path):
    mount = tmp_path / "ro"
    if not _mount_tmpfs(mount, "size=1m,ro"):
        pytest.skip("mounting a tmpfs is not permitted here")
    try:
        archive = write_archive(
            tmp_path / "a.zip", CompressionFormat.ZIP, [Entry("a.txt", data=b"x")]
        )
        with pytest.raises(ArchiveError) as caught:
            run_extract(archive, mount, CompressionFormat.ZIP)
        assert "read-only" in str(caught.value).lower()
        assert os.listdir(mount) == []
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.parametrize("fmt", FORMATS, ids=fmt_id)
def test_destination_under_a_file(tmp_path, fmt):
    archive = write_archive(tmp_path / f"a{SUFFIX[fmt]}", fmt, [Entry("a.txt", data=b"x")])
    blocker = tmp_path / "file.txt"
    blocker.write_text("a file, not a folder")
    for dest in (blocker / "sub", blocker):
        with pytest.raises(ArchiveError):
            run_extract(archive, dest, fmt)
    assert blocker.read_text() == "a file, not a folder"
    assert sorted(os.listdir(tmp_path)) == sorted([archive.name, "file.txt"])


@pytest.mark.parametrize("fmt", FORMATS, ids=fmt_id)
@pytest.mark.parametrize("parallel", [True, False], ids=["threads", "inline"])
def test_ctrl_c_from_progress_mid_run(tmp_path, fmt, parallel):
    entries = [Entry(f"f{i:03}.txt", data=os.urandom(30_000)) for i in range(60)]
    entries.append(Entry("large.bin", data=os.urandom(3_000_000)))
    entries += [Entry(f"g{i:03}.txt", data=b"tail" * 1000) for i in range(30)]
    archive = write_archive(tmp_path / f"a{SUFFIX[fmt]}", fmt, entries)
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "existing.txt").write_text("already here")
    before = snapshot(dest)
    threads_before = set(threading.enumerate())
    calls = []

    def interrupt(current: int, total: int) -> None:
        calls.append(current)
        if len(calls) == 4:
            raise KeyboardInterrupt

    pool = ThreadPoolExecutor(max_workers=2) if parallel else None
    try:
        with pytest.raises(KeyboardInterrupt):
            run_extract(archive, dest, fmt, pool, progress=interrupt)
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    assert len(calls) == 4
    assert snapshot(dest) == before
    assert staging_leftovers(dest) == []
    assert set(threading.enumerate()) == threads_before
