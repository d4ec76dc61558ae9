"""tar.zst: round trips, bytes independent of threads, system tools, detection, damage,
limits, the CLI, and a clear error without Zstandard support."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import threading
from pathlib import Path

import pytest

from archive_parallel import (
    ArchiveConfig,
    ArchiveError,
    CompressionFormat,
)
from archive_parallel import pool as pool_module
from archive_parallel.codecs.zstd import LEVEL_FROM_0_9, effective_level, zstd_available
from archive_parallel.errors import ArchiveLimitError, CodecUnavailableError, CorruptArchiveError
from archive_parallel.formats import detect_format
from tests.cli_runner import run_cli

sys.path.insert(0, os.path.dirname(__file__))
from codec_support import (  # noqa: E402
    assert_refused,
    block,
    env_without,
    verified,
    write_variants,
)

pytestmark = pytest.mark.skipif(not zstd_available(), reason="no Zstandard support installed")
needs_zstd_tool = pytest.mark.skipif(shutil.which("zstd") is None, reason="zstd not installed")


def _config(**kw) -> ArchiveConfig:
    return ArchiveConfig(
        parallel_threshold=1, parallel_min_archive_bytes=0, block_size=64 * 1024, **kw
    )


#: how the stream is read: by the calling thread alone, by it on a machine of two cores
#: (decoded in the caller), or on one with cores to spare (decoded on the pool's serial lane)
READINGS = {"sequential": (False, 2), "parallel-2-cores": (True, 2), "parallel-lane": (True, 4)}


@pytest.fixture(params=list(READINGS))
def parallel(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    enabled, cores = READINGS[request.param]
    monkeypatch.setattr(pool_module, "usable_cpu_count", lambda: cores)
    return enabled


def test_round_trip(manager, sample_tree, tmp_path, snapshot, parallel):
    archive = tmp_path / "pkg.tar.zst"
    config = _config(enable_parallel_processing=parallel, thread_pool_size=2)
    before = set(threading.enumerate())
    meta = manager.create_archive(sample_tree, archive, config)
    assert meta.format is CompressionFormat.TAR_ZST
    assert manager._load_metadata(archive).format is CompressionFormat.TAR_ZST
    manager.extract_archive(archive, tmp_path / "out", config)
    assert snapshot(tmp_path / "out") == snapshot(sample_tree)
    lanes = [t for t in set(threading.enumerate()) - before if t.name.endswith("-lane_0")]
    assert bool(lanes) is (parallel and pool_module.decoder_gets_lane())
    assert verified(config, archive)
    names = {m.name for m in manager.list_archive(archive)}
    assert set(meta.files) <= names


def test_bytes_do_not_depend_on_threads(manager, sample_tree, tmp_path):
    digests = set()
    for threads, parallel in ((1, False), (1, True), (2, True), (4, True)):
        config = _config(
            thread_pool_size=threads, enable_parallel_processing=parallel, reproducible=True
        )
        meta = manager.create_archive(
            sample_tree, tmp_path / f"a{threads}{parallel}.tar.zst", config
        )
        digests.add(meta.checksum_sha256)
    assert len(digests) == 1


def _frames(data: bytes) -> list[tuple[int | None, int]]:
    """Each zstd frame of ``data``: the content size its header records, and its real one."""
    from archive_parallel.codecs.zstd import zstd_module

    zstd = zstd_module()
    frames = []
    while data:
        decompressor = zstd.ZstdDecompressor()
        content = decompressor.decompress(data)
        assert decompressor.eof
        frames.append((zstd.get_frame_info(data).decompressed_size, len(content)))
        data = decompressor.unused_data
    return frames


def test_written_as_independent_frames_that_record_their_size(manager, tmp_path, snapshot):
    """The tar stream is cut into 4 MiB pieces (level 3), each an independent frame
    compressed by a worker, whose header records its content size."""
    tree = tmp_path / "tree"
    tree.mkdir()
    for index in range(3):
        (tree / f"part{index}.bin").write_bytes(os.urandom(1_500_000) + b"text " * 300_000)
    archive = tmp_path / "pkg.tar.zst"
    config = ArchiveConfig(thread_pool_size=2, parallel_min_archive_bytes=0)
    manager.create_archive(tree, archive, config)
    frames = _frames(archive.read_bytes())
    assert len(frames) == 3  # about 9 MiB of tar: two whole 4 MiB pieces and the rest
    assert all(recorded == real for recorded, real in frames)
    assert [real for _, real in frames[:-1]] == [4 * 1024 * 1024] * 2
    manager.extract_archive(archive, tmp_path / "out", config)
    assert snapshot(tmp_path / "out") == snapshot(tree)


@needs_zstd_tool
def test_system_tools_read_ours(manager, sample_tree, tmp_path, snapshot):
    archive = tmp_path / "a.tar.zst"
    manager.create_archive(sample_tree, archive, _config(thread_pool_size=2))
    subprocess.run(["zstd", "-qt", str(archive)], check=True)
    dest = tmp_path / "dest"
    dest.mkdir()
    subprocess.run(["tar", "--zstd", "-xf", str(archive), "-C", str(dest)], check=True)
    assert snapshot(dest) == snapshot(sample_tree)


@needs_zstd_tool
def test_we_read_system_tar_zstd_and_detect_by_magic(manager, sample_tree, tmp_path, snapshot):
    archive = tmp_path / "theirs.tzst"
    subprocess.run(["tar", "--zstd", "-cf", str(archive), "-C", str(sample_tree), "."], check=True)
    assert CompressionFormat.from_extension(archive) is CompressionFormat.TAR_ZST
    disguised = tmp_path / "theirs.bin"
    shutil.copy(archive, disguised)
    assert detect_format(disguised) is CompressionFormat.TAR_ZST
    for path in (archive, disguised):
        dest = tmp_path / f"out-{path.name}"
        manager.extract_archive(path, dest, _config(thread_pool_size=2))
        assert snapshot(dest) == snapshot(sample_tree)
        assert manager.verify_archive_integrity(path)


def test_names():
    for name in ("a.tar.zst", "A.TZST", "x.tar.zstd"):
        assert CompressionFormat.from_extension(name) is CompressionFormat.TAR_ZST
    assert CompressionFormat.TAR_ZST.is_tar and CompressionFormat.TAR_ZST.tar_compression == "zst"


def test_levels(manager, sample_tree, tmp_path):
    assert effective_level(6, None) == 3 and effective_level(0, None) == 1
    assert effective_level(6, 19) == 19
    assert list(LEVEL_FROM_0_9) == sorted(LEVEL_FROM_0_9)
    sizes = {}
    for level in (1, 19):
        meta = manager.create_archive(
            sample_tree, tmp_path / f"l{level}.tar.zst", _config(zstd_level=level)
        )
        sizes[level] = meta.compressed_size
    assert sizes[19] <= sizes[1]
    for bad in (0, 20, -1):
        with pytest.raises(ValueError, match="zstd_level"):
            ArchiveConfig(zstd_level=bad)


def _damaged_copies(archive: Path, tmp_path: Path) -> dict[str, Path]:
    data = archive.read_bytes()
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x40
    copies = {
        "flipped": bytes(flipped),
        "truncated": data[: len(data) * 2 // 3],
        "no-end": data[:-4],
        "garbage": b"not zstd at all" * 100,
        "garbage-after": data + b"trailing junk",
    }
    return write_variants(tmp_path, "tar.zst", copies)


def test_damage_is_corrupt_archive_error(manager, sample_tree, tmp_path, parallel):
    archive = tmp_path / "a.tar.zst"
    manager.create_archive(sample_tree, archive, _config(include_metadata=False))
    config = _config(enable_parallel_processing=parallel)
    assert_refused(manager, _damaged_copies(archive, tmp_path), config, tmp_path)


@needs_zstd_tool
def test_a_frame_needing_a_huge_window_is_refused_saying_so(manager, tmp_path, parallel):
    """``zstd --long=31`` from a pipe asks for a 2 GiB window: refused for memory's sake, with
    a message that says it is the window, not damage; ``--long`` (128 MiB) is read."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.bin").write_bytes(os.urandom(300_000))
    tar = subprocess.run(["tar", "cf", "-", "-C", str(src), "."], check=True, capture_output=True)
    config = _config(enable_parallel_processing=parallel)
    for window, readable in (("--long=31", False), ("--long", True)):
        archive = tmp_path / f"w{window[-2:]}.tar.zst"
        packed = subprocess.run(
            ["zstd", "-q", window, "-c"], input=tar.stdout, check=True, capture_output=True
        )
        archive.write_bytes(packed.stdout)
        if readable:
            manager.extract_archive(archive, tmp_path / "ok", config)
            assert (tmp_path / "ok" / "a.bin").read_bytes() == (src / "a.bin").read_bytes()
            continue
        with pytest.raises(CorruptArchiveError, match="needs a zstd window over 128 MiB"):
            manager.extract_archive(archive, tmp_path / "refused", config)
        assert not (tmp_path / "refused").exists()
        assert not verified(config, archive)


def test_bomb_stops_at_the_extraction_limit(manager, tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("zeros.bin")
        info.size = 64 * 1024 * 1024
        tar.addfile(info, io.BytesIO(bytes(info.size)))
    from archive_parallel.codecs.zstd import zstd_module

    archive = tmp_path / "bomb.tar.zst"
    archive.write_bytes(zstd_module().compress(buffer.getvalue(), 19))
    assert archive.stat().st_size < 100_000
    config = _config(max_extract_size=8 * 1024 * 1024)
    with pytest.raises(ArchiveLimitError):
        manager.extract_archive(archive, tmp_path / "out", config)
    assert not (tmp_path / "out").exists()


def test_without_zstd_support_the_error_is_clear(monkeypatch, manager, sample_tree, tmp_path):
    archive = tmp_path / "a.tar.zst"
    manager.create_archive(sample_tree, archive, _config())
    block(monkeypatch, "backports", "compression")
    with pytest.raises(ArchiveError, match="pip install backports.zstd"):
        manager.create_archive(sample_tree, tmp_path / "b.tar.zst", _config())
    assert not (tmp_path / "b.tar.zst").exists()
    with pytest.raises(ArchiveError, match="backports.zstd") as refused:
        manager.extract_archive(archive, tmp_path / "out", _config())
    failed = manager.get_stats()["failed_operations"]
    # not damage, and not a non-archive: the same error as extraction's
    with pytest.raises(CodecUnavailableError) as verifying:
        manager.verify_archive_integrity(archive)
    assert str(verifying.value) == str(refused.value)
    with pytest.raises(CodecUnavailableError):
        manager.verify_archive_details(archive)
    assert manager.get_stats()["failed_operations"] == failed + 2


def test_cli_without_zstd_support_verify_says_what_list_and_extract_say(sample_tree, tmp_path):
    archive = tmp_path / "a.tar.zst"
    assert run_cli("create", sample_tree, archive, "--no-progress").returncode == 0
    env = env_without(tmp_path / "blocker", ("backports", "compression"))
    runs = {
        "verify": run_cli("verify", archive, env=env),
        "list": run_cli("list", archive, env=env),
        "extract": run_cli("extract", archive, tmp_path / "out", env=env),
    }
    lines = {command: done.stderr.strip() for command, done in runs.items()}
    assert lines["verify"].startswith("archive-parallel: error: tar.zst needs Zstandard support")
    assert "pip install backports.zstd" in lines["verify"]
    assert lines["verify"] == lines["list"] == lines["extract"], lines
    assert {done.returncode for done in runs.values()} == {1}
    assert "FAILED" not in runs["verify"].stdout  # not a verdict on the archive
    as_json = run_cli("verify", archive, "--json", env=env)
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout)["error"]["kind"] == "error"


def test_cli_levels(sample_tree, tmp_path):
    out = tmp_path / "a.tar.zst"
    done = run_cli("create", sample_tree, out, "--level", "15", "--threads", "2")
    assert done.returncode == 0, done.stderr
    assert run_cli("verify", out).returncode == 0
    assert run_cli("extract", out, tmp_path / "dest").returncode == 0
    bad = run_cli("create", sample_tree, tmp_path / "a.tar.gz", "--level", "15")
    assert bad.returncode == 2 and "0-9" in bad.stderr and "Traceback" not in bad.stderr
    bad = run_cli("create", sample_tree, tmp_path / "b.tar.zst", "--level", "0")
    assert bad.returncode == 2 and "1-19" in bad.stderr


def test_hostile_member_refuses_the_archive(manager, tmp_path):
    from archive_parallel import UnsafeArchiveError
    from archive_parallel.codecs.zstd import zstd_module

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name in ("ok.txt", "../escape.txt"):
            info = tarfile.TarInfo(name)
            info.size = 3
            tar.addfile(info, io.BytesIO(b"abc"))
    archive = tmp_path / "evil.tar.zst"
    archive.write_bytes(zstd_module().compress(buffer.getvalue()))
    with pytest.raises(UnsafeArchiveError):
        manager.extract_archive(archive, tmp_path / "out", _config())
    assert not (tmp_path / "out").exists() and not (tmp_path / "escape.txt").exists()
