"""Issue 7, item 6 (and the bomb items of item 1): bombs, nested bombs, huge declared sizes and
member floods are refused with ArchiveLimitError, before writing where the headers tell, and
memory stays within a fixed bound (tracemalloc peak) even while a large member streams."""

from __future__ import annotations

import io
import os
import tarfile
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest
from extract_helpers import (
    SUFFIX,
    Entry,
    bomb_tar_gz,
    bomb_zip,
    raw_zip,
    run_extract,
    write_archive,
)

from archive_parallel.errors import ArchiveLimitError, CorruptArchiveError
from archive_parallel.formats import CompressionFormat
from archive_parallel.verify import verify_archive

GiB = 1 << 30
MiB = 1 << 20
MEMORY_BOUND = 100 * MiB


@pytest.fixture(scope="module")
def bombs(tmp_path_factory) -> dict[CompressionFormat, Path]:
    root = tmp_path_factory.mktemp("bombs")
    return {
        CompressionFormat.TAR_GZ: bomb_tar_gz(root / "bomb.tar.gz", GiB),
        CompressionFormat.ZIP: bomb_zip(root / "bomb.zip", GiB),
    }


def _peak_while(call) -> int:
    tracemalloc.start()
    try:
        call()
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak


BOMB_FORMATS = [CompressionFormat.TAR_GZ, CompressionFormat.ZIP]


@pytest.mark.parametrize("fmt", BOMB_FORMATS, ids=lambda f: f.value)
@pytest.mark.parametrize("limit", ["size", "ratio"])
def test_bomb_refused_within_memory_bound(bombs, tmp_path, fmt, limit, executor):
    archive = bombs[fmt]
    assert archive.stat().st_size < 2 * MiB
    options = (
        {"max_extract_size": 100 * MiB}
        if limit == "size"
        else {"max_compression_ratio": 100.0, "ratio_check_threshold": 64 * MiB}
    )
    dest = tmp_path / "out"

    def attempt():
        with pytest.raises(ArchiveLimitError) as caught:
            run_extract(archive, dest, fmt, executor, **options)
        assert caught.value.member == "zeros.bin"
        assert ("max_extract_size" if limit == "size" else "max_compression_ratio") in str(
            caught.value
        )

    assert _peak_while(attempt) < MEMORY_BOUND
    assert not dest.exists()


@pytest.mark.parametrize("fmt", BOMB_FORMATS, ids=lambda f: f.value)
def test_large_member_streams_in_bounded_memory(tmp_path, fmt, executor):
    """A 160 MiB member allowed by the limits is written in chunks, never held whole."""
    builder = bomb_tar_gz if fmt is CompressionFormat.TAR_GZ else bomb_zip
    archive = builder(tmp_path / f"zeros{SUFFIX[fmt]}", 160 * MiB)
    dest = tmp_path / "out"
    peak = _peak_while(
        lambda: run_extract(archive, dest, fmt, executor, max_compression_ratio=10**6)
    )
    assert (dest / "zeros.bin").stat().st_size == 160 * MiB
    assert peak < 32 * MiB


def test_zip_member_lying_about_its_size_stops_at_the_declared_size(tmp_path, executor):
    """Central directory says 1 MiB, the data inflates to 1 GiB: read stops, CRC refuses."""
    mib = MiB
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(mib)) + compressor.flush(zlib.Z_FULL_FLUSH)
    body = block * 1024 + zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    crc = 0
    for _ in range(1024):
        crc = zlib.crc32(bytes(mib), crc)
    archive = raw_zip(
        tmp_path / "liar.zip",
        [(b"liar.bin", body, GiB, crc, zipfile.ZIP_DEFLATED)],
        declared_override={0: mib},
    )
    dest = tmp_path / "out"

    def attempt():
        with pytest.raises(CorruptArchiveError) as caught:
            run_extract(archive, dest, CompressionFormat.ZIP, executor)
        assert caught.value.member == "liar.bin"

    assert _peak_while(attempt) < MEMORY_BOUND
    assert not dest.exists()


def test_zip_entry_declaring_100_gb_refused_before_writing(tmp_path, executor):
    members = [
        (b"small.txt", b"hello", 5, zlib.crc32(b"hello"), zipfile.ZIP_STORED),
        (b"huge.bin", b"0123456789", 10, zlib.crc32(b"0123456789"), zipfile.ZIP_STORED),
    ]
    archive = raw_zip(tmp_path / "huge.zip", members, declared_override={1: 100 * 10**9})
    with zipfile.ZipFile(archive) as check:
        assert check.getinfo("huge.bin").file_size == 100 * 10**9
    dest = tmp_path / "out"
    with pytest.raises(ArchiveLimitError) as caught:
        run_extract(archive, dest, CompressionFormat.ZIP, executor)
    assert caught.value.member == "huge.bin"
    assert not dest.exists()


@pytest.mark.parametrize(
    "fmt", [CompressionFormat.TAR_GZ, CompressionFormat.TAR], ids=lambda f: f.value
)
def test_tar_header_declaring_100_gb_refused_before_reading(tmp_path, fmt):
    header = tarfile.TarInfo("huge.bin")
    header.size = 100 * 10**9
    raw = tarfile.TarInfo("first.txt")
    raw.size = 5
    stream = io.BytesIO()
    stream.write(raw.tobuf(tarfile.GNU_FORMAT) + b"hello".ljust(512, b"\0"))
    stream.write(header.tobuf(tarfile.GNU_FORMAT) + bytes(4096))
    data = stream.getvalue()
    if fmt is CompressionFormat.TAR_GZ:
        import gzip

        data = gzip.compress(data)
    archive = tmp_path / f"huge{SUFFIX[fmt]}"
    archive.write_bytes(data)
    dest = tmp_path / "out"
    peak = 0

    def attempt():
        with pytest.raises(ArchiveLimitError) as caught:
            run_extract(archive, dest, fmt)
        assert caught.value.member == "huge.bin"

    peak = _peak_while(attempt)
    assert peak < MEMORY_BOUND
    assert not dest.exists()


@pytest.mark.parametrize(
    "fmt", [CompressionFormat.TAR_BZ2, CompressionFormat.ZIP], ids=lambda f: f.value
)
def test_member_flood_refused(tmp_path, fmt):
    archive = write_archive(
        tmp_path / f"many{SUFFIX[fmt]}", fmt, [Entry(f"f{i}") for i in range(60)]
    )
    with pytest.raises(ArchiveLimitError) as caught:
        run_extract(archive, tmp_path / "out", fmt, max_member_count=50)
    assert caught.value.member == "f50"
    assert not (tmp_path / "out").exists()


def test_nested_bombs_extract_only_the_outer_level(bombs, tmp_path, executor):
    """Zips inside a zip are just files: written as they are, never opened."""
    inner = bombs[CompressionFormat.ZIP].read_bytes()
    outer = tmp_path / "nested.zip"
    with zipfile.ZipFile(outer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index in range(4):
            archive.writestr(f"layer{index}.zip", inner)
    dest = tmp_path / "out"
    peak = _peak_while(lambda: run_extract(outer, dest, CompressionFormat.ZIP, executor))
    assert sorted(os.listdir(dest)) == [f"layer{i}.zip" for i in range(4)]
    assert all((dest / f"layer{i}.zip").read_bytes() == inner for i in range(4))
    assert peak < MEMORY_BOUND


@pytest.mark.slow
@pytest.mark.parametrize("fmt", BOMB_FORMATS, ids=lambda f: f.value)
def test_verify_reads_a_bomb_in_bounded_memory(tmp_path, fmt, executor):
    builder = bomb_tar_gz if fmt is CompressionFormat.TAR_GZ else bomb_zip
    archive = builder(tmp_path / f"bomb{SUFFIX[fmt]}", 256 * MiB)
    result = []
    peak = _peak_while(lambda: result.append(verify_archive(archive, fmt, executor)))
    assert result == [True]
    assert peak < 32 * MiB


@pytest.mark.parametrize("fmt", BOMB_FORMATS, ids=lambda f: f.value)
def test_verify_with_limits_refuses_a_bomb_from_its_headers(bombs, fmt):
    from archive_parallel.config import ArchiveConfig

    config = ArchiveConfig(max_extract_size=100 * MiB)
    assert verify_archive(bombs[fmt], fmt, None, config) is False
