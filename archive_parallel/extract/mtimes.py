"""Setting an extracted entry's mtime, within the times this system can hold.

A 32-bit ``time_t`` (32-bit Raspberry Pi OS, Debian 12 and before) holds 1901-12-13 to
2038-01-19 only; ``os.utime`` raises ``OverflowError`` for a member dated outside that range.
Such a member gets the nearest time the system holds, not the time of extraction, and the
first one of a process is named in a warning (a tree dated 2040 would otherwise give one per
file). Any other refusal (a file system that keeps no times) leaves the time as the file
system has it, logged at debug level, as before.
"""

from __future__ import annotations

import datetime
import logging
import os
import threading
import time
from typing import Any

from ..display import quoted

logger = logging.getLogger(__name__)


def _time_t_range() -> tuple[int, int]:
    """The seconds a ``time_t`` holds here: 32 or 64 bits (capped where a float is exact)."""
    try:
        time.gmtime(2**31)
    except (OverflowError, OSError, ValueError):
        return -(2**31), 2**31 - 1
    return -(2**53), 2**53


TIME_T_MIN, TIME_T_MAX = _time_t_range()
_warned = threading.Event()


def set_mtime(target: Any, mtime: float, name: str, **utime_options: Any) -> None:
    """``os.utime(target, (mtime, mtime), **utime_options)``, ``mtime`` moved into the range
    this system holds when it is outside (``OverflowError``); ``name`` is the member's."""
    try:
        os.utime(target, (mtime, mtime), **utime_options)
        return
    except OverflowError:
        nearest = int(min(max(mtime, TIME_T_MIN), TIME_T_MAX))
    except (ValueError, OSError, NotImplementedError) as exc:
        logger.debug("cannot set the mtime %r of %r: %s", mtime, name, exc)
        return
    if not _warned.is_set():
        _warned.set()
        logger.warning(
            "%s is dated %s, which this system cannot store; it and any other such member "
            "get the nearest time it can: %s",
            quoted(name),
            _describe(mtime),
            _describe(nearest),
        )
    try:
        os.utime(target, (nearest, nearest), **utime_options)
    except (OverflowError, ValueError, OSError, NotImplementedError) as exc:
        logger.debug("cannot set the mtime %r of %r: %s", nearest, name, exc)


def _describe(seconds: float) -> str:
    """A time as a UTC date where Python can write one, else its seconds."""
    try:
        moment = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
        return (moment + datetime.timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, ValueError):
        return f"{seconds:.0f} s after 1970"


__all__ = ["TIME_T_MAX", "TIME_T_MIN", "set_mtime"]
