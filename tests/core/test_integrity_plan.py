"""The integrity plan: one frozen decision per operation, from the side file, config and wish."""

from __future__ import annotations

import dataclasses
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from archive_parallel import ArchiveConfig
from archive_parallel.errors import ArchiveError, ChecksumMismatchError, CorruptArchiveError
from archive_parallel.formats import CompressionFormat
from archive_parallel.integrity import IntegrityPlan
from archive_parallel.metadata import load_metadata

KIB = 1024
SMALL = dict(block_size=64 * KIB, gzip_restart_interval=128 * KIB)
TAR_GZ = CompressionFormat.TAR_GZ


@pytest.fixture
def archive(manager, tmp_path):
    """An indexed tar.gz of a few hundred KiB (several restart segments), with its side file."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "data.bin").write_bytes(os.urandom(300_000))
    manager.create_archive(tmp_path / "src", tmp_path / "a.tar.gz", ArchiveConfig(**SMALL))
    return tmp_path / "a.tar.gz"


def build(archive, side="load", **options):
    config = ArchiveConfig(**{**SMALL, **options.pop("config", {})})
    metadata = load_metadata(archive) if side == "load" else side
    return IntegrityPlan.build(archive, TAR_GZ, metadata, config, **options)


def test_an_archive_hash_replaces_crcs_and_file_hashes(archive):
    plan = build(archive, parallel=True)
    assert plan.archive_sha256 == load_metadata(archive).checksum_sha256
    assert (plan.check_crc, plan.file_sha256, plan.hash_files) == (False, None, False)
    assert plan.gzip_index is not None and plan.gzip_index.check_crc is False


def test_recheck_asks_for_the_file_hashes_too(archive):
    plan = build(archive, config={"recheck_extracted_files": True})
    assert dict(plan.file_sha256) == load_metadata(archive).file_checksums
    assert plan.hash_files and not plan.check_crc


def test_without_side_file_or_verification_every_crc_is_checked(archive):
    for plan in (build(archive, side=None, parallel=True), build(archive, verify=False)):
        assert (plan.archive_sha256, plan.file_sha256, plan.check_crc) == (None, None, True)
        assert plan.hash_files is False
    unverified = build(archive, verify=False, parallel=True)
    assert unverified.gzip_index is not None and unverified.gzip_index.check_crc is True


def test_verification_hashes_no_files_and_the_sequential_path_uses_no_index(archive):
    plan = build(archive, extracting=False, config={"recheck_extracted_files": True})
    assert plan.archive_sha256 and plan.file_sha256 is None and plan.gzip_index is None


def test_the_plan_is_frozen(archive):
    plan = build(archive, config={"recheck_extracted_files": True})
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.check_crc = True  # type: ignore[misc]
    with pytest.raises(TypeError):
        plan.file_sha256["f0.bin"] = "0" * 64  # type: ignore[index]
    with pytest.raises(ValueError):
        IntegrityPlan(file_sha256={"a": "0" * 64}, hash_files=False)


def test_the_archive_check_runs_in_a_worker_and_reports_its_time(archive, monkeypatch):
    monkeypatch.setattr("archive_parallel.integrity.INLINE_ARCHIVE_HASH", 0)  # no inline hash
    times = []
    good = build(archive, on_archive_hashed=times.append)
    bad = dataclasses.replace(good, archive_sha256="0" * 64)
    with ThreadPoolExecutor(1) as pool:
        good.start_archive_check(archive, pool, os.path.getsize(archive)).wait()
        pending = bad.start_archive_check(archive, pool, os.path.getsize(archive))
        with pytest.raises(CorruptArchiveError, match="does not match the side file"):
            pending.wait()
    with pytest.raises(CorruptArchiveError):
        bad.start_archive_check(archive, None, os.path.getsize(archive))  # sequential: at once
    assert len(times) == 3 and all(t >= 0 for t in times)


def test_a_small_archive_is_hashed_in_the_caller_at_once(archive):
    bad = dataclasses.replace(build(archive), archive_sha256="0" * 64)
    size = os.path.getsize(archive)  # under INLINE_ARCHIVE_HASH: no worker
    with ThreadPoolExecutor(1) as pool, pytest.raises(CorruptArchiveError):
        bad.start_archive_check(archive, pool, size)


def test_an_archive_that_cannot_be_hashed_is_a_read_error_not_damage(archive, tmp_path):
    """Reading it fails (here: a folder, which opens but does not read, even for root): an
    ``ArchiveError`` naming it and the reason, never a bare ``OSError``, never damage."""
    plan = build(archive)
    folder = tmp_path / "not-readable"
    folder.mkdir()
    with pytest.raises(ArchiveError, match=r"^cannot read archive .*not-readable: ") as caught:
        plan.check_archive(folder)
    assert not isinstance(caught.value, CorruptArchiveError)


def test_file_checks_name_the_member():
    plan = IntegrityPlan(file_sha256={"./a.txt": "AB" * 32, "b.txt": "cd" * 32})
    plan.check_files({"a.txt": "ab" * 32, "b.txt": "cd" * 32})
    with pytest.raises(ChecksumMismatchError, match="b.txt"):
        plan.check_files({"a.txt": "ab" * 32, "b.txt": "00" * 32})
    with pytest.raises(ChecksumMismatchError, match="not extracted"):
        plan.check_files({"a.txt": "ab" * 32})
