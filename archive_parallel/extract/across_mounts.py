"""Copying a staged entry onto another file system mounted inside the destination.

A destination may have another file system mounted below it: a USB stick at
``/opt/app/data``, a container's bind-mounted configuration folder. The staging folder sits at
the destination's top, and a rename cannot cross from one mount to another (``EXDEV``, even
between two bind mounts of one file system), so the commit (``staging``) copies an entry whose
place lies below such a mount next to that place first, into a work folder it makes in the
folder that will hold the entry, and then renames the copy in like any other entry.

``copy_entry`` makes that copy: a regular file with its bytes, mode and times (or, for a
file of several names already copied there, a hard link to that copy), a symlink with its
target and times, a folder whole, each file and folder flushed to the medium when asked
(before the rename that publishes it, as the staged tree itself was). A staged file whose mode
lets nobody read it is made readable for the moment of the open (``durability.open_to_read``).
A file system that keeps no modes or times (FAT through FUSE) leaves the copy without them,
as it leaves extracted files. A failure part-way (a full stick) raises; the partial copy is
in the work folder, which the commit removes with its others.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from collections.abc import Mapping

from ..descriptors import FOLDER_FLAGS, open_fd
from ..durability import open_to_read, sync_file, sync_folder

logger = logging.getLogger(__name__)

#: bytes copied per system call
COPY_STEP = 1024 * 1024
_NEW_FILE_FLAGS = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_NOFOLLOW", 0)
)


def copy_entry(
    source: str,
    target: str,
    durable: bool,
    source_dir_fd: int | None = None,
    placed: Mapping[tuple[int, int], str] | None = None,
    copied: dict[tuple[int, int], str] | None = None,
) -> None:
    """Copy the staged entry ``source`` (relative to ``source_dir_fd`` when given) to the new
    path ``target``: a regular file, a symlink or a folder with everything in it.

    Hard links stay links: a staged file of several names whose (device, inode) is in
    ``placed`` (where an earlier copy of it is now) or ``copied`` (one made by this call)
    becomes a hard link to that copy where the file system allows it, else a copy; each file
    of several names this call copies is recorded in ``copied``."""
    placed = placed if placed is not None else {}
    copied = copied if copied is not None else {}
    info = os.stat(source, dir_fd=source_dir_fd, follow_symlinks=False)
    if stat.S_ISLNK(info.st_mode):
        os.symlink(os.readlink(source, dir_fd=source_dir_fd), target)
        if os.utime in os.supports_follow_symlinks:
            _keep_times(target, info, follow_symlinks=False)
    elif stat.S_ISDIR(info.st_mode):
        os.mkdir(target, 0o700)
        for name in _names(source, source_dir_fd):
            copy_entry(
                os.path.join(source, name),
                os.path.join(target, name),
                durable,
                source_dir_fd,
                placed,
                copied,
            )
        _keep_mode(target, info)
        _keep_times(target, info)
        if durable:
            sync_folder(target)
    elif stat.S_ISREG(info.st_mode):
        key = (info.st_dev, info.st_ino)
        if info.st_nlink > 1 and _linked(copied.get(key) or placed.get(key), target):
            return
        _copy_file(source, target, info, durable, source_dir_fd)
        if info.st_nlink > 1:
            copied[key] = target
    else:  # the staged tree holds nothing else
        raise OSError(f"not a file, folder or symlink: {source}")


def _linked(first: str | None, target: str) -> bool:
    """Whether ``target`` was made a hard link to ``first``, the copy of the same staged file
    made earlier (False without one, or where the link cannot be made: another mount)."""
    if first is None:
        return False
    try:
        os.link(first, target, follow_symlinks=False)
    except OSError:
        return False
    return True


def _names(folder: str, dir_fd: int | None) -> list[str]:
    """The entries of a staged folder, listed before any is copied."""
    fd = open_fd(folder, FOLDER_FLAGS, dir_fd=dir_fd)
    try:
        return os.listdir(fd)
    finally:
        os.close(fd)


def _copy_file(
    source: str, target: str, info: os.stat_result, durable: bool, dir_fd: int | None
) -> None:
    reading = open_to_read(source, dir_fd)
    try:
        writing = open_fd(target, _NEW_FILE_FLAGS, 0o600)
        try:
            while chunk := os.read(reading, COPY_STEP):
                view = memoryview(chunk)
                while view:
                    view = view[os.write(writing, view) :]
            _keep_mode(writing, info)
            _keep_times(writing, info)
            if durable:
                sync_file(writing)
        finally:
            os.close(writing)
    finally:
        os.close(reading)


def _keep_mode(target: int | str, info: os.stat_result) -> None:
    try:
        os.chmod(target, stat.S_IMODE(info.st_mode))
    except OSError as exc:  # a file system that keeps no modes: the copy is ours
        logger.debug("cannot set the mode of a copy: %s", exc)


def _keep_times(target: int | str, info: os.stat_result, follow_symlinks: bool = True) -> None:
    with contextlib.suppress(OSError):  # a file system that keeps no times
        os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns), follow_symlinks=follow_symlinks)


__all__ = ["copy_entry"]
