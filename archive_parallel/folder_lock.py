"""One commit at a time per folder: an exclusive ``flock`` on the folder itself.

Extractions into one destination run side by side (each into its own staging folder) and
take the destination's lock only to commit: to compare the staged tree with the destination,
move it in, re-check the links and flush. So each commit sees the destination exactly as the
previous one left it, and the last commit wins for a file both write. Archives written to one
folder take its lock likewise to rename an archive and its side file into place, so two
writers of one archive path leave one writer's pair, never one's archive beside the other's
side file. The lock is taken on the folder itself (opened read-only), so no lock file is
ever left behind; ``flock`` locks belong to the open file, so threads of one process exclude
each other as processes do, on Linux and macOS alike. It is released when the descriptor is
closed, by the kernel when a process dies. Where a file system cannot lock (some network
mounts) or on systems without ``fcntl``, the commit runs unlocked with a warning.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator

from .descriptors import open_fd
from .errors import ArchiveError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike[str], role: str = "destination") -> Iterator[None]:
    """Hold the exclusive commit lock of ``folder`` for the ``with`` body (waits while
    another commit into it runs); ``role`` names the folder in messages."""
    if fcntl is None:
        yield
        return
    try:
        fd = open_fd(folder, _DIR_FLAGS)  # held before any call (a handler cannot leak it)
    except OSError as exc:
        raise ArchiveError(
            f"cannot open {role} {os.fspath(folder)}: {exc.strerror or exc}"
        ) from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as exc:
            logger.warning(
                "cannot lock %s (%s): concurrent commits into it are not serialised",
                os.fspath(folder),
                exc.strerror or exc,
            )
        yield
    finally:
        os.close(fd)  # releases the lock


__all__ = ["folder_lock"]
