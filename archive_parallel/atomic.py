"""Atomic file creation: write beside the target under a temporary name, rename when complete.

The temporary name carries an owner tag (``leftovers``): a temporary file that a killed run
left in the target's folder is removed by the next atomic write there.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from .interrupts import checkpoint
from .leftovers import owner_tag, remove_stale

TEMP_MARKER = ".ap-tmp-"
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


@contextlib.contextmanager
def atomic_output(target: str | os.PathLike[str]) -> Iterator[tuple[BinaryIO, Path]]:
    """Yield ``(handle, temp_path)`` for a temporary file beside ``target``.

    On normal exit the file is flushed and renamed onto ``target``; on any exception,
    KeyboardInterrupt included, the temporary file is removed and the exception re-raised.
    The caller may rename ``temp_path`` itself by setting nothing special: the rename happens
    after the ``with`` body, so everything written inside it is complete.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(target.parent, TEMP_MARKER)
    # the name is chosen before the file exists, so an interrupt at any point after this line
    # finds it in the clean-up below
    temp_path = target.parent / f".{target.name}{TEMP_MARKER}{owner_tag()}-{secrets.token_hex(6)}"
    fd: int | None = None
    try:
        fd = os.open(temp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_CLOEXEC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            fd = None  # the file object owns it now
            yield handle, temp_path
            checkpoint()  # an interrupt that came while writing: nothing is committed
            handle.flush()
        os.chmod(temp_path, 0o644 & ~_umask())
        os.replace(temp_path, target)
    except BaseException:
        if fd is not None:
            os.close(fd)
        with contextlib.suppress(OSError):
            temp_path.unlink()
        raise


def atomic_write_bytes(target: str | os.PathLike[str], data: bytes) -> None:
    with atomic_output(target) as (handle, _):
        handle.write(data)


def remove_quietly(path: str | os.PathLike[str]) -> None:
    with contextlib.suppress(FileNotFoundError, IsADirectoryError):
        os.unlink(path)


_UMASK: int | None = None


def _umask() -> int:
    global _UMASK
    if _UMASK is None:
        current = os.umask(0)
        os.umask(current)
        _UMASK = current
    return _UMASK
