"""Archives in a format this library does not read (lz4, lzip, lzma, Unix compress, lzop, 7z,
RAR) are refused as such, by their magic bytes or else their name, with
``UnsupportedArchiveError`` naming the format: never read as a tar.gz and called damaged.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from archive_parallel import CorruptArchiveError, UnsupportedArchiveError
from archive_parallel.formats import READ_FORMATS
from tests.cli_runner import run_cli

#: what the message calls each format, and the first bytes of a file in it
MAGICS = {
    "lz4-compressed": b"\x04\x22\x4d\x18\x64\x70\xb9",
    "lzip-compressed": b"LZIP\x01\x17\x00",
    "lzma-compressed": b"\x5d\x00\x00\x80\x00\xff\xff",
    "compressed with Unix compress": b"\x1f\x9d\x90",
    "lzop-compressed": b"\x89LZO\x00\r\n\x1a\n\x10",
    "a 7z archive": b"7z\xbc\xaf\x27\x1c\x00\x04",
    "a RAR archive": b"Rar!\x1a\x07\x01\x00",
}
#: what bsdtar writes for each name (``-a``), where it can
BSDTAR_WRITES = {
    "x.tar.lz4": "lz4-compressed",
    "x.tar.lz": "lzip-compressed",
    "x.tar.lzma": "lzma-compressed",
    "x.tar.Z": "compressed with Unix compress",
    "x.7z": "a 7z archive",
}


def _refused(manager, archive: Path, what: str, tmp_path: Path) -> None:
    """Extraction, listing and verification all refuse ``archive`` as ``what``."""
    expected = f"{archive.name} is {what}: not a format this library reads ({READ_FORMATS})"
    dest = tmp_path / "dest"
    with pytest.raises(UnsupportedArchiveError) as caught:
        manager.extract_archive(archive, dest)
    assert str(caught.value) == expected
    assert isinstance(caught.value, CorruptArchiveError) and caught.value.member is None
    assert not dest.exists() or not any(dest.iterdir())
    with pytest.raises(UnsupportedArchiveError, match="not a format this library reads"):
        manager.list_archive(archive)
    assert manager.verify_archive_integrity(archive) is False
    report = manager.verify_archive_details(archive, check_safety=True)
    assert (report.ok, report.reason, report.unsupported) == (False, expected, True)


@pytest.mark.parametrize("what", list(MAGICS))
def test_magic_bytes_name_the_format_whatever_the_name(manager, tmp_path, what):
    archive = tmp_path / "disguised.tar.gz"
    archive.write_bytes(MAGICS[what] + bytes(600))
    _refused(manager, archive, what, tmp_path)


@pytest.mark.parametrize(
    ("name", "what"),
    [
        ("x.tar.lz4", "lz4-compressed"),
        ("x.tar.lz", "lzip-compressed"),
        ("x.tlz", "lzip-compressed"),
        ("x.tar.lzma", "lzma-compressed"),
        ("x.tar.Z", "compressed with Unix compress"),
        ("x.tar.lzo", "lzop-compressed"),
        ("x.7z", "a 7z archive"),
        ("x.RAR", "a RAR archive"),
    ],
)
def test_a_name_names_the_format_when_the_magic_is_unknown(manager, tmp_path, name, what):
    archive = tmp_path / name
    archive.write_bytes(b"\x01\x02\x03" + bytes(600))  # no magic this library knows
    _refused(manager, archive, what, tmp_path)


@pytest.mark.skipif(shutil.which("bsdtar") is None, reason="bsdtar not installed")
@pytest.mark.parametrize("name", list(BSDTAR_WRITES))
def test_bsdtar_archives_are_refused_as_what_they_are(manager, sample_tree, tmp_path, name):
    archive = tmp_path / name
    made = subprocess.run(
        ["bsdtar", "-caf", str(archive), "-C", str(sample_tree), "."], capture_output=True
    )
    if made.returncode != 0:
        pytest.skip(f"bsdtar cannot write {name} here: {made.stderr!r}")
    _refused(manager, archive, BSDTAR_WRITES[name], tmp_path)


def test_a_tar_that_starts_like_lzma_is_read_as_a_tar(manager, tmp_path):
    """A plain tar whose first member is named ``]`` starts with lzma's ``5d 00 00``: its
    ``ustar`` magic decides."""
    archive = tmp_path / "bracket.lzma"
    with tarfile.open(archive, "w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("]")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"ok"))
    assert archive.read_bytes()[:3] == b"\x5d\x00\x00"
    manager.extract_archive(archive, tmp_path / "dest")
    assert (tmp_path / "dest" / "]").read_bytes() == b"ok"


@pytest.mark.parametrize("command", ["extract", "verify", "list"])
def test_the_command_line_says_unsupported_archive(tmp_path, command):
    archive = tmp_path / "x.tar.lz4"
    archive.write_bytes(MAGICS["lz4-compressed"] + bytes(600))
    args = [command, archive] + ([tmp_path / "dest"] if command == "extract" else [])
    r = run_cli(*args)
    assert r.returncode == 1
    assert r.stderr == (
        "archive-parallel: unsupported archive: x.tar.lz4 is lz4-compressed: "
        f"not a format this library reads ({READ_FORMATS})\n"
    )
