"""A member dated where this system's ``time_t`` cannot reach (after 2038 on 32-bit Raspberry
Pi OS) gets the nearest time the system holds, with one warning naming the first, not the
time of extraction in silence.

A 32-bit ``time_t`` cannot be had on this machine, so ``os.utime`` is stood in for by one that
refuses what a 32-bit system refuses (``OverflowError``); the emulated armhf run of
``scripts/test-pi.sh`` meets the real one."""

from __future__ import annotations

import io
import logging
import os
import tarfile

import pytest

from archive_parallel import ArchiveConfig, ArchiveManager
from archive_parallel.extract import mtimes

Y2040 = 2_208_988_800  # 2040-01-01 00:00:00 UTC
LIMIT = 2**31 - 1


@pytest.fixture
def time_t_32(monkeypatch):
    real_utime = os.utime

    def utime(target, times=None, **options):
        if times is not None and any(not -(2**31) <= t <= LIMIT for t in times):
            raise OverflowError("timestamp out of range for platform time_t")
        return real_utime(target, times, **options)

    monkeypatch.setattr(mtimes.os, "utime", utime)
    monkeypatch.setattr(mtimes, "TIME_T_MIN", -(2**31))
    monkeypatch.setattr(mtimes, "TIME_T_MAX", LIMIT)
    monkeypatch.setattr(mtimes, "_warned", type(mtimes._warned)())


def _archive(path, kinds):
    with tarfile.open(path, "w:gz") as tar:
        for name, kind in kinds.items():
            info = tarfile.TarInfo(name)
            info.mtime = Y2040
            if kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif kind == "link":
                info.type, info.linkname = tarfile.SYMTYPE, "file.txt"
                tar.addfile(info)
            else:
                info.size = 3
                tar.addfile(info, io.BytesIO(b"hi\n"))


@pytest.mark.parametrize("parallel", [True, False])
def test_a_member_after_2038_gets_the_last_time_a_32_bit_system_holds(
    time_t_32, tmp_path, caplog, parallel
):
    archive = tmp_path / "pkg.tar.gz"
    _archive(archive, {"app": "dir", "app/file.txt": "file", "app/link": "link"})
    config = ArchiveConfig(durable_writes=False, enable_parallel_processing=parallel)
    with caplog.at_level(logging.WARNING, logger="archive_parallel"):
        ArchiveManager().extract_archive(archive, tmp_path / "out", config)
    out = tmp_path / "out" / "app"
    assert os.stat(out / "file.txt").st_mtime == LIMIT
    assert os.lstat(out / "link").st_mtime == LIMIT
    assert os.stat(out).st_mtime == LIMIT
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "2040-01-01 00:00:00 UTC" in warnings[0] and "2038-01-19 03:14:07 UTC" in warnings[0]


def test_a_time_the_system_holds_is_set_as_it_is(time_t_32, tmp_path, caplog):
    path = tmp_path / "f"
    path.write_bytes(b"x")
    with caplog.at_level(logging.WARNING, logger="archive_parallel"):
        mtimes.set_mtime(path, 1_600_000_000, "f")
    assert os.stat(path).st_mtime == 1_600_000_000
    assert caplog.records == []
