"""Fast codecs: isal / zlib-ng inflate for every reader, the isal deflate backend, and the
library working the same with none of the optional packages installed."""

from __future__ import annotations

import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from archive_parallel import (
    ArchiveConfig,
    ArchiveManager,
    CodecUnavailableError,
    CorruptArchiveError,
)
from archive_parallel.codecs import backend
from archive_parallel.codecs.inflate import inflate_module, inflate_name
from archive_parallel.errors import ArchiveError

sys.path.insert(0, os.path.dirname(__file__))
from codec_support import block, run_without, verified  # noqa: E402

HAVE_ISAL = "isal" in backend.available_backends()
HAVE_ZLIB_NG = "zlib-ng" in backend.available_backends()
needs_isal = pytest.mark.skipif(not HAVE_ISAL, reason="isal not installed")

INFLATERS = ["zlib"] + (["isal"] if HAVE_ISAL else []) + (["zlib-ng"] if HAVE_ZLIB_NG else [])


def _config(**kw) -> ArchiveConfig:
    return ArchiveConfig(
        parallel_threshold=1, parallel_min_archive_bytes=0, block_size=64 * 1024, **kw
    )


def test_auto_inflate_prefers_isal_then_zlib_ng_then_zlib(monkeypatch):
    expected = "isal" if HAVE_ISAL else "zlib-ng" if HAVE_ZLIB_NG else "zlib"
    assert inflate_name(inflate_module()) == expected
    block(monkeypatch, "isal")
    assert inflate_name(inflate_module()) == ("zlib-ng" if HAVE_ZLIB_NG else "zlib")
    block(monkeypatch, "zlib_ng")
    assert inflate_module() is zlib
    with pytest.raises(ArchiveError, match="pip install isal"):
        inflate_module("isal")
    with pytest.raises(ValueError, match="decompression backend"):
        inflate_module("brotli")


def test_decompression_backend_is_checked():
    with pytest.raises(ValueError, match="decompression_backend"):
        ArchiveConfig(decompression_backend="lz4")


@pytest.mark.parametrize("inflater", INFLATERS)
@pytest.mark.parametrize("suffix", ["tar.gz", "zip"])
@pytest.mark.parametrize("parallel", [True, False])
def test_every_inflater_extracts_the_same_tree(
    manager, sample_tree, tmp_path, snapshot, inflater, suffix, parallel
):
    archive = tmp_path / f"a.{suffix}"
    manager.create_archive(sample_tree, archive, _config())
    config = _config(decompression_backend=inflater, enable_parallel_processing=parallel)
    # without the side file too: the CRCs and the serial inflate are then on the path
    for keep_meta in (True, False):
        if not keep_meta:
            Path(f"{archive}.meta").unlink()
        dest = tmp_path / f"out-{keep_meta}"
        manager.extract_archive(archive, dest, config)
        assert snapshot(dest) == snapshot(sample_tree)
        assert verified(config, archive)


@pytest.mark.parametrize("inflater", INFLATERS)
@pytest.mark.parametrize("suffix", ["tar.gz", "zip"])
def test_every_inflater_reports_damage(manager, sample_tree, tmp_path, inflater, suffix):
    archive = tmp_path / f"a.{suffix}"
    manager.create_archive(sample_tree, archive, _config(compression_level=1))
    Path(f"{archive}.meta").unlink()
    data = bytearray(archive.read_bytes())
    # a byte inside the compressed data of the big member (tar.gz: the middle of the stream)
    data[len(data) // 2] ^= 0x55
    archive.write_bytes(bytes(data))
    config = _config(decompression_backend=inflater)
    with pytest.raises(CorruptArchiveError):
        manager.extract_archive(archive, tmp_path / "out", config)
    assert not (tmp_path / "out").exists()
    assert not verified(config, archive)


@needs_isal
@pytest.mark.parametrize("suffix", ["tar.gz", "zip"])
@pytest.mark.parametrize("level", [0, 1, 6, 9])
def test_isal_deflate_round_trip_read_by_system_tools(
    manager, sample_tree, tmp_path, snapshot, suffix, level
):
    archive = tmp_path / f"a.{suffix}"
    config = _config(compression_backend="isal", compression_level=level)
    manager.create_archive(sample_tree, archive, config)
    dest = tmp_path / "dest"
    dest.mkdir()
    if suffix == "tar.gz":
        subprocess.run(["gzip", "-t", str(archive)], check=True)
        subprocess.run(["tar", "-xzf", str(archive), "-C", str(dest)], check=True)
    else:
        subprocess.run(["unzip", "-tq", str(archive)], check=True, capture_output=True)
        subprocess.run(["unzip", "-q", str(archive), "-d", str(dest)], check=True)
    assert snapshot(dest) == snapshot(sample_tree)
    ours = tmp_path / "ours"
    manager.extract_archive(archive, ours)
    assert snapshot(ours) == snapshot(sample_tree)


@needs_isal
def test_isal_bytes_do_not_depend_on_threads(manager, sample_tree, tmp_path):
    digests = set()
    for threads, parallel in ((1, False), (2, True), (4, True)):
        archive = tmp_path / f"a{threads}.tar.gz"
        config = _config(
            compression_backend="isal",
            thread_pool_size=threads,
            enable_parallel_processing=parallel,
            reproducible=True,
        )
        digests.add(manager.create_archive(sample_tree, archive, config).checksum_sha256)
    assert len(digests) == 1


def test_isal_level_zero_stores_and_missing_isal_is_clear(monkeypatch):
    if HAVE_ISAL:
        module = backend.deflate_module("isal")
        data = os.urandom(1000) + b"a" * 5000
        assert module.compress(data, 0, -15) == zlib.compress(data, 0, -15)
        assert zlib.decompress(module.compress(data, 6, -15), -15) == data
    block(monkeypatch, "isal")
    with pytest.raises(ArchiveError, match="pip install isal"):
        backend.deflate_module("isal")
    assert "isal" not in backend.available_backends()


@pytest.mark.parametrize("suffix", ["zip", "tar.gz"])
@pytest.mark.parametrize(("inflater", "package"), [("isal", "isal"), ("zlib-ng", "zlib_ng")])
def test_a_missing_inflater_asked_for_is_the_same_error_for_verify(
    monkeypatch, manager, sample_tree, tmp_path, suffix, inflater, package
):
    """Not damage: verification raises what extraction raises, naming what to install."""
    archive = tmp_path / f"a.{suffix}"
    manager.create_archive(sample_tree, archive, _config())
    block(monkeypatch, package)
    config = _config(decompression_backend=inflater)
    with pytest.raises(CodecUnavailableError, match=f"pip install {inflater}") as refused:
        manager.extract_archive(archive, tmp_path / "out", config)
    with ArchiveManager(config) as verifier, pytest.raises(CodecUnavailableError) as verifying:
        verifier.verify_archive_integrity(archive)
    assert str(verifying.value) == str(refused.value)


def test_everything_works_with_no_optional_package(tmp_path, sample_tree):
    """A child interpreter that cannot import any accelerator creates, extracts, verifies
    and lists every format it can, and writes the same bytes as the stdlib path here."""
    out = run_without(
        ("isal", "zlib_ng", "rapidgzip", "backports", "compression"),
        f"""
        import os, sys
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        from pathlib import Path
        from conftest import build_sample_tree
        from archive_parallel import ArchiveConfig, ArchiveManager, ArchiveError
        from archive_parallel.codecs.inflate import inflate_module
        import zlib
        assert inflate_module() is zlib
        root = Path({str(tmp_path / "child")!r})
        src = build_sample_tree(root / "src")
        config = ArchiveConfig(parallel_threshold=1, block_size=64 * 1024, reproducible=True)
        with ArchiveManager() as m:
            for suffix in ("tar.gz", "zip", "tar.bz2", "tar.xz", "tar"):
                archive = root / f"a.{{suffix}}"
                meta = m.create_archive(src, archive, config)
                m.extract_archive(archive, root / f"out-{{suffix}}", config)
                assert m.verify_archive_integrity(archive)
                assert m.list_archive(archive)
                print(suffix, meta.checksum_sha256)
            try:
                m.create_archive(src, root / "a.tar.zst", config)
            except ArchiveError as exc:
                print("zst:", exc)
        """,
    )
    lines = dict(line.split(" ", 1) for line in out.splitlines())
    assert "pip install" in lines["zst:"]
    # the same bytes with the accelerators present (stdlib deflate is the default backend)
    with ArchiveManager() as manager:
        src = sample_tree
        config = ArchiveConfig(
            parallel_threshold=1,
            parallel_min_archive_bytes=0,
            block_size=64 * 1024,
            reproducible=True,
        )
        for suffix in ("tar.gz", "zip"):
            meta = manager.create_archive(src, tmp_path / f"b.{suffix}", config)
            assert meta.checksum_sha256 == lines[suffix]


def test_small_tar_gz_is_cut_into_several_blocks_whatever_the_threads():
    from archive_parallel.compressors import MIN_BLOCK_SIZE, gzip_block_size

    config = ArchiveConfig()
    assert gzip_block_size(config, None) == config.block_size
    assert gzip_block_size(config, 1_000_000) == 256 * 1024
    assert gzip_block_size(config, 10) == MIN_BLOCK_SIZE
    assert gzip_block_size(config, 1 << 30) == config.block_size
