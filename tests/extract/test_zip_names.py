"""Zips made on Windows, and zip names as extraction, verification, listings and messages
give them. Info-ZIP's ``zip`` there and WinZip store a code-page name with ``?``
or ``_`` for each character the code page lacks (plain ASCII: ``app/??.txt``) and the real
name in an Info-ZIP Unicode Path field (0x7075: version 1, the CRC-32 of the stored name, the
UTF-8 name). Extraction, verification and listing all use that name, as ``unzip`` and ``7z``
do, and judge it by the same name checks as any other; damage is reported under that name
too. A listing shows a Windows zip (``\\`` between folders, no unix modes) with the names and
modes extraction gives. Real archives crafted with ``zipfile``, real files on disk."""

from __future__ import annotations

import json
import shutil
import stat
import struct
import subprocess
import warnings
import zipfile
import zlib
from pathlib import Path

import pytest

from archive_parallel import ArchiveManager, CorruptArchiveError, UnsafeArchiveError
from tests.cli_runner import run_cli
from tests.umask import umask

WINDOWS = 0  # ZipInfo.create_system of a zip made on Windows (FAT): no unix mode


def unicode_path_field(stored: str, real: str, crc_of: str | None = None) -> bytes:
    """An Info-ZIP Unicode Path field giving ``real`` for the stored name ``stored`` (its
    CRC-32 taken of ``crc_of`` instead, to make the field stale)."""
    crc = zlib.crc32((stored if crc_of is None else crc_of).encode("cp437"))
    data = struct.pack("<BI", 1, crc) + real.encode("utf-8")
    return struct.pack("<HH", 0x7075, len(data)) + data


def windows_zip(path: Path, members: list[tuple[str, bytes, bytes]]) -> Path:
    """A zip as Windows tools write it: ``(stored name, extra field, data)`` per member, host
    system FAT, no unix mode."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # stored names repeat, as on Windows
        for stored, extra, data in members:
            info = zipfile.ZipInfo(stored, date_time=(2024, 5, 6, 7, 8, 10))
            info.create_system = WINDOWS
            info.external_attr = 0x10 if stored.endswith(("/", "\\")) else 0x20
            info.extra = extra
            archive.writestr(info, data)
    return path


@pytest.fixture
def question_marks(tmp_path: Path) -> Path:
    """Two members whose stored names are both ``app/??.txt``."""
    return windows_zip(
        tmp_path / "cjk.zip",
        [
            ("app/??.txt", unicode_path_field("app/??.txt", "app/日本.txt"), b"japan\n"),
            ("app/??.txt", unicode_path_field("app/??.txt", "app/中国.txt"), b"china\n"),
            ("app/_.txt", unicode_path_field("app/_.txt", "app/é.txt"), b"e\n"),
        ],
    )


def test_an_ascii_name_with_a_unicode_path_field_extracts_under_the_real_name(
    question_marks, tmp_path
):
    manager = ArchiveManager()
    manager.extract_archive(question_marks, tmp_path / "out")
    app = tmp_path / "out" / "app"
    assert sorted(p.name for p in app.iterdir()) == sorted(["日本.txt", "中国.txt", "é.txt"])
    assert (app / "日本.txt").read_bytes() == b"japan\n"
    assert (app / "中国.txt").read_bytes() == b"china\n"
    assert manager.verify_archive_integrity(question_marks, check_safety=True)
    listed = [m.name for m in manager.list_archive(question_marks)]
    assert listed == ["app/日本.txt", "app/中国.txt", "app/é.txt"]


@pytest.mark.skipif(shutil.which("unzip") is None, reason="Info-ZIP unzip is not installed")
def test_unzip_makes_the_same_names(question_marks, tmp_path):
    out = tmp_path / "unzipped"
    subprocess.run(["unzip", "-q", str(question_marks), "-d", str(out)], check=True)
    ours = tmp_path / "ours"
    ArchiveManager().extract_archive(question_marks, ours)
    assert sorted(p.name for p in (out / "app").iterdir()) == sorted(
        p.name for p in (ours / "app").iterdir()
    )


def test_a_stale_unicode_path_field_is_ignored(tmp_path):
    """A field whose CRC-32 is not the stored name's was written for another name."""
    archive = windows_zip(
        tmp_path / "stale.zip",
        [("a_b.txt", unicode_path_field("a_b.txt", "real.txt", crc_of="other"), b"x")],
    )
    ArchiveManager().extract_archive(archive, tmp_path / "out")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["a_b.txt"]


@pytest.mark.parametrize("hostile", ["../evil.txt", "/tmp/evil.txt", "a/../../evil.txt"])
def test_a_hostile_unicode_path_is_refused_like_any_name(tmp_path, hostile):
    archive = windows_zip(
        tmp_path / "hostile.zip",
        [
            ("fine.txt", b"", b"fine"),
            ("evil.txt", unicode_path_field("evil.txt", hostile), b"evil"),
        ],
    )
    manager = ArchiveManager()
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(UnsafeArchiveError) as caught:
        manager.extract_archive(archive, dest)
    assert caught.value.member == hostile
    assert list(dest.iterdir()) == []
    assert not (tmp_path / "evil.txt").exists()
    assert not manager.verify_archive_integrity(archive, check_safety=True)
    assert [m.name for m in manager.list_archive(archive)][1] == hostile


def info_zip_utf8_zip(path: Path, name: str, data: bytes) -> Path:
    """A one-member stored zip as Info-ZIP's ``zip`` on Linux writes it: the name's UTF-8
    bytes without the UTF-8 flag, which ``zipfile`` reads as cp437 (``caf├⌐.txt``)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(name, data)
    raw = bytearray(path.read_bytes())
    central = raw.index(b"PK\x01\x02")
    for flags_at in (6, central + 8):  # the local header's flags, the central entry's
        raw[flags_at] &= ~0x08  # bit 11 (0x800) is bit 3 of the high byte
        raw[flags_at + 1] &= ~0x08
    path.write_bytes(bytes(raw))
    return path


def damaged(path: Path, how: str) -> Path:
    """``path`` with its one member's data changed (a CRC error) or its size in the central
    directory one byte more (a size error)."""
    raw = bytearray(path.read_bytes())
    central = raw.index(b"PK\x01\x02")
    if how == "crc":
        raw[central - 1] ^= 0xFF  # the data's last byte, just before the central directory
    else:
        size = struct.unpack_from("<I", raw, central + 24)[0]
        struct.pack_into("<I", raw, central + 24, size + 1)
    path.write_bytes(bytes(raw))
    return path


@pytest.mark.parametrize("how", ["crc", "size"])
@pytest.mark.parametrize("size", [100, 3 * 1024 * 1024], ids=["whole", "in-pieces"])
def test_damage_names_the_member_as_listings_do(tmp_path, how, size):
    archive = info_zip_utf8_zip(tmp_path / "u.zip", "dir/café.txt", b"x" * size)
    manager = ArchiveManager()
    assert [m.name for m in manager.list_archive(archive)] == ["dir/café.txt"]
    damaged(archive, how)
    with pytest.raises(CorruptArchiveError) as caught:
        manager.extract_archive(archive, tmp_path / "out")
    assert caught.value.member == "dir/café.txt"
    assert "'dir/café.txt'" in str(caught.value)
    assert "├" not in str(caught.value)
    report = manager.verify_archive_details(archive)
    assert not report.ok
    assert "dir/café.txt" in report.reason and "├" not in report.reason


@pytest.fixture
def powershell_zip(tmp_path: Path) -> Path:
    """As PowerShell 5.1's ``Compress-Archive`` writes one: ``\\`` between folders, host
    system FAT, no unix mode."""
    return windows_zip(
        tmp_path / "ps.zip",
        [
            ("app\\readme.txt", b"", b"read me\n"),
            ("app\\empty\\", b"", b""),
            ("app\\bin\\tool.exe", b"", b"MZ"),
        ],
    )


def _extracted(root: Path) -> dict[str, tuple[str, int]]:
    """``{name: (kind, mode)}`` of everything below ``root``, as a listing names it."""
    found = {}
    for path in sorted(root.rglob("*")):
        kind = "dir" if path.is_dir() else "file"
        found[path.relative_to(root).as_posix()] = (kind, stat.S_IMODE(path.stat().st_mode))
    return found


@pytest.mark.parametrize("mask", [0o022, 0o077])
def test_a_windows_zip_lists_the_names_and_modes_extraction_gives(powershell_zip, tmp_path, mask):
    manager = ArchiveManager()
    with umask(mask):
        listed = {m.name: (m.kind, m.mode) for m in manager.list_archive(powershell_zip)}
        manager.extract_archive(powershell_zip, tmp_path / "out")
    extracted = _extracted(tmp_path / "out")
    # "app" and "app/bin" are made for the members below them: no member names them
    assert listed == {name: extracted[name] for name in listed}
    assert listed == {
        "app/readme.txt": ("file", 0o666 & ~mask),
        "app/empty": ("dir", 0o777 & ~mask),
        "app/bin/tool.exe": ("file", 0o666 & ~mask),
    }


def test_the_cli_lists_a_windows_zip_as_extraction_makes_it(powershell_zip):
    result = run_cli("list", powershell_zip, "--json")
    assert result.returncode == 0, result.stderr
    members = json.loads(result.stdout)["members"]
    assert [m["name"] for m in members] == ["app/readme.txt", "app/empty", "app/bin/tool.exe"]
    assert all(m["mode"] != 0 for m in members)
