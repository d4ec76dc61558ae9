"""Durability: push a file's bytes, or a folder's entries, to the storage medium.

A rename is atomic but not durable: after a power cut the new name can point at an empty or
torn file unless the file's data reached the medium first, and the rename itself is lost
unless the folder holding the name is flushed afterwards. So every commit here is: write,
``sync_file``, rename, ``sync_folder``. On macOS ``fsync`` only hands the data to the drive,
whose cache may still lose it; ``F_FULLFSYNC`` asks the drive to write it through, and is used
there (falling back to ``fsync`` on file systems that refuse it). On Linux ``fdatasync`` is
enough for the data (and the size needed to read it back). Folders that cannot be opened or
flushed (some network and Windows file systems) are skipped quietly: the rename stays atomic.
Descriptors are opened with ``descriptors.open_fd``, so a program's signal handler that
raises cannot leak one (of a staged file, say, which the failed extraction then deletes).

A whole extracted tree (``sync_tree``) is flushed in one go where the system allows it, since
one ``fsync`` per small file costs a journal commit each: on Linux one ``syncfs`` of its file
system (but a FUSE file system, which ``syncfs`` never reaches: ntfs-3g, exfat-fuse, sshfs);
on macOS a cheap ``fsync`` per file and folder, then a single ``F_FULLFSYNC``, which empties
the drive's whole cache; elsewhere a flush per file and folder.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import functools
import os
import stat
import sys
from collections.abc import Callable

from .descriptors import open_fd

_FULLFSYNC = getattr(__import__("fcntl"), "F_FULLFSYNC", None) if os.name == "posix" else None
_DATASYNC = getattr(os, "fdatasync", None) if sys.platform.startswith("linux") else None
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
#: what a file system without a flush for a file answers ``fsync``
_NO_FLUSH_HERE = frozenset(
    getattr(errno, name)
    for name in ("EINVAL", "ENOTSUP", "EOPNOTSUPP", "ENOSYS")
    if hasattr(errno, name)
)
_FILE_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)


def sync_file(fd: int) -> None:
    """Flush one open file's data to the medium (``F_FULLFSYNC`` where it exists). A file
    system that has no flush to give (it answers ``EINVAL``, ``ENOTSUP`` or ``ENOSYS``) is
    left as it is, as a folder that cannot be flushed is; a failed flush (``EIO``) raises."""
    if _FULLFSYNC is not None:
        import fcntl

        try:
            fcntl.fcntl(fd, _FULLFSYNC)
            return
        except OSError:
            pass  # not supported by this file system: plain fsync below
    if _DATASYNC is not None:
        _flush(_DATASYNC, fd)
    else:
        _flush(os.fsync, fd)


def _flush(flush: Callable[[int], object], fd: int) -> None:
    """``flush(fd)``, quiet where the file system has no flush to give (``_NO_FLUSH_HERE``)."""
    try:
        flush(fd)
    except OSError as exc:
        if exc.errno not in _NO_FLUSH_HERE:
            raise


def sync_folder(path: str | os.PathLike[str], dir_fd: int | None = None) -> None:
    """Flush a folder's entries (names created, renamed or removed in it); quiet where a
    folder cannot be opened or flushed. ``path`` is relative to ``dir_fd`` when given."""
    if os.name != "posix":
        return
    try:
        fd = open_fd(path, _DIR_FLAGS, dir_fd=dir_fd)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            if _FULLFSYNC is not None:
                import fcntl

                try:
                    fcntl.fcntl(fd, _FULLFSYNC)
                    return
                except OSError:
                    pass
            os.fsync(fd)
    finally:
        os.close(fd)


def open_to_read(path: str | os.PathLike[str], dir_fd: int | None = None) -> int:
    """Open a regular file read-only (enough for fsync, or to copy it), relative to
    ``dir_fd`` when given.

    A file whose mode lets its owner neither read it (0o000, a write-only 0o200 log: modes
    an extraction gives the files it wrote, before flushing them) is made readable for the
    moment of the open, then given its mode back: the owner may always change it."""
    try:
        return open_fd(path, _FILE_FLAGS, dir_fd=dir_fd)
    except PermissionError:
        info = os.stat(path, dir_fd=dir_fd, follow_symlinks=False)
        if not stat.S_ISREG(info.st_mode) or info.st_mode & stat.S_IRUSR:
            raise
    mode = stat.S_IMODE(info.st_mode)
    os.chmod(path, mode | stat.S_IRUSR, dir_fd=dir_fd)
    try:
        return open_fd(path, _FILE_FLAGS, dir_fd=dir_fd)
    finally:
        os.chmod(path, mode, dir_fd=dir_fd)


def sync_path(path: str | os.PathLike[str], dir_fd: int | None = None) -> None:
    """Flush a regular file by name (opened read-only, which is enough for fsync), relative
    to ``dir_fd`` when given."""
    fd = open_to_read(path, dir_fd)
    try:
        sync_file(fd)
    finally:
        os.close(fd)


def _libc_function(name: str, restype: type, *argtypes: type) -> Callable[..., int] | None:
    """A function of Linux's C library, or None where there is none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        function = getattr(libc, name)
    except (OSError, AttributeError):
        return None
    function.argtypes = list(argtypes)
    function.restype = restype
    return function


_SYNCFS = _libc_function("syncfs", ctypes.c_int, ctypes.c_int)
_FSTATFS = _libc_function("fstatfs", ctypes.c_int, ctypes.c_int, ctypes.c_void_p)
#: ``f_type`` of every FUSE mount (fuse, fuseblk: ntfs-3g, exfat-fuse, sshfs...)
FUSE_SUPER_MAGIC = 0x65735546


def _syncfs_flushes(fd: int) -> bool:
    """Whether ``syncfs`` on this folder's file system reaches the medium. Not on a FUSE
    mount: the kernel answers it without telling the file system (which alone knows its
    device), so a FUSE tree is flushed file by file, each ``fsync`` passed to it."""
    if _FSTATFS is None:
        return True
    buffer = ctypes.create_string_buffer(512)  # struct statfs is 120 bytes on 64-bit Linux
    if _FSTATFS(fd, buffer) != 0:
        return True
    f_type = ctypes.c_long.from_buffer(buffer).value  # the first field, a C long
    return f_type & 0xFFFFFFFF != FUSE_SUPER_MAGIC


def _plain_fsync(path: str, dir_fd: int | None = None) -> None:
    fd = open_to_read(path, dir_fd)
    try:
        _flush(os.fsync, fd)
    finally:
        os.close(fd)


def sync_tree(
    root: str,
    files: list[str],
    run_all: Callable[[Callable[[str], None], list[str]], None],
    root_fd: int | None = None,
) -> None:
    """Flush the regular ``files`` of the tree under ``root``, and its folders, to the
    medium; ``run_all(fn, paths)`` calls ``fn`` on each path (on a pool, when the caller has
    one). The folders are listed only where they are flushed one by one. With ``root_fd``
    (``root``, open), ``files`` are relative to it and the tree is walked from it, so no
    path inside the tree needs to fit the system's limit once prefixed with ``root``."""
    if _SYNCFS is not None:
        fd = open_fd(root, _DIR_FLAGS) if root_fd is None else root_fd
        try:
            if _syncfs_flushes(fd) and _SYNCFS(fd) == 0:
                return
        finally:
            if fd != root_fd:
                os.close(fd)
    if root_fd is None:
        folders = [folder for folder, _dirs, _files in os.walk(root)]
    else:  # ".", then the folders below it, relative to ``root_fd``
        folders = [folder for folder, _dirs, _files, _fd in os.fwalk(dir_fd=root_fd)]
    if _FULLFSYNC is None:  # no drive-cache flush to share: each one for itself
        run_all(functools.partial(sync_path, dir_fd=root_fd), files)
        for folder in folders:
            sync_folder(folder, root_fd)
        return
    # to the drive, then one flush of its whole cache
    run_all(functools.partial(_plain_fsync, dir_fd=root_fd), files)
    for folder in folders:
        with contextlib.suppress(OSError):
            _plain_fsync(folder, root_fd)
    sync_folder(root)


__all__ = ["sync_file", "sync_folder", "sync_path", "sync_tree"]
