"""tar.gz extraction through the side file's restart-segment index, end to end."""

from __future__ import annotations

import json
import logging
import os
import subprocess

import pytest

import archive_parallel
from archive_parallel import ArchiveConfig

KIB = 1024
#: small blocks and restarts, so the small sample tree still has many segments
SMALL = dict(
    block_size=64 * KIB,
    gzip_restart_interval=128 * KIB,
    parallel_threshold=1,
    parallel_min_archive_bytes=0,
)


def big_tree(root):
    root.mkdir()
    for i in range(12):
        payload = (f"line {i} " * 9000).encode() + os.urandom(40_000)
        (root / f"f{i:02}.bin").write_bytes(payload)
    return root


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_segments_are_indexed_and_inflated_in_parallel(
    manager, tmp_path, snapshot, caplog, threads
):
    src = big_tree(tmp_path / "src")
    out = tmp_path / "a.tar.gz"
    meta = manager.create_archive(src, out, ArchiveConfig(**SMALL))
    side = json.loads(out.with_name("a.tar.gz.meta").read_text())
    assert len(side["gzip_index"]["segments"]) == len(meta.gzip_index["segments"]) > 3
    subprocess.run(["tar", "-tzf", str(out)], check=True, capture_output=True)
    dest = tmp_path / "dest"
    with caplog.at_level(logging.DEBUG, logger="archive_parallel"):
        manager.extract_archive(out, dest, ArchiveConfig(thread_pool_size=threads, **SMALL))
    assert "indexed segments in parallel" in caplog.text
    assert snapshot(dest) == snapshot(src)


def test_without_restarts_there_is_no_index(manager, tmp_path):
    src = big_tree(tmp_path / "src")
    out = tmp_path / "a.tar.gz"
    meta = manager.create_archive(src, out, ArchiveConfig(gzip_restart_interval=0))
    assert meta.gzip_index is None
    assert "gzip_index" not in json.loads(out.with_name("a.tar.gz.meta").read_text())


@pytest.mark.parametrize("verify", [True, False])
def test_damage_in_a_segment_is_refused_with_or_without_verification(manager, tmp_path, verify):
    """Verified: the archive SHA-256 catches it (per-segment CRCs are then skipped);
    unverified: the segment CRC fails, the serial fallback reports the damage."""
    src = big_tree(tmp_path / "src")
    out = tmp_path / "a.tar.gz"
    meta = manager.create_archive(src, out, ArchiveConfig(**SMALL))
    data = bytearray(out.read_bytes())
    start, _, _ = meta.gzip_index["segments"][2]
    data[start + 300] ^= 0x01
    out.write_bytes(bytes(data))
    dest = tmp_path / "dest"
    with pytest.raises(archive_parallel.CorruptArchiveError):
        manager.extract_archive(out, dest, ArchiveConfig(**SMALL), verify_integrity=verify)
    assert not dest.exists()


def test_stale_index_falls_back_and_extracts_right(manager, tmp_path, snapshot, caplog):
    """A side file whose index describes other offsets (edited, or left from an older
    archive) never changes the content: the bad segment is noticed, reading goes serial."""
    src = big_tree(tmp_path / "src")
    out = tmp_path / "a.tar.gz"
    manager.create_archive(src, out, ArchiveConfig(**SMALL))
    side_path = out.with_name("a.tar.gz.meta")
    side = json.loads(side_path.read_text())
    segments = side["gzip_index"]["segments"]
    segments[1][0] += 1
    side_path.write_text(json.dumps(side))
    dest = tmp_path / "dest"
    with caplog.at_level(logging.WARNING, logger="archive_parallel"):
        manager.extract_archive(out, dest, ArchiveConfig(**SMALL), verify_integrity=False)
    assert snapshot(dest) == snapshot(src)
    assert "inflating serially" in caplog.text


def test_verify_uses_the_index_and_still_finds_damage(manager, tmp_path, caplog):
    src = big_tree(tmp_path / "src")
    out = tmp_path / "a.tar.gz"
    meta = manager.create_archive(src, out, ArchiveConfig(**SMALL))
    manager.default_config = ArchiveConfig(**SMALL)
    with caplog.at_level(logging.DEBUG, logger="archive_parallel"):
        assert manager.verify_archive_integrity(out)
    assert "indexed segments in parallel" in caplog.text
    # without the archive checksum only the segments' CRCs can tell: still found
    side_path = out.with_name("a.tar.gz.meta")
    side = json.loads(side_path.read_text())
    side_path.write_text(json.dumps({**side, "checksum_sha256": None}))
    data = bytearray(out.read_bytes())
    data[meta.gzip_index["segments"][3][0] + 100] ^= 0x04
    out.write_bytes(bytes(data))
    assert not manager.verify_archive_integrity(out)


@pytest.mark.parametrize("interval", [-1, 64 * 1024 * 1024 + 1])
def test_restart_interval_out_of_range_is_refused(interval):
    with pytest.raises(ValueError, match="gzip_restart_interval"):
        ArchiveConfig(gzip_restart_interval=interval)
