"""The zip layout check reads local headers that lie close together a few dozen at a time:
the data offsets it finds are those of every header read alone, a large member between
headers is skipped rather than read, and damage is found wherever it falls."""

from __future__ import annotations

import os
import struct
import zipfile
from pathlib import Path

import pytest

from archive_parallel.errors import CorruptArchiveError
from archive_parallel.read import zip_layout
from archive_parallel.read.zip_layout import HEADER_READ_SPAN, check_data_ranges

_LOCAL = struct.Struct("<4sHHHHHIIIHH")


def _package_like(path: Path) -> Path:
    """Small deflated members, one large stored member in the middle, small ones after."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for index in range(300):
            archive.writestr(f"small/{index:03}.py", f"value = {index}\n" * (index % 40 + 1))
        archive.writestr("big.bin", os.urandom(3 * HEADER_READ_SPAN), zipfile.ZIP_STORED)
        for index in range(50):
            archive.writestr(f"after/{index:02}.txt", os.urandom(index * 97))
    return path


def _offsets_one_by_one(path: Path, infos: list[zipfile.ZipInfo]) -> list[int]:
    data = path.read_bytes()
    offsets = []
    for info in infos:
        fields = _LOCAL.unpack_from(data, info.header_offset)
        offsets.append(info.header_offset + _LOCAL.size + fields[9] + fields[10])
    return offsets


def _check(path: Path) -> tuple[list[zipfile.ZipInfo], list[int]]:
    with zipfile.ZipFile(path) as archive, open(path, "rb") as handle:
        infos = archive.infolist()
        return infos, check_data_ranges(handle.fileno(), infos, archive.start_dir)


def test_offsets_match_headers_read_one_by_one(tmp_path, monkeypatch):
    path = _package_like(tmp_path / "package.zip")
    reads: list[int] = []
    real_pread = os.pread

    def counting_pread(fd: int, length: int, offset: int) -> bytes:
        reads.append(length)
        return real_pread(fd, length, offset)

    monkeypatch.setattr(zip_layout.os, "pread", counting_pread)
    infos, offsets = _check(path)
    assert offsets == _offsets_one_by_one(path, infos)
    assert len(reads) < len(infos) // 10  # 351 headers
    # the large member is never read with the headers around it
    assert max(reads) <= HEADER_READ_SPAN + _LOCAL.size + 256


def test_a_damaged_header_among_close_ones_is_still_found(tmp_path):
    path = _package_like(tmp_path / "package.zip")
    with zipfile.ZipFile(path) as archive:
        victim = archive.infolist()[123]
    data = bytearray(path.read_bytes())
    data[victim.header_offset : victim.header_offset + 4] = b"PK\x09\x09"
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptArchiveError, match="bad local header signature"):
        _check(path)


def test_headers_out_of_order_are_read_right(tmp_path):
    """A central directory that lists members in another order than their headers."""
    source = _package_like(tmp_path / "package.zip")
    with zipfile.ZipFile(source) as archive, open(source, "rb") as handle:
        reversed_infos = list(reversed(archive.infolist()))
        offsets = check_data_ranges(handle.fileno(), reversed_infos, archive.start_dir)
    assert offsets == _offsets_one_by_one(source, reversed_infos)
