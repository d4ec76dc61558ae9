"""Member dates after 2038 on the platform's own ``time_t``, without a stand-in.

32-bit Raspberry Pi OS (armhf, Debian bookworm) has a 32-bit ``time_t``: a member dated 2040
cannot be set there, and extraction must give it the last time the system holds, with one
warning. Everywhere else the date is set as it is. ``scripts/test-pi.sh`` runs this file on an
emulated armv7l (and CI on an emulated aarch64); it runs everywhere else too. The library's
rule on a stand-in 32-bit ``os.utime`` is tested in ``tests/extract``.
"""

from __future__ import annotations

import io
import logging
import os
import tarfile
import time
from pathlib import Path

import pytest

from archive_parallel import ArchiveConfig, ArchiveManager
from archive_parallel.extract import mtimes

Y2040 = 2_208_988_800  # 2040-01-01 00:00:00 UTC


def _platform_time_t_is_32_bit() -> bool:
    try:
        time.gmtime(2**31)
    except (OverflowError, OSError, ValueError):
        return True
    return False


@pytest.fixture
def fresh_warning(monkeypatch):
    """The one warning a process gives, as if no extraction had run before this test."""
    monkeypatch.setattr(mtimes, "_warned", type(mtimes._warned)())


def _archive(path: Path) -> None:
    with tarfile.open(path, "w:gz") as tar:
        folder = tarfile.TarInfo("app")
        folder.type, folder.mtime = tarfile.DIRTYPE, Y2040
        tar.addfile(folder)
        member = tarfile.TarInfo("app/later.txt")
        member.size, member.mtime = 6, Y2040
        tar.addfile(member, io.BytesIO(b"later\n"))


def test_the_library_reads_the_same_time_t_range_as_the_platform() -> None:
    if _platform_time_t_is_32_bit():
        assert mtimes.TIME_T_MAX == 2**31 - 1
    else:
        assert mtimes.TIME_T_MAX >= Y2040


@pytest.mark.parametrize("parallel", [True, False])
def test_a_member_dated_2040_extracts_on_this_platform(tmp_path, caplog, fresh_warning, parallel):
    archive = tmp_path / "pkg.tar.gz"
    _archive(archive)
    config = ArchiveConfig(durable_writes=False, enable_parallel_processing=parallel)
    with caplog.at_level(logging.WARNING, logger="archive_parallel"):
        ArchiveManager().extract_archive(archive, tmp_path / "out", config)
    extracted = tmp_path / "out" / "app" / "later.txt"
    assert extracted.read_bytes() == b"later\n"
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    if _platform_time_t_is_32_bit():
        assert os.stat(extracted).st_mtime == 2**31 - 1
        assert os.stat(extracted.parent).st_mtime == 2**31 - 1
        assert len(warnings) == 1 and "2040-01-01 00:00:00 UTC" in warnings[0]
    else:
        assert os.stat(extracted).st_mtime == Y2040
        assert os.stat(extracted.parent).st_mtime == Y2040
        assert warnings == []
