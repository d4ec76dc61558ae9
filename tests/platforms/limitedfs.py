"""A FUSE passthrough that lacks what some real file systems lack, one feature at a time.

``python limitedfs.py BACKING MOUNTPOINT LACKS`` serves ``BACKING`` at ``MOUNTPOINT`` (in the
foreground, until unmounted); ``LACKS`` is a comma-separated list of:

- ``ino``: every ``stat`` gives inode 0 (some FUSE, network and union file systems; a
  folder's listing still numbers its entries);
- ``chmod``: changing a mode is refused with ``EPERM`` (FAT and exFAT through FUSE);
- ``link``: hard links are refused with ``EPERM`` (FAT, exFAT, many FUSE file systems);
- ``enospc``: every write of file data fails with ``ENOSPC`` (a full USB stick);
- ``fsynclog``: every ``fsync`` the file system receives is appended, by path, to the file
  ``fsync.log`` beside ``BACKING`` (what a flush of an extracted tree really reaches).

Names are compared exactly (the folding of ``foldfs.py`` is left out). Used by the tests of
sources, archives and extraction on such file systems; it needs ``mfusepy`` and ``/dev/fuse``.
"""

from __future__ import annotations

import errno
import os
import sys

# run as a script, its own folder is on the path: foldfs.py beside it
from foldfs import FoldingPassthrough, serve
from mfusepy import FuseOSError


class LimitedPassthrough(FoldingPassthrough):
    def __init__(self, backing: str, lacks: frozenset[str]) -> None:
        super().__init__(backing)
        self.lacks = lacks
        self.fsync_log = os.path.join(os.path.dirname(self.backing), "fsync.log")

    def _real(self, path: str) -> str:
        return os.path.join(self.backing, *[part for part in path.split("/") if part])

    def _refuse(self, feature: str) -> None:
        if feature in self.lacks:
            raise FuseOSError(errno.EPERM)

    def getattr(self, path, fh=None):
        attrs = super().getattr(path, fh)
        if "ino" in self.lacks:
            attrs["st_ino"] = 0
        return attrs

    def readdir(self, path, fh):
        names = super().readdir(path, fh)
        if "ino" not in self.lacks:
            return names
        # the entries keep their real inode numbers: glibc's readdir hides one of 0
        folder = self._real(path)
        return [
            (name, {"st_ino": os.lstat(os.path.join(folder, name)).st_ino}, 0) for name in names
        ]

    def chmod(self, path, mode):
        self._refuse("chmod")
        return super().chmod(path, mode)

    def link(self, target, source):
        self._refuse("link")
        return super().link(target, source)

    def write(self, path, data, offset, fh):
        if "enospc" in self.lacks:
            raise FuseOSError(errno.ENOSPC)
        return super().write(path, data, offset, fh)

    def fsync(self, path, datasync, fh):
        if "fsynclog" in self.lacks:
            with open(self.fsync_log, "a", encoding="utf-8") as log:
                log.write(path + "\n")
        return super().fsync(path, datasync, fh)


def main(argv: list[str]) -> int:
    backing, mountpoint, lacks = argv
    features = frozenset(filter(None, lacks.split(",")))
    options = {"use_ino": True} if "ino" in features else {}
    return serve(LimitedPassthrough(backing, features), mountpoint, **options)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
