"""Verification fails what extraction refuses for its content: without the archive's SHA-256
in the side file (``create_checksums=False``), both check each member against the side file's
``file_checksums``. A plain tar has no CRC of its own, and an archive swapped for another sound
one passes every CRC: only those per-file digests tell."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from archive_parallel import ArchiveConfig, ArchiveManager
from archive_parallel.errors import ChecksumMismatchError
from archive_parallel.metadata import meta_path_for
from tests.cli_runner import run_cli

UNCHECKED = dict(create_checksums=False)
PATHS = {
    "parallel": dict(parallel_threshold=2, parallel_min_archive_bytes=0, thread_pool_size=2),
    "sequential": dict(enable_parallel_processing=False),
}


def _tree(root: Path, changed: bytes = b"v1") -> Path:
    for i in range(30):
        folder = root / f"d{i % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{i}.txt").write_bytes(f"file {i}\n".encode() * (50 + i))
    (root / "d1" / "config.json").write_bytes(b'{"release": "' + changed + b'"}\n')
    return root


def _archive(tmp_path: Path, suffix: str, changed: bytes, meta: bool) -> Path:
    source = _tree(tmp_path / f"src-{changed.decode()}", changed)
    archive = tmp_path / changed.decode() / f"pkg{suffix}"
    with ArchiveManager() as manager:
        manager.create_archive(source, archive, ArchiveConfig(include_metadata=meta, **UNCHECKED))
    return archive


def _swapped(tmp_path: Path, suffix: str) -> Path:
    """An archive of release v1 with its side file, its bytes replaced by a sound archive of
    release v2 (one file differs)."""
    archive = _archive(tmp_path, suffix, b"v1", meta=True)
    shutil.copyfile(_archive(tmp_path, suffix, b"v2", meta=False), archive)
    return archive


@pytest.mark.parametrize("path", sorted(PATHS))
@pytest.mark.parametrize("suffix", [".tar", ".tar.gz", ".tar.bz2", ".zip"])
def test_an_archive_swapped_under_its_side_file_fails_verify_as_extract(tmp_path, suffix, path):
    sound = _archive(tmp_path, suffix, b"v1", meta=True)
    swapped = _swapped(tmp_path / "swap", suffix)
    with ArchiveManager(ArchiveConfig(**PATHS[path])) as manager:
        assert manager.verify_archive_integrity(sound)
        report = manager.verify_archive_details(swapped)
        assert not report.ok and not report.unreadable
        assert "d1/config.json" in report.reason and "SHA-256 mismatch" in report.reason
        with pytest.raises(ChecksumMismatchError):
            manager.extract_archive(swapped, tmp_path / "out", ArchiveConfig(**PATHS[path]))
    assert not (tmp_path / "out").exists()


def test_a_damaged_byte_in_a_plain_tar_fails_verify_and_the_cli(tmp_path):
    archive = _archive(tmp_path, ".tar", b"v1", meta=True)
    data = bytearray(archive.read_bytes())
    at = data.index(b'"release": "v1"') + len('"release": "')
    data[at] ^= 0x20  # "v1" -> "V1": the tar's headers and blocks stay sound
    archive.write_bytes(bytes(data))
    with ArchiveManager() as manager:
        assert manager.verify_archive_integrity(archive) is False
    done = run_cli("verify", archive)
    assert done.returncode == 1 and "d1/config.json" in done.stdout + done.stderr
    assert meta_path_for(archive).is_file()  # the side file is evidence, left as it was


def test_verify_checks_no_member_digest_when_the_archive_hash_covers_every_byte(tmp_path):
    """With the archive's SHA-256 in the side file, that one hash decides (as in extraction):
    a swapped archive fails on it, before any member is hashed."""
    archive = _archive(tmp_path, ".tar.gz", b"v1", meta=False)
    with ArchiveManager() as manager:
        manager.create_archive(_tree(tmp_path / "src-v1"), archive)  # with checksums
        shutil.copyfile(_archive(tmp_path / "other", ".tar.gz", b"v2", meta=False), archive)
        report = manager.verify_archive_details(archive)
    assert not report.ok and "SHA-256" in report.reason and "side file's" in report.reason


def test_a_hard_link_listed_without_its_target_is_judged_as_extraction_judges_it(tmp_path):
    """Extraction hashes every file it writes, so a listed hard link has its target's digest
    even where the side file does not list the target; verification hashes every file too."""
    import hashlib
    import io
    import json
    import tarfile

    archive = tmp_path / "hard.tar"
    with tarfile.open(archive, "w", format=tarfile.PAX_FORMAT) as tar:
        target = tarfile.TarInfo("a")
        target.size = 1
        tar.addfile(target, io.BytesIO(b"A"))
        link = tarfile.TarInfo("h")
        link.type, link.linkname = tarfile.LNKTYPE, "a"
        tar.addfile(link)
    for digest, sound in ((hashlib.sha256(b"A").hexdigest(), True), ("0" * 64, False)):
        side = {
            "filename": archive.name, "format": "TAR", "created_at": "2026-01-01T00:00:00",
            "file_count": 1, "uncompressed_size": 1, "compressed_size": archive.stat().st_size,
            "files": ["h"], "file_checksums": {"h": digest},
        }  # fmt: skip
        meta_path_for(archive).write_text(json.dumps(side))
        with ArchiveManager() as manager:
            assert manager.verify_archive_integrity(archive) is sound
            out = tmp_path / f"out-{sound}"
            if sound:
                manager.extract_archive(archive, out)
                assert (out / "h").read_bytes() == b"A"
            else:
                with pytest.raises(ChecksumMismatchError):
                    manager.extract_archive(archive, out)
