"""A FUSE passthrough that compares names the way macOS's APFS does by default.

``python foldfs.py BACKING MOUNTPOINT`` serves ``BACKING`` at ``MOUNTPOINT`` (in the
foreground, until unmounted). Every path component is looked up exactly first, then by its
folded key (case folded, Unicode NFD), so ``README`` and ``readme``, or ``café`` in NFC and
in NFD, open the same file; a new name is stored as spelled (case- and form-preserving), as
APFS does. Used by the tests of extraction onto a case- and normalisation-insensitive file
system; it needs the ``mfusepy`` package and a usable ``/dev/fuse``.
"""

from __future__ import annotations

import errno
import os
import sys
import unicodedata

from mfusepy import FUSE, FuseOSError, Operations


def fold(name: str) -> str:
    return unicodedata.normalize("NFD", unicodedata.normalize("NFD", name).casefold())


class FoldingPassthrough(Operations):
    use_ns = True

    def __init__(self, backing: str) -> None:
        self.backing = os.path.realpath(backing)

    # --- name resolution: exact, else the entry whose folded name matches ---
    def _real(self, path: str) -> str:
        real = self.backing
        for part in [p for p in path.split("/") if p]:
            exact = os.path.join(real, part)
            if os.path.lexists(exact):
                real = exact
                continue
            try:
                entries = os.listdir(real)
            except OSError:
                entries = []
            key = fold(part)
            match = next((e for e in entries if fold(e) == key), None)
            real = os.path.join(real, match if match is not None else part)
        return real

    def _call(self, func, *args):
        try:
            return func(*args)
        except OSError as exc:
            raise FuseOSError(exc.errno or errno.EIO) from None

    # --- metadata ---
    def getattr(self, path, fh=None):
        st = self._call(os.fstat, fh) if fh is not None else self._call(os.lstat, self._real(path))
        keys = ("st_mode", "st_nlink", "st_size", "st_uid", "st_gid", "st_ino")
        attrs = {key: getattr(st, key) for key in keys}
        for key in ("st_atime", "st_mtime", "st_ctime"):
            attrs[key] = getattr(st, key + "_ns")
        return attrs

    def access(self, path, amode):
        if not os.access(self._real(path), amode, follow_symlinks=False):
            raise FuseOSError(errno.EACCES)
        return 0

    def chmod(self, path, mode):
        return self._call(os.chmod, self._real(path), mode)

    def chown(self, path, uid, gid):
        return self._call(os.lchown, self._real(path), uid, gid)

    def utimens(self, path, times=None):
        kwargs = {"ns": times} if times is not None else {}
        return self._call(lambda: os.utime(self._real(path), follow_symlinks=False, **kwargs))

    def statfs(self, path):
        st = self._call(os.statvfs, self._real(path))
        keys = ("f_bavail", "f_bfree", "f_blocks", "f_bsize", "f_favail", "f_ffree", "f_files")
        return {key: getattr(st, key) for key in (*keys, "f_flag", "f_frsize", "f_namemax")}

    # --- folders and names ---
    def readdir(self, path, fh):
        return [".", "..", *self._call(os.listdir, self._real(path))]

    def mkdir(self, path, mode):
        return self._call(os.mkdir, self._real(path), mode)

    def rmdir(self, path):
        return self._call(os.rmdir, self._real(path))

    def unlink(self, path):
        return self._call(os.unlink, self._real(path))

    def rename(self, old, new):
        return self._call(os.rename, self._real(old), self._real(new))

    def symlink(self, target, source):
        return self._call(os.symlink, source, self._real(target))

    def readlink(self, path):
        return self._call(os.readlink, self._real(path))

    def link(self, target, source):
        return self._call(os.link, self._real(source), self._real(target))

    # --- file contents ---
    def create(self, path, mode, fi=None):
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        return self._call(os.open, self._real(path), flags, mode)

    def open(self, path, flags):
        return self._call(os.open, self._real(path), flags & ~os.O_CREAT)

    def read(self, path, size, offset, fh):
        return self._call(os.pread, fh, size, offset)

    def write(self, path, data, offset, fh):
        return self._call(os.pwrite, fh, data, offset)

    def truncate(self, path, length, fh=None):
        if fh is not None:
            return self._call(os.ftruncate, fh, length)
        return self._call(os.truncate, self._real(path), length)

    def flush(self, path, fh):
        return 0

    def fsync(self, path, datasync, fh):
        return self._call(os.fsync, fh)

    def release(self, path, fh):
        return self._call(os.close, fh)


def serve(operations: Operations, mountpoint: str, **options: object) -> int:
    """Serve ``operations`` at ``mountpoint`` in the foreground until unmounted, one request
    at a time and nothing cached by the kernel (every lookup reaches the passthrough)."""
    FUSE(
        operations,
        mountpoint,
        foreground=True,
        nothreads=True,
        entry_timeout=0,
        attr_timeout=0,
        negative_timeout=0,
        **options,
    )
    return 0


def main(argv: list[str]) -> int:
    backing, mountpoint = argv
    return serve(FoldingPassthrough(backing), mountpoint)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
