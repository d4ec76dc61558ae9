"""File systems for the tests, through FUSE (skipped, with the reason, where FUSE cannot be
used): a case- and normalisation-insensitive one (``foldfs.py``) mounted for the session, and
ones lacking a feature (``limitedfs.py``) mounted for a test."""

from __future__ import annotations

import contextlib
import gc
import importlib.util
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

FOLDFS = Path(__file__).with_name("foldfs.py")
LIMITEDFS = Path(__file__).with_name("limitedfs.py")


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


@contextlib.contextmanager
def _served(base: Path, script: Path, *extra: str) -> Iterator[Path]:
    """``script BACKING MOUNTPOINT EXTRA...`` serving ``base/backing`` at ``base/mnt``, from its
    mount until unmounted at the end (skipped, with its log, when it cannot mount)."""
    reason = _why_no_fuse()
    if reason:
        pytest.skip(reason)
    backing, mountpoint = base / "backing", base / "mnt"
    backing.mkdir()
    mountpoint.mkdir()
    log_path = base / f"{script.stem}.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed below, after the server
    server = subprocess.Popen(
        [sys.executable, str(script), str(backing), str(mountpoint), *extra],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 20
    while not _mounted(mountpoint):
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            server.wait()
            log.close()
            pytest.skip(f"FUSE mount failed: {log_path.read_text()[-300:]}")
        time.sleep(0.05)  # waiting for another program to mount, outside the library
    try:
        yield mountpoint
    finally:
        gc.collect()  # a descriptor a failed test left to the collector keeps the mount busy
        fusermount = shutil.which("fusermount3") or shutil.which("fusermount")
        subprocess.run([fusermount, "-u", str(mountpoint)], check=False, capture_output=True)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.fixture(scope="session")
def folding_mount(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder on a file system that ignores case and Unicode normalisation, like APFS."""
    with _served(tmp_path_factory.mktemp("foldfs"), FOLDFS) as mountpoint:
        yield mountpoint


@pytest.fixture(scope="session")
def linkless_mount(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder on a file system without hard links, like FAT or exFAT."""
    with _served(tmp_path_factory.mktemp("linkless"), LIMITEDFS, "link") as mountpoint:
        yield mountpoint


@pytest.fixture
def limited_mount(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """``limited_mount("ino,chmod")``: a folder on a file system lacking those features
    (``limitedfs.py``), unmounted after the test; ``fsync.log`` beside its backing folder
    (``mountpoint.parent / "fsync.log"``) lists the files it was asked to flush."""
    with contextlib.ExitStack() as stack:

        def mount(lacks: str) -> Path:
            base = tmp_path / f"limitedfs-{lacks.replace(',', '-')}"
            base.mkdir()
            return stack.enter_context(_served(base, LIMITEDFS, lacks))

        yield mount
