"""The bytes checked are the bytes extracted: the archive is opened once per extraction and
verification, and its hash and its members are read through that one descriptor.

Another process may rename a new archive over the path (``create_archive`` replaces an
archive and its side file that way) or write into the file while it is read. Each test
does that at a chosen moment, from a hook of the operation itself: right after the side
file's SHA-256 was checked (the manager's timing hook for the archive hash, which runs in
the caller for archives this small), or from the progress callback while the members are
read. A rename changes nothing (the archive opened is the one extracted, and the metadata
returned describes it); a write fails the operation, naming the archive, with nothing in
the destination. zip, tar and tar.gz, on the sequential and the parallel path.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from archive_parallel import ArchiveConfig, ArchiveManager
from archive_parallel.errors import CorruptArchiveError
from archive_parallel.metadata import meta_path_for

SUFFIXES = ["zip", "tar", "tar.gz"]
PATHS = {"sequential": False, "parallel": True}
BLOB = random.Random(7).randbytes(200_000)  # incompressible: stored as it is


def _config(parallel: bool, **kw) -> ArchiveConfig:
    if not parallel:
        return ArchiveConfig(durable_writes=False, parallel_threshold=10**9, **kw)
    return ArchiveConfig(
        durable_writes=False,
        thread_pool_size=2,
        parallel_threshold=1,
        parallel_min_archive_bytes=0,
        **kw,
    )


def _tree(root: Path, letter: str) -> dict[str, bytes]:
    files = {f"{letter}{i}.txt": (letter * (i + 1) * 300).encode() for i in range(6)}
    files["blob.bin"] = BLOB if letter == "a" else BLOB[::-1]
    root.mkdir()
    for name, data in files.items():
        (root / name).write_bytes(data)
    return files


def _archive(tmp_path: Path, suffix: str, letter: str) -> tuple[Path, dict[str, bytes]]:
    files = _tree(tmp_path / f"src-{letter}", letter)
    archive = tmp_path / f"{letter}.{suffix}"
    with ArchiveManager() as manager:
        manager.create_archive(tmp_path / f"src-{letter}", archive, ArchiveConfig())
    return archive, files


def _side(archive: Path) -> Path:
    return meta_path_for(archive)


def _contents(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in folder.iterdir()}


def _write_in_place(archive: Path, changed: bool) -> None:
    """Write one byte into the archive as another process would: a byte of ``blob.bin``'s
    stored data, changed (``changed``; zip and tar hold it as it is), or, for a compressed
    tar, a byte in the middle written again unchanged. The mtime is moved on as well, as a
    write moves it, so the test does not depend on the clock's resolution."""
    data = archive.read_bytes()
    if changed:
        at = data.index(BLOB[100_000:100_032]) + 16
        byte = bytes([data[at] ^ 0xFF])
    else:
        at = len(data) // 2
        byte = data[at : at + 1]
    fd = os.open(archive, os.O_WRONLY)
    try:
        os.pwrite(fd, byte, at)
    finally:
        os.close(fd)
    info = archive.stat()
    os.utime(archive, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))


def _after_the_hash(manager: ArchiveManager, monkeypatch, action) -> None:
    """Run ``action`` once, right after the archive's SHA-256 was checked (the manager
    times that hash as "checksum_calculation"; an archive this small is hashed in the
    caller, before its members are read)."""
    record = manager._stats.record_time
    done = []

    def hook(stage: str, seconds: float) -> None:
        record(stage, seconds)
        if stage == "checksum_calculation" and not done:
            done.append(stage)
            action()

    monkeypatch.setattr(manager._stats, "record_time", hook)


def _descriptors_of(path: Path) -> list[str]:
    fds = Path("/proc/self/fd")
    if not fds.is_dir():
        return []
    found = []
    for fd in fds.iterdir():
        try:
            if os.readlink(fd) == str(path):
                found.append(fd.name)
        except OSError:
            continue
    return found


@pytest.mark.parametrize("path", PATHS, ids=str)
@pytest.mark.parametrize("suffix", SUFFIXES)
def test_an_archive_renamed_over_the_path_is_not_mixed_in(tmp_path, monkeypatch, suffix, path):
    """The new archive and side file arrive after the hash of the first one was checked:
    the first archive is the one extracted, and the metadata returned describes it."""
    first, first_files = _archive(tmp_path, suffix, "a")
    second, _ = _archive(tmp_path, suffix, "b")
    config = _config(PATHS[path])
    dest = tmp_path / "dest"
    with ArchiveManager(config) as manager:

        def replace() -> None:
            os.replace(second, first)
            os.replace(_side(second), _side(first))

        _after_the_hash(manager, monkeypatch, replace)
        meta = manager.extract_archive(first, dest, config)
    assert _contents(dest) == first_files
    assert sorted(meta.files) == sorted(first_files)
    assert meta.extracted_files == len(first_files)


@pytest.mark.parametrize("path", PATHS, ids=str)
@pytest.mark.parametrize("moment", ["after-hash", "while-reading"])
@pytest.mark.parametrize("suffix", SUFFIXES)
def test_an_archive_written_to_while_it_is_extracted_fails_and_leaves_nothing(
    tmp_path, monkeypatch, suffix, moment, path
):
    archive, _ = _archive(tmp_path, suffix, "a")
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "keep.txt").write_text("mine")
    written = []

    def write() -> None:
        if not written:
            written.append(True)
            _write_in_place(archive, changed=suffix != "tar.gz")

    progress = (lambda current, total: write()) if moment == "while-reading" else None
    config = _config(PATHS[path], progress_callback=progress)
    with ArchiveManager(config) as manager:
        if moment == "after-hash":
            _after_the_hash(manager, monkeypatch, write)
        with pytest.raises(CorruptArchiveError) as caught:
            manager.extract_archive(archive, dest, config)
    assert written
    message = str(caught.value)
    assert str(archive) in message
    assert "changed while it was being extracted" in message
    assert sorted(os.listdir(dest)) == ["keep.txt"]
    assert (dest / "keep.txt").read_text() == "mine"
    assert not _descriptors_of(archive)


@pytest.mark.parametrize("path", PATHS, ids=str)
@pytest.mark.parametrize("suffix", SUFFIXES)
def test_an_archive_written_to_while_it_is_verified_is_not_sound(
    tmp_path, monkeypatch, suffix, path
):
    archive, _ = _archive(tmp_path, suffix, "a")
    with ArchiveManager(_config(PATHS[path])) as manager:
        assert manager.verify_archive_details(archive).ok  # as it was made
        _after_the_hash(
            manager, monkeypatch, lambda: _write_in_place(archive, changed=suffix != "tar.gz")
        )
        report = manager.verify_archive_details(archive)
    assert not report.ok and not report.unreadable
    assert str(archive) in report.reason
    assert "changed while it was being verified" in report.reason
    assert not _descriptors_of(archive)


@pytest.mark.parametrize("path", PATHS, ids=str)
@pytest.mark.parametrize("suffix", SUFFIXES)
def test_an_archive_left_alone_extracts_and_verifies(tmp_path, suffix, path):
    archive, files = _archive(tmp_path, suffix, "a")
    config = _config(PATHS[path])
    with ArchiveManager(config) as manager:
        meta = manager.extract_archive(archive, tmp_path / "dest", config)
        assert manager.verify_archive_details(archive).ok
    assert _contents(tmp_path / "dest") == files
    assert meta.compressed_size == archive.stat().st_size
    assert not _descriptors_of(archive)
