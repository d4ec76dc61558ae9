"""Zip mtimes across 2038: the Info-ZIP extended timestamp (0x5455) holds 32 bits. We write a
time after 2038-01-19 as unsigned, as Info-ZIP's zip, libarchive and 7-Zip do, and tell it
from a time before 1970 by the member's DOS date, as Info-ZIP's unzip does; a time the field
cannot hold (after 2106-02-07) falls back on the DOS date, which runs to 2107. Real files,
real archives, read back by us and by the system ``unzip`` (and ``zip``'s own archives)."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import time
import zipfile
from pathlib import Path

import pytest

from archive_parallel import ArchiveConfig, ArchiveManager
from archive_parallel.codecs.zip_extra import (
    extended_timestamp,
    read_exact_mtime,
    read_unix_mtime,
)
from archive_parallel.read.zip_layout import zip_mtime

#: name -> mtime; odd seconds where the 0x5455 field must carry them (the DOS time cannot)
IN_FIELD = {
    "before-1970": -1_000_001,
    "now": 1_700_000_001,
    "last-int32": 2**31 - 1,
    "first-after-2038": 2**31,
    "2039": 2_200_000_001,
    "2100": 4_102_444_801,
    "last-uint32": 2**32 - 1,
}
#: past the field: the DOS date's 2-second steps, so even seconds
PAST_FIELD = {"2106-after-field": 2**32 + 1000, "2107": 4_354_000_000}


def _source(root: Path, times: dict[str, int]) -> Path:
    root.mkdir(parents=True)
    for name, mtime in times.items():
        path = root / name
        path.write_text(name)
        try:
            os.utime(path, (mtime, mtime))
        except (OverflowError, OSError) as exc:  # a 32-bit time_t, or a file system without
            pytest.skip(f"this system cannot set mtime {mtime}: {exc}")
        if int(path.stat().st_mtime) != mtime:
            pytest.skip(f"this file system does not keep mtime {mtime}")
    return root


def _mtimes(folder: Path, names) -> dict[str, int]:
    return {name: int((folder / name).stat().st_mtime) for name in names}


@pytest.mark.parametrize("parallel", [False, True])
def test_zip_mtimes_round_trip_to_the_dos_limit(tmp_path, parallel):
    times = {**IN_FIELD, **PAST_FIELD}
    src = _source(tmp_path / "src", times)
    config = ArchiveConfig(enable_parallel_processing=parallel, parallel_threshold=1)
    with ArchiveManager() as manager:
        manager.create_archive(src, tmp_path / "a.zip", config)
        manager.extract_archive(tmp_path / "a.zip", tmp_path / "out", config)
        listed = {m.name: int(m.mtime) for m in manager.list_archive(tmp_path / "a.zip")}
    assert _mtimes(tmp_path / "out", times) == times
    assert listed == times
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        dos_years = {info.filename: info.date_time[0] for info in archive.infolist()}
    assert dos_years["2039"] == 2039 and dos_years["2107"] == 2107
    assert dos_years["before-1970"] == 1980  # the DOS date's floor; the field has the time


@pytest.mark.skipif(shutil.which("unzip") is None, reason="unzip not installed")
def test_unzip_reads_our_mtimes_after_2038(tmp_path):
    """Info-ZIP's unzip takes the field as unsigned when the DOS date is 2038 or later; it
    ignores a negative one (the DOS floor, 1980, is what it restores) and reads DOS dates
    after 2100 a day late (its own leap-year slip), so those are left out here."""
    src = _source(tmp_path / "src", IN_FIELD)
    ArchiveManager().create_archive(src, tmp_path / "a.zip", ArchiveConfig())
    subprocess.run(
        ["unzip", "-q", str(tmp_path / "a.zip"), "-d", str(tmp_path / "out")], check=True
    )
    expected = {name: mtime for name, mtime in IN_FIELD.items() if mtime >= 0}
    assert _mtimes(tmp_path / "out", expected) == expected


@pytest.mark.skipif(shutil.which("zip") is None, reason="zip not installed")
def test_we_read_info_zip_mtimes_after_2038(tmp_path):
    """Info-ZIP's zip writes times after 2038 as unsigned 32-bit values: we used to read them
    as times before 1970."""
    times = {name: IN_FIELD[name] for name in ("now", "first-after-2038", "2039", "last-uint32")}
    src = _source(tmp_path / "src", times)
    subprocess.run(["zip", "-q", "-r", str(tmp_path / "z.zip"), "."], cwd=src, check=True)
    ArchiveManager().extract_archive(tmp_path / "z.zip", tmp_path / "out")
    assert _mtimes(tmp_path / "out", times) == times


@pytest.mark.parametrize(
    ("mtime", "dos", "read"),
    [
        (2**31 - 1, (2038, 1, 19, 3, 14, 6), 2**31 - 1),
        (2**31, (2038, 1, 19, 3, 14, 8), 2**31),
        (2**32 - 1, (2106, 2, 7, 6, 28, 14), 2**32 - 1),
        (-1, (1980, 1, 1, 0, 0, 0), -1),
        (-(2**31), (1980, 1, 1, 0, 0, 0), -(2**31)),
    ],
)
def test_the_field_holds_a_time_either_side_of_2038(mtime, dos, read):
    field = extended_timestamp(mtime)
    assert len(field) == 9
    info = zipfile.ZipInfo("x", date_time=dos)
    info.extra = field
    assert read_unix_mtime(info) == read


def test_a_time_the_field_cannot_hold_is_left_to_the_dos_date():
    assert extended_timestamp(2**32) == b""
    assert extended_timestamp(-(2**31) - 1) == b""
    assert read_unix_mtime(zipfile.ZipInfo("x", date_time=(2107, 1, 1, 0, 0, 0))) is None


#: 2024-05-06 07:08:09.1234567 UTC, as a Windows FILETIME (100 ns since 1601-01-01 UTC)
NTFS_MTIME = 1_714_979_289.1234567
NTFS_TICKS = 17_149_792_891_234_567 + 116_444_736_000_000_000
#: the same moment's DOS date as a writer in Tokyo (UTC+9) stores it: its local time
TOKYO_DOS_DATE = (2024, 5, 6, 16, 8, 8)


def ntfs_field(mtime_ticks: int) -> bytes:
    """The NTFS extra field as 7-Zip writes it: 4 reserved bytes, attribute 1 of 24 bytes
    (mtime, then atime and ctime left 0)."""
    data = bytes(4) + struct.pack("<HHQQQ", 1, 24, mtime_ticks, 0, 0)
    return struct.pack("<HH", 0x000A, len(data)) + data


def _windows_zip(path: Path, extra: bytes, date_time=TOKYO_DOS_DATE) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo("a.txt", date_time=date_time)
        info.create_system = 0  # Windows: no unix mode
        info.extra = extra
        archive.writestr(info, b"made in Tokyo\n")
    return path


def test_the_ntfs_mtime_wins_over_the_writers_local_dos_date(tmp_path):
    """7-Zip's NTFS field holds the mtime in UTC; the DOS date is Tokyo's local time, nine
    hours off wherever the zip is extracted but Tokyo."""
    archive = _windows_zip(tmp_path / "tokyo.zip", ntfs_field(NTFS_TICKS))
    manager = ArchiveManager()
    manager.extract_archive(archive, tmp_path / "out")
    mtime_ns = (tmp_path / "out" / "a.txt").stat().st_mtime_ns
    assert abs(mtime_ns - 1_714_979_289_123_456_700) < 1_000  # to the microsecond
    assert manager.list_archive(archive)[0].mtime == pytest.approx(NTFS_MTIME, abs=1e-6)


def test_the_ntfs_mtime_goes_before_the_extended_timestamp():
    """Both are UTC; the NTFS field holds 100 ns steps, the extended timestamp seconds."""
    info = zipfile.ZipInfo("a.txt", date_time=TOKYO_DOS_DATE)
    info.extra = extended_timestamp(1_714_979_289) + ntfs_field(NTFS_TICKS)
    assert read_exact_mtime(info) == pytest.approx(NTFS_MTIME, abs=1e-6)
    assert zip_mtime(info) == pytest.approx(NTFS_MTIME, abs=1e-6)


@pytest.mark.parametrize("ticks", [0, 2**64 - 1], ids=["unset", "after-year-9999"])
def test_an_ntfs_time_out_of_range_falls_back(ticks):
    with_timestamp = zipfile.ZipInfo("a.txt", date_time=TOKYO_DOS_DATE)
    with_timestamp.extra = ntfs_field(ticks) + extended_timestamp(1_714_979_289)
    assert zip_mtime(with_timestamp) == 1_714_979_289
    dos_only = zipfile.ZipInfo("a.txt", date_time=TOKYO_DOS_DATE)
    dos_only.extra = ntfs_field(ticks)
    assert zip_mtime(dos_only) == time.mktime((*TOKYO_DOS_DATE, 0, 0, -1))


@pytest.mark.skipif(
    shutil.which("7zz") is None and shutil.which("7z") is None, reason="7-Zip is not installed"
)
def test_a_7zip_zip_made_in_tokyo_extracts_with_its_utc_mtime(tmp_path):
    src = _source(tmp_path / "src", {"a.txt": 1_714_979_289})
    seven = shutil.which("7zz") or shutil.which("7z")
    made_in_tokyo = dict(os.environ, TZ="Asia/Tokyo")
    command = [seven, "a", "-tzip", str(tmp_path / "t.zip"), "a.txt"]
    subprocess.run(command, cwd=src, env=made_in_tokyo, check=True, capture_output=True)
    ArchiveManager().extract_archive(tmp_path / "t.zip", tmp_path / "out")
    assert _mtimes(tmp_path / "out", ["a.txt"]) == {"a.txt": 1_714_979_289}
