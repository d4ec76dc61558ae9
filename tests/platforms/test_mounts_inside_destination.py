"""A destination with another file system mounted below it (a USB stick at ``/opt/app/data``,
a container's bind-mounted folder): members going below the mount are extracted, with their
bytes, modes, times and links, and the extraction stays all or nothing across the mount.

The mount is a FUSE passthrough (``limitedfs.py``: another file system, so a rename from the
staging folder fails with ``EXDEV``) and, where this process may mount, a bind mount of a
folder on the same file system (another mount of it: ``EXDEV`` too, with the same device
number)."""

from __future__ import annotations

import io
import os
import shutil
import stat
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive_parallel import ArchiveConfig, ArchiveError, ArchiveManager, UnsafeArchiveError
from archive_parallel.leftovers import STAGING_PREFIX

MTIME = 1_700_000_000
MOUNTED = "mnt"  # the mount point's name inside the destination (``_served`` mounts there)


def _tree(root: Path) -> Path:
    """A package with files above and below ``MOUNTED``: nested folders, modes, a link."""
    (root / MOUNTED / "conf" / "deep").mkdir(parents=True)
    (root / "bin").mkdir()
    (root / "bin" / "run").write_bytes(b"#!/bin/sh\necho run\n")
    (root / "bin" / "run").chmod(0o755)
    (root / MOUNTED / "settings.ini").write_bytes(b"[app]\nlevel = 2\n")
    (root / MOUNTED / "secret.key").write_bytes(b"k" * 3000)
    (root / MOUNTED / "secret.key").chmod(0o600)
    (root / MOUNTED / "conf" / "deep" / "big.bin").write_bytes(os.urandom(3 * 1024 * 1024))
    (root / MOUNTED / "conf" / "deep").chmod(0o750)
    os.symlink("settings.ini", root / MOUNTED / "current")
    for path in root.rglob("*"):
        os.utime(path, (MTIME, MTIME), follow_symlinks=False)
    return root


def _snapshot(root: Path, below: str = "") -> dict[str, tuple]:
    """Every entry under ``root / below`` but the FUSE server's own files: kind, mode, mtime,
    bytes or link target."""
    found = {}
    start = root / below if below else root
    for path in sorted(start.rglob("*")):
        name = path.relative_to(root).as_posix()
        if name.split("/")[0] in ("backing", "limitedfs.log") or name.endswith(".log"):
            continue
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            found[name] = ("link", os.readlink(path))
        elif stat.S_ISDIR(info.st_mode):
            found[name] = ("dir", stat.S_IMODE(info.st_mode))
        else:
            found[name] = ("file", stat.S_IMODE(info.st_mode), info.st_mtime, path.read_bytes())
    return found


def _work_folders(root: Path) -> list[str]:
    return [str(p) for p in root.rglob(f"{STAGING_PREFIX}*")]


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    return _tree(tmp_path_factory.mktemp("package") / "app")


@pytest.fixture(scope="module")
def archives(package, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("archives")
    made = {}
    with ArchiveManager() as manager:
        for fmt in ("tar.gz", "zip"):
            made[fmt] = folder / f"app.{fmt}"
            manager.create_archive(package, made[fmt], ArchiveConfig(durable_writes=False))
    return made


CONFIGS = {
    "parallel-durable": ArchiveConfig(thread_pool_size=2, parallel_threshold=1),
    "sequential": ArchiveConfig(enable_parallel_processing=False, durable_writes=False),
}


@pytest.mark.parametrize("config", list(CONFIGS))
@pytest.mark.parametrize("fmt", ["tar.gz", "zip"])
def test_members_below_a_mount_point_are_extracted(limited_mount, archives, package, fmt, config):
    mountpoint = limited_mount("fsynclog")
    dest = mountpoint.parent
    (mountpoint / "settings.ini").write_bytes(b"old settings\n")  # replaced
    (mountpoint / "keep.txt").write_bytes(b"the stick's own file\n")  # kept
    with ArchiveManager() as manager:
        manager.extract_archive(archives[fmt], dest, CONFIGS[config])
    expected = _snapshot(package)
    got = _snapshot(dest)
    assert got.pop(f"{MOUNTED}/keep.txt")[3] == b"the stick's own file\n"
    assert got == expected
    assert _work_folders(dest) == []
    if config == "parallel-durable":  # the copies were flushed on the mounted file system
        flushed = (dest / "fsync.log").read_text().splitlines()
        assert any(line.endswith("big.bin") for line in flushed), flushed


def test_a_full_mounted_file_system_leaves_the_destination_as_it_was(limited_mount, archives):
    mountpoint = limited_mount("enospc")
    dest = mountpoint.parent
    (dest / "backing" / "settings.ini").write_bytes(b"old settings\n")  # the mount writes nothing
    before = _snapshot(dest)
    with ArchiveManager() as manager, pytest.raises(ArchiveError) as failure:
        manager.extract_archive(archives["tar.gz"], dest, ArchiveConfig(thread_pool_size=2))
    assert "No space left on device" in str(failure.value)
    assert "the destination was left as it was" in str(failure.value)
    assert _snapshot(dest) == before
    assert _work_folders(dest) == []


def test_a_refusal_after_the_copies_moves_them_back(limited_mount, tmp_path):
    """The link check runs once everything is in place: a refusal then takes the copies made
    on the mounted file system back out, and puts back what they replaced."""
    mountpoint = limited_mount("")
    dest = mountpoint.parent
    (mountpoint / "settings.ini").write_bytes(b"old settings\n")
    os.symlink("/etc", mountpoint / "escape")  # the user's own link, leading outside
    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as tar:
        for name, data in ((f"{MOUNTED}/settings.ini", b"new\n"), (f"{MOUNTED}/new.txt", b"n\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("way-out")
        link.type, link.linkname = tarfile.SYMTYPE, f"{MOUNTED}/escape"
        tar.addfile(link)
    before = _snapshot(dest)
    mount_times = os.stat(mountpoint).st_mtime_ns
    with ArchiveManager() as manager, pytest.raises(UnsafeArchiveError):
        manager.extract_archive(archive, dest, ArchiveConfig(durable_writes=False))
    assert _snapshot(dest) == before
    assert (mountpoint / "settings.ini").read_bytes() == b"old settings\n"
    assert _work_folders(dest) == []
    assert os.stat(mountpoint).st_mtime_ns == mount_times  # its work folder came and went


@pytest.fixture
def bind_mounted(tmp_path) -> Iterator[Path]:
    """``dest`` with ``dest/mnt`` a bind mount of another folder of the same file system."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("bind mounts need root and mount(8)")
    dest, real = tmp_path / "dest", tmp_path / "real"
    (dest / MOUNTED).mkdir(parents=True)
    real.mkdir()
    bound = subprocess.run(
        ["mount", "--bind", str(real), str(dest / MOUNTED)], capture_output=True, text=True
    )
    if bound.returncode != 0:
        pytest.skip(f"cannot bind-mount here: {bound.stderr.strip()}")
    try:
        yield dest
    finally:
        subprocess.run(["umount", str(dest / MOUNTED)], check=False, capture_output=True)


@pytest.mark.parametrize("fmt", ["tar.gz", "zip"])
def test_members_below_a_bind_mount_are_extracted(bind_mounted, archives, package, fmt):
    dest = bind_mounted
    assert os.stat(dest).st_dev == os.stat(dest / MOUNTED).st_dev  # one file system, two mounts
    with ArchiveManager() as manager:
        manager.extract_archive(archives[fmt], dest, ArchiveConfig(thread_pool_size=2))
    assert _snapshot(dest) == _snapshot(package)
    assert _work_folders(dest) == []


def test_hard_links_below_a_mount_point_stay_links(limited_mount, tmp_path):
    """Three names of one file in a tar, below the mount point and in two folders, are one
    file on the mounted file system too, as they are elsewhere."""
    mountpoint = limited_mount("")
    dest = mountpoint.parent
    archive = tmp_path / "links.tar"
    with tarfile.open(archive, "w") as tar:
        first = tarfile.TarInfo(f"{MOUNTED}/data/first.bin")
        data = os.urandom(50_000)
        first.size = len(data)
        tar.addfile(first, io.BytesIO(data))
        for name in (f"{MOUNTED}/data/second.bin", f"{MOUNTED}/other/third.bin"):
            link = tarfile.TarInfo(name)
            link.type, link.linkname = tarfile.LNKTYPE, f"{MOUNTED}/data/first.bin"
            tar.addfile(link)
    with ArchiveManager() as manager:
        manager.extract_archive(archive, dest, ArchiveConfig(durable_writes=False))
    backing = dest / "backing"  # what the mounted file system holds, inode numbers included
    names = [backing / "data" / "first.bin", backing / "data" / "second.bin"]
    names.append(backing / "other" / "third.bin")
    assert {os.stat(path).st_ino for path in names} == {os.stat(names[0]).st_ino}
    assert os.stat(names[0]).st_nlink == 3
    assert all(path.read_bytes() == data for path in names)
    assert _work_folders(dest) == []
