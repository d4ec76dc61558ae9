"""Sizes and offsets past 2**31 on any Python, the 32-bit Raspberry Pi OS one included.

On armv7l ``sys.maxsize`` is 2**31 - 1, so a size or offset that reached a C ``ssize_t`` or a
``long`` would overflow there and nowhere else. These archives put real members behind a 2 GiB
hole (sparse files: a few KiB on disk) and declare members larger than 2 GiB, so that offsets
and sizes travel through the readers, the extraction limits and the gzip index as Python ints.
``scripts/test-pi.sh`` runs this file on an emulated armv7l; it runs everywhere else too.
"""

from __future__ import annotations

import os
import platform
import struct
import sys
import tarfile
import zlib
from pathlib import Path

import pytest

from archive_parallel import ArchiveConfig, ArchiveManager
from archive_parallel.codecs.gzip_index import (
    GZIP_HEADER_SIZE,
    MAX_SEGMENT_OUTPUT,
    GzipIndex,
    inflate_segment,
    usable_index,
)
from archive_parallel.errors import ArchiveLimitError

TWO_GIB = 2**31
HOLE = TWO_GIB + 4096  # past what a signed 32-bit offset can hold
DOS_TIME, DOS_DATE = 0, (44 << 9) | (1 << 5) | 1  # 2024-01-01 00:00


def _sparse_file(path: Path, size: int) -> None:
    with open(path, "wb") as handle:
        handle.truncate(size)


def _zip64_extra(*values: int) -> bytes:
    body = b"".join(struct.pack("<Q", v) for v in values)
    return struct.pack("<HH", 1, len(body)) + body


def _write_zip(path: Path, members: list[tuple[str, bytes, int, int]], start: int) -> None:
    """A zip64 archive whose members start at ``start`` (a hole before them). Each member is
    ``(name, stored_data, declared_uncompressed_size, method)``; offsets and any size past
    0xFFFFFFFF go in zip64 extra fields, the way a writer must put them."""
    _sparse_file(path, start)
    central = b""
    with open(path, "r+b") as handle:
        handle.seek(start)
        for name, data, declared, method in members:
            offset = handle.tell()
            raw_name = name.encode()
            crc = zlib.crc32(data) if declared == len(data) else 0
            # flags, method, time, date, CRC, sizes (in the zip64 extra), name length
            common = (0, method, DOS_TIME, DOS_DATE, crc, 0xFFFFFFFF, 0xFFFFFFFF, len(raw_name))
            local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 45, *common, 20)
            handle.write(local + raw_name + _zip64_extra(declared, len(data)) + data)
            extra = _zip64_extra(declared, len(data), offset)
            attrs = (len(extra), 0, 0, 0, 0o100644 << 16, 0xFFFFFFFF)
            central += (
                struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 45 | 3 << 8, 45, *common, *attrs)
                + raw_name
                + extra
            )
        cd_offset = handle.tell()
        handle.write(central)
        eocd64 = handle.tell()
        count = len(members)
        handle.write(
            struct.pack(
                "<4sQHHIIQQQQ",
                b"PK\x06\x06",
                44,
                45,
                45,
                0,
                0,
                count,
                count,
                len(central),
                cd_offset,
            )
            + struct.pack("<4sIQI", b"PK\x06\x07", 0, eocd64, 1)
            + struct.pack(
                "<4sHHHHIIH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0
            )
        )


def test_this_python_is_what_the_platform_says() -> None:
    """On the 32-bit Pi OS the interpreter really is 32-bit (the rest of this file matters)."""
    if platform.machine() in ("armv7l", "armv6l", "i686"):
        assert sys.maxsize == 2**31 - 1
    assert sys.maxsize < HOLE or sys.maxsize > 2**32  # ints, never C longs, carry the offsets


def test_zip64_member_behind_a_2gib_hole_extracts(tmp_path: Path) -> None:
    archive = tmp_path / "late.zip"
    payload = b"written after two gibibytes of nothing\n" * 50
    _write_zip(archive, [("late/readme.txt", payload, len(payload), 0)], HOLE)
    assert archive.stat().st_size > TWO_GIB
    assert archive.stat().st_blocks * 512 < 64 * 2**20  # sparse: the hole takes no disk

    manager = ArchiveManager()
    assert manager.verify_archive_integrity(archive)
    meta = manager.extract_archive(archive, tmp_path / "out")
    assert meta.files == ["late/readme.txt"]
    assert (tmp_path / "out" / "late" / "readme.txt").read_bytes() == payload


def test_zip64_member_declared_over_2gib_is_refused_by_the_limits(tmp_path: Path) -> None:
    archive = tmp_path / "declared.zip"
    declared = 3 * 2**30
    _write_zip(archive, [("huge.bin", zlib.compress(b"")[2:-4], declared, 8)], 0)
    config = ArchiveConfig(max_extract_size=TWO_GIB)
    with pytest.raises(ArchiveLimitError) as caught:
        ArchiveManager(config).extract_archive(archive, tmp_path / "out")
    assert "huge.bin" in str(caught.value)
    assert str(declared) in str(caught.value) and str(TWO_GIB) in str(caught.value)
    assert not (tmp_path / "out" / "huge.bin").exists()


def test_tar_member_declared_over_2gib_is_refused_by_the_limits(tmp_path: Path) -> None:
    archive = tmp_path / "declared.tar"
    declared = 3 * 2**30
    info = tarfile.TarInfo("huge.bin")
    info.size = declared
    with open(archive, "wb") as handle:
        handle.write(info.tobuf(format=tarfile.GNU_FORMAT))
        handle.write(b"\0" * 4096)  # far less than declared: the limit must stop it first
    config = ArchiveConfig(max_extract_size=TWO_GIB)
    with pytest.raises(ArchiveLimitError) as caught:
        ArchiveManager(config).extract_archive(archive, tmp_path / "out")
    assert str(declared) in str(caught.value)


def test_limits_above_the_32_bit_range_are_plain_ints(tmp_path: Path) -> None:
    """The default limits (64 GiB, ...) exceed a 32-bit ssize_t; an ordinary archive still
    extracts under them, and a limit set past 2**32 still compares exactly."""
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.txt").write_bytes(b"a" * 1000)
    for suffix in ("tar.gz", "zip"):
        archive = tmp_path / f"a.{suffix}"
        ArchiveManager().create_archive(tree, archive)
        config = ArchiveConfig(max_extract_size=2**33 + 1, ratio_check_threshold=2**40)
        ArchiveManager(config).extract_archive(archive, tmp_path / f"out-{suffix}")
        assert (tmp_path / f"out-{suffix}" / "a.txt").read_bytes() == b"a" * 1000


def _gzip_with_late_segment(path: Path, tail: bytes) -> GzipIndex:
    """A gzip file whose last restart point is past 2**31 both in the file and in the output:
    the segments before it are a hole the index only declares (never inflated here), the last
    one is real deflate data, and the trailer matches the index, as ``usable_index`` checks."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = compressor.compress(tail) + compressor.flush()
    holes = 2**32 // MAX_SEGMENT_OUTPUT + 2  # declared segments, each within MAX_SEGMENT_OUTPUT
    step = HOLE // holes
    starts = [(GZIP_HEADER_SIZE + i * step, i * MAX_SEGMENT_OUTPUT, 0) for i in range(holes)]
    late = (GZIP_HEADER_SIZE + holes * step, holes * MAX_SEGMENT_OUTPUT, zlib.crc32(tail))
    starts.append(late)
    size = late[0] + len(body) + 8
    uncompressed = late[1] + len(tail)
    index = GzipIndex.from_segments(starts, size, uncompressed)
    _sparse_file(path, size)
    with open(path, "r+b") as handle:
        handle.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff")
        handle.seek(late[0])
        handle.write(body + struct.pack("<II", index.crc32, uncompressed & 0xFFFFFFFF))
    return index


def test_gzip_index_restart_point_past_2gib(tmp_path: Path) -> None:
    path = tmp_path / "late.gz"
    tail = b"the last segment, past two gibibytes\n" * 1000
    index = _gzip_with_late_segment(path, tail)
    last = index.segments[-1]
    assert last.offset > TWO_GIB and last.uncompressed_offset > TWO_GIB
    assert index.uncompressed_size > 2**32  # the trailer holds it modulo 2**32

    data = index.to_dict()
    assert GzipIndex.from_dict(data) == index
    usable = usable_index(str(path), data)
    assert usable is not None and usable.segments[-1] == last

    fd = os.open(path, os.O_RDONLY)
    try:
        pieces = inflate_segment(fd, last, last=True)
    finally:
        os.close(fd)
    assert pieces is not None and b"".join(pieces) == tail
