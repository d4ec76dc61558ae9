"""A case- and normalisation-insensitive file system for the tests: ``foldfs.py`` mounted
through FUSE for the session (skipped, with the reason, where FUSE cannot be used)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

FOLDFS = Path(__file__).with_name("foldfs.py")


def _why_no_fuse() -> str | None:
    if not sys.platform.startswith("linux"):
        return "the FUSE passthrough runs on Linux only"
    if not os.path.exists("/dev/fuse"):
        return "no /dev/fuse on this machine"
    if importlib.util.find_spec("mfusepy") is None:
        return "the mfusepy package is not installed (pip install mfusepy)"
    if not (shutil.which("fusermount3") or shutil.which("fusermount")):
        return "no fusermount (apt-get install fuse3)"
    return None


def _mounted(path: Path) -> bool:
    try:
        mounts = Path("/proc/mounts").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return any(line.split()[1] == str(path) for line in mounts.splitlines() if line.strip())


@pytest.fixture(scope="session")
def folding_mount(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder on a file system that ignores case and Unicode normalisation, like APFS."""
    reason = _why_no_fuse()
    if reason:
        pytest.skip(reason)
    base = tmp_path_factory.mktemp("foldfs")
    backing, mountpoint = base / "backing", base / "mnt"
    backing.mkdir()
    mountpoint.mkdir()
    log = open(base / "foldfs.log", "wb")  # noqa: SIM115 - closed below, after the server
    server = subprocess.Popen(
        [sys.executable, str(FOLDFS), str(backing), str(mountpoint)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 20
    while not _mounted(mountpoint):
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            server.wait()
            log.close()
            pytest.skip(f"FUSE mount failed: {(base / 'foldfs.log').read_text()[-300:]}")
        time.sleep(0.05)  # waiting for another program to mount, outside the library
    try:
        yield mountpoint
    finally:
        fusermount = shutil.which("fusermount3") or shutil.which("fusermount")
        subprocess.run([fusermount, "-u", str(mountpoint)], check=False, capture_output=True)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
