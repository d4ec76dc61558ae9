"""An archive and its side file are replaced together or not at all.

A previous pair is in place; the new creation fails at different points (the side file
cannot be encoded, Ctrl-C while it is written, its rename fails after the archive's, the
source cannot be read) and every time the previous archive and side file must still be there,
byte for byte, with no temporary file beside them. On success both are new and consistent
(the side file's SHA-256 is the new archive's), checked with system tools.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from archive_parallel import ArchiveConfig, ArchiveManager
from archive_parallel import manager as manager_module
from archive_parallel.errors import ArchiveError

SUFFIXES = ["tar.gz", "zip", "tar.xz"]


def _tree(root: Path, version: str, count: int = 30) -> Path:
    for i in range(count):
        folder = root / f"d{i % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{i}.txt").write_text(f"{version} {i}\n" * (i + 1))
    return root


def _pair(folder: Path, suffix: str) -> tuple[Path, Path]:
    archive = folder / f"pkg.{suffix}"
    return archive, archive.with_name(archive.name + ".meta")


def _old_pair(tmp_path: Path, suffix: str) -> tuple[Path, Path, bytes, bytes]:
    archive, meta = _pair(tmp_path / "out", suffix)
    with ArchiveManager() as manager:
        manager.create_archive(_tree(tmp_path / "old", "old"), archive)
    return archive, meta, archive.read_bytes(), meta.read_bytes()


def _assert_old_pair_intact(archive: Path, meta: Path, old_archive: bytes, old_meta: bytes):
    assert archive.read_bytes() == old_archive, "the previous archive was lost or changed"
    assert meta.read_bytes() == old_meta, "the previous side file was lost or changed"
    assert sorted(os.listdir(archive.parent)) == sorted([archive.name, meta.name]), (
        "a temporary file was left beside the pair"
    )


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_a_side_file_that_cannot_be_encoded_keeps_the_old_pair(tmp_path, suffix, monkeypatch):
    """A name the side file cannot hold (normally refused up front; the screen is switched
    off here to reach the writer) fails while the side file is written."""
    archive, meta, old_archive, old_meta = _old_pair(tmp_path, suffix)
    source = _tree(tmp_path / "new", "new")
    (source / os.fsdecode(b"bad-\xff.txt")).write_bytes(b"x")
    monkeypatch.setattr(manager_module, "screen_names", lambda entries, *_: entries)
    with ArchiveManager() as manager, pytest.raises(ArchiveError, match="not valid UTF-8"):
        manager.create_archive(source, archive)
    _assert_old_pair_intact(archive, meta, old_archive, old_meta)


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("failure", [KeyboardInterrupt, MemoryError, OSError(28, "No space")])
def test_a_failure_while_writing_the_side_file_keeps_the_old_pair(
    tmp_path, suffix, failure, monkeypatch
):
    archive, meta, old_archive, old_meta = _old_pair(tmp_path, suffix)

    def failing_encode(metadata):
        raise failure

    monkeypatch.setattr(manager_module, "encode_metadata", failing_encode)
    expected = ArchiveError if isinstance(failure, OSError) else failure
    with ArchiveManager() as manager, pytest.raises(expected):
        manager.create_archive(_tree(tmp_path / "new", "new"), archive)
    _assert_old_pair_intact(archive, meta, old_archive, old_meta)


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_a_side_file_rename_that_fails_puts_the_old_archive_back(tmp_path, suffix):
    """The side file's place is taken by a folder: its rename fails after the archive's, and
    the archive renamed a moment before is put back."""
    archive, meta = _pair(tmp_path / "out", suffix)
    with ArchiveManager() as manager:
        manager.create_archive(_tree(tmp_path / "old", "old"), archive, ArchiveConfig())
        old_archive = archive.read_bytes()
        meta.unlink()
        meta.mkdir()
        (meta / "something").write_text("in the way")
        with pytest.raises(ArchiveError, match="cannot write"):
            manager.create_archive(_tree(tmp_path / "new", "new"), archive)
    assert archive.read_bytes() == old_archive
    assert (meta / "something").read_text() == "in the way"
    assert sorted(os.listdir(archive.parent)) == sorted([archive.name, meta.name])


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_an_unreadable_source_keeps_the_old_pair(tmp_path, suffix):
    archive, meta, old_archive, old_meta = _old_pair(tmp_path, suffix)
    with ArchiveManager() as manager, pytest.raises(ArchiveError):
        manager.create_archive(tmp_path / "missing", archive)
    _assert_old_pair_intact(archive, meta, old_archive, old_meta)


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_a_rebuild_replaces_both_consistently(tmp_path, suffix):
    archive, meta, old_archive, _ = _old_pair(tmp_path, suffix)
    for version in ("v2", "v3"):
        with ArchiveManager() as manager:
            created = manager.create_archive(_tree(tmp_path / version, version), archive)
        data = archive.read_bytes()
        side = json.loads(meta.read_text(encoding="utf-8"))
        assert data != old_archive
        assert side["checksum_sha256"] == hashlib.sha256(data).hexdigest()
        assert side["checksum_sha256"] == created.checksum_sha256
        assert sorted(os.listdir(archive.parent)) == sorted([archive.name, meta.name])
        command = ["unzip", "-tq"] if suffix == "zip" else ["tar", "-tf"]
        assert subprocess.run([*command, str(archive)], capture_output=True).returncode == 0


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_a_rebuild_without_a_side_file_removes_the_old_one(tmp_path, suffix):
    """The old side file would describe another archive (its SHA-256 would refuse the new
    one at extraction): it goes when the new archive comes, and not before."""
    archive, meta, _, _ = _old_pair(tmp_path, suffix)
    with ArchiveManager() as manager:
        manager.create_archive(
            _tree(tmp_path / "new", "new"), archive, ArchiveConfig(include_metadata=False)
        )
        assert not meta.exists()
        manager.extract_archive(archive, tmp_path / "dest")
    assert (tmp_path / "dest" / "d0" / "f0.txt").read_text() == "new 0\n"
    assert sorted(os.listdir(archive.parent)) == [archive.name]
    # a failed rebuild without a side file keeps the old pair
    archive2, meta2, old_archive, old_meta = _old_pair(tmp_path / "again", suffix)
    with ArchiveManager() as manager, pytest.raises(ArchiveError):
        manager.create_archive(
            tmp_path / "missing", archive2, ArchiveConfig(include_metadata=False)
        )
    _assert_old_pair_intact(archive2, meta2, old_archive, old_meta)
