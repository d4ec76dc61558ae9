"""The tar.zst reader: several frames, skippable frames, small output steps, and damage."""

from __future__ import annotations

import os
import struct

import pytest

from archive_parallel.codecs import zstd as zstd_codec
from archive_parallel.codecs.readers import open_decompressed
from archive_parallel.codecs.zstd import zstd_available, zstd_module
from archive_parallel.errors import CorruptArchiveError
from archive_parallel.formats import CompressionFormat

pytestmark = pytest.mark.skipif(not zstd_available(), reason="no Zstandard support installed")

PARTS = [os.urandom(300_000), b"abc" * 500_000, b"", b"x" * 10]


def _skippable(payload: bytes) -> bytes:
    return struct.pack("<II", 0x184D2A50, len(payload)) + payload


def _frames() -> bytes:
    zstd = zstd_module()
    checksummed = {zstd.CompressionParameter.checksum_flag: 1}
    out = [_skippable(b"hello")]
    for i, part in enumerate(PARTS):
        out.append(zstd.compress(part, options=checksummed))
        if i % 2:
            out.append(_skippable(b"between"))
    out.append(_skippable(b""))
    return b"".join(out)


def _read_all(path, executor) -> bytes:
    with open_decompressed(path, CompressionFormat.TAR_ZST, executor) as stream:
        return stream.read()


@pytest.mark.parametrize("output_step", [1024 * 1024, 1000])
def test_frames_and_skippable_frames_read_in_order(tmp_path, executor, monkeypatch, output_step):
    monkeypatch.setattr(zstd_codec, "OUTPUT_STEP", output_step)
    path = tmp_path / "frames.tar.zst"
    path.write_bytes(_frames())
    assert _read_all(path, executor) == b"".join(PARTS)


@pytest.mark.parametrize(
    "damage",
    ["trailing-junk", "cut-in-last-frame", "cut-in-half", "flipped"],
)
def test_damage_is_corrupt_archive_error(tmp_path, executor, damage):
    data = _frames()
    damaged = {
        "trailing-junk": data + b"junk after the frames",
        "cut-in-last-frame": data[: -len(_skippable(b"")) - 3],
        "cut-in-half": data[: len(data) // 2],
        "flipped": data[:400] + bytes([data[400] ^ 0x10]) + data[401:],
    }[damage]
    path = tmp_path / f"{damage}.tar.zst"
    path.write_bytes(damaged)
    with pytest.raises(CorruptArchiveError):
        _read_all(path, executor)
