"""``open_fd``: ``os.open`` whose descriptor no exception from a signal handler can leak.

A program's own signal handler (a service's SIGTERM handler raising ``SystemExit``, say) runs
in the main thread between two bytecodes, and CPython looks for one right after a C function
such as ``os.open`` returns. In ``fd = os.open(...)`` followed by ``try: ... finally:
os.close(fd)``, an exception raised there comes after the descriptor exists and before
anything holds it: the descriptor, often of a staged or temporary file that the clean-up
then deletes, stays open for the life of the process, and so does the file's disk space.

``open_fd`` has C code store the new descriptor (``list.extend`` over ``map(os.open, ...)``:
no bytecode runs between the open and the store, so no handler either), closes it when a
handler's exception arrives after that, and returns it. Returning runs no handler, so a
caller that stores the result and then enters its ``try`` (``fd = open_fd(...)`` right
before ``try:``, or ``os.close(open_fd(...))``) holds the descriptor from the start. The
cost is a list and a ``map`` per call, no system call.

The library's own Ctrl-C handling defers the interrupt to checkpoints (``interrupts``); this
is for the handlers a program installs itself. Signal handlers run in the main thread only,
so in any other thread (the pool's workers) ``open_fd`` is a plain ``os.open``: there the
guard would protect nothing, and its microsecond a call, held under the interpreter lock,
slows every thread of a pool opening thousands of small files.

``OpenFolder`` holds a folder open for calls relative to it (``dir_fd=``): extraction creates
everything in its staging folder that way, so only a member's own name counts against the
system's path limit, not the staging folder's path before it. Where the system lacks those
calls (``RELATIVE_CALLS`` is False: Windows), callers use full paths as before.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import threading
from collections.abc import Iterator

#: every call that extraction makes relative to its staging folder takes ``dir_fd`` here
#: (``os.replace`` takes the ``*_dir_fd`` arguments of ``os.rename``, which the set lists),
#: and folders can be listed and walked from a descriptor
RELATIVE_CALLS = (
    {os.open, os.mkdir, os.link, os.symlink, os.utime, os.rename, os.stat, os.readlink}
    <= os.supports_dir_fd
    and os.scandir in os.supports_fd
    and hasattr(os, "fwalk")
)

#: a folder opened as itself, never through a symlink put in its place
FOLDER_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
FOLDER_FLAGS |= getattr(os, "O_NOFOLLOW", 0)


def open_fd(
    path: str | os.PathLike[str], flags: int, mode: int = 0o777, dir_fd: int | None = None
) -> int:
    """``os.open(path, flags, mode, dir_fd=dir_fd)``, safe from a signal handler's exception
    (see the module docstring): the caller must hold the result before its next call."""
    if threading.get_ident() != threading.main_thread().ident:
        return os.open(path, flags, mode, dir_fd=dir_fd)  # no signal handler runs here
    opener = os.open if dir_fd is None else functools.partial(os.open, dir_fd=dir_fd)
    opened: list[int] = []
    try:
        opened.extend(map(opener, (path,), (flags,), (mode,)))
    except BaseException:
        for fd in opened:  # opened, then a signal handler raised: close it here
            os.close(fd)
        raise
    return opened[0]


class OwnedDescriptor:
    """A descriptor (``fd``) an object owns: closed once, by ``_close_now``, or when the object
    is dropped unclosed (``__del__``: an interrupt on the way to the explicit close)."""

    fd = -1

    def _close_now(self) -> None:
        fd, self.fd = self.fd, -1
        if fd >= 0:
            os.close(fd)

    def __del__(self, _close=os.close) -> None:
        fd, self.fd = self.fd, -1
        if fd >= 0:
            _close(fd)


class OpenFolder(OwnedDescriptor):
    """A folder's descriptor (``fd``), opened by ``open_fd``, for calls relative to it.

    ``close`` closes it once no pool task holds it (``held``): a task that still runs after
    its operation failed (a second interrupt cut short the wait for it) keeps the number from
    naming another file while it may still create files from it; the last such task closes
    it as it lets go. Dropping the object without ``close`` closes it too (``__del__``), so
    an interrupt that strikes on the way to ``close`` leaks nothing either."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._closing = False
        self.fd = open_fd(path, FOLDER_FLAGS)  # held at once: ``close`` or ``__del__`` closes it

    @contextlib.contextmanager
    def held(self) -> Iterator[int]:
        """The descriptor, kept open while the ``with`` block runs (``OSError`` EBADF when
        the folder was closed already: its operation is over)."""
        with self._lock:
            if self._closing or self.fd < 0:
                raise OSError(errno.EBADF, "the folder is closed: its operation ended")
            self._users += 1
        try:
            yield self.fd
        finally:
            with self._lock:
                self._users -= 1
                last = self._closing and not self._users
            if last:
                self._close_now()

    def close(self) -> None:
        """Close the descriptor now, or as the last task holding it lets go."""
        with self._lock:
            self._closing = True
            if self._users:
                return
        self._close_now()


@contextlib.contextmanager
def held_folder(folder: OpenFolder | None) -> Iterator[int | None]:
    """``folder.held()``, or None where there is no folder (full paths are used)."""
    if folder is None:
        yield None
        return
    with folder.held() as fd:
        yield fd


__all__ = [
    "FOLDER_FLAGS",
    "RELATIVE_CALLS",
    "OpenFolder",
    "OwnedDescriptor",
    "held_folder",
    "open_fd",
]
