"""Zip members this library cannot read, compressed with a method it has no decoder for
(Deflate64, PPMd, XZ...) or encrypted (AES, ZipCrypto), are refused before anything is
written with ``UnsupportedArchiveError`` naming the member, the method by name and what to
do instead; verification gives the same reason. Stored, Deflate, bzip2 and LZMA are read."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path

import pytest
from extract_helpers import raw_zip

from archive_parallel import ArchiveManager, CorruptArchiveError, UnsupportedArchiveError

BAD = b"bad.bin"
GOOD_BODY = b"a good member, before the one that cannot be read\n" * 20
RECOMPRESS = "re-create the zip with Deflate, e.g. 7-Zip -mm=Deflate"
DECRYPT = "decrypt it first (extract it with its password, then re-create the zip without one)"


def _zip(path: Path, method: int, flags: int = 0) -> Path:
    """A zip of a good deflated member, then ``bad.bin`` with ``method`` and ``flags``."""
    good_data = zlib.compressobj(6, zlib.DEFLATED, -15)
    deflated = good_data.compress(GOOD_BODY) + good_data.flush()
    good = (b"good.txt", deflated, len(GOOD_BODY), zlib.crc32(GOOD_BODY), zipfile.ZIP_DEFLATED)
    body = b"these bytes are never decoded"
    raw_zip(path, [good, (BAD, body, len(body), zlib.crc32(body), method)])
    return _set_flags(path, BAD, flags) if flags else path


def _set_flags(path: Path, name: bytes, flags: int) -> Path:
    """Set the general purpose flags of ``name``'s local and central headers."""
    data = bytearray(path.read_bytes())
    for signature, flags_at, name_at in ((b"PK\x03\x04", 6, 30), (b"PK\x01\x02", 8, 46)):
        at = data.find(signature)
        while at != -1:
            if data[at + name_at : at + name_at + len(name)] == name:
                struct.pack_into("<H", data, at + flags_at, flags)
            at = data.find(signature, at + 1)
    path.write_bytes(bytes(data))
    return path


def _assert_refused(archive: Path, tmp_path: Path, what: str, hint: str) -> None:
    expected = (
        f"{archive.name} (zip): member 'bad.bin' uses {what}, which this library does not read: "
        f"{hint}"
    )
    manager = ArchiveManager()
    dest = tmp_path / "out"
    with pytest.raises(UnsupportedArchiveError) as caught:
        manager.extract_archive(archive, dest)
    assert str(caught.value) == expected
    assert isinstance(caught.value, CorruptArchiveError) and caught.value.member == "bad.bin"
    assert not dest.exists()  # refused before the good member was written
    assert manager.verify_archive_integrity(archive) is False
    report = manager.verify_archive_details(archive)
    assert (report.ok, report.reason, report.unsupported) == (False, expected, True)


@pytest.mark.parametrize(
    ("method", "name"),
    [
        (9, "Deflate64"),
        (98, "PPMd"),
        (95, "XZ"),
        (93, "Zstandard"),
        (6, "Implode"),
        (77, "an unknown"),
    ],
)
def test_a_method_without_a_reader_is_named(tmp_path, method, name):
    archive = _zip(tmp_path / f"m{method}.zip", method)
    _assert_refused(archive, tmp_path, f"{name} compression (zip method {method})", RECOMPRESS)


@pytest.mark.parametrize(
    ("method", "flags", "what"),
    [
        (99, 0x1, "AES encryption"),
        (zipfile.ZIP_DEFLATED, 0x1, "ZipCrypto encryption"),
        (zipfile.ZIP_STORED, 0x41, "PKWARE strong encryption"),
    ],
)
def test_an_encrypted_member_is_named_with_its_encryption(tmp_path, method, flags, what):
    archive = _zip(tmp_path / "encrypted.zip", method, flags)
    _assert_refused(archive, tmp_path, what, DECRYPT)


@pytest.mark.skipif(shutil.which("zip") is None, reason="Info-ZIP zip is not installed")
def test_info_zip_encryption_and_bzip2_as_the_tool_writes_them(tmp_path):
    """``zip -e`` writes ZipCrypto, refused as such; ``zip -Z bzip2`` is read."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "bad.bin").write_bytes(b"secret\n" * 100)
    encrypted = tmp_path / "e.zip"
    subprocess.run(["zip", "-q", "-e", "-P", "pw", encrypted, "bad.bin"], cwd=src, check=True)
    _assert_refused(encrypted, tmp_path, "ZipCrypto encryption", DECRYPT)
    bzip2 = tmp_path / "b.zip"
    made = subprocess.run(["zip", "-q", "-Z", "bzip2", bzip2, "bad.bin"], cwd=src)
    if made.returncode != 0:
        pytest.skip("this zip was built without bzip2")
    ArchiveManager().extract_archive(bzip2, tmp_path / "b")
    assert (tmp_path / "b" / "bad.bin").read_bytes() == b"secret\n" * 100


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA], ids=["bzip2", "lzma"])
def test_bzip2_and_lzma_members_are_read(tmp_path, method):
    archive = tmp_path / "read.zip"
    with zipfile.ZipFile(archive, "w", compression=method) as out:
        out.writestr("a.txt", GOOD_BODY)
    manager = ArchiveManager()
    assert manager.verify_archive_integrity(archive) is True
    manager.extract_archive(archive, tmp_path / "out")
    assert (tmp_path / "out" / "a.txt").read_bytes() == GOOD_BODY
