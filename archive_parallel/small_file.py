"""Reading a small file that anyone may have put in the way: a side file, a tuned profile.

``read_small_file`` opens it without blocking (``O_NONBLOCK``: opening a FIFO cannot hang),
accepts only a regular file (``fstat``; a FIFO, socket, device or folder is refused, also
through a symlink) and reads at most ``max_size`` bytes (a file that grows past that while it
is read, or a ``/proc`` file or ``/dev/zero`` that reports size 0, is refused too). Every
refusal is a ``SmallFileError`` (a ``ValueError``) with a one-line reason.
"""

from __future__ import annotations

import os
import stat

from .descriptors import open_fd

_READ_STEP = 1024 * 1024
_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
_FLAGS |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


class SmallFileError(ValueError):
    """The file is not a regular file, cannot be read, or is larger than allowed."""


def read_small_file(
    path: str | os.PathLike[str], max_size: int, limit: str | None = None
) -> bytes | None:
    """The file's bytes, or None when there is none; ``SmallFileError`` when it is not a
    regular file, cannot be read or holds more than ``max_size`` bytes (``limit`` names that
    bound in the message, such as the setting that holds it)."""
    bound = f"{limit} ({max_size} bytes)" if limit else f"{max_size} bytes"
    try:
        fd = open_fd(path, _FLAGS)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SmallFileError(f"cannot open it: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SmallFileError("not a regular file")
        if info.st_size > max_size:
            raise SmallFileError(f"{info.st_size} bytes, more than {bound}")
        # one read of the size fstat reported (one allocation), then small reads to find
        # out whether there is more (a file that grew, or one that reports size 0)
        data = os.read(fd, info.st_size + 1) if info.st_size else b""
        parts, total = [data], len(data)
        while total <= max_size:
            part = os.read(fd, min(_READ_STEP, max_size + 1 - total))
            if not part:
                break
            parts.append(part)
            total += len(part)
        if total > max_size:
            raise SmallFileError(f"more than {bound}")
        return data if len(parts) == 1 else b"".join(parts)
    except OSError as exc:
        raise SmallFileError(f"cannot read it: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


__all__ = ["SmallFileError", "read_small_file"]
