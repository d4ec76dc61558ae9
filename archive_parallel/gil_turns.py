"""Short turns at the GIL while the library works beside other Python threads.

An operation hands work back and forth between the calling thread, the pool's workers and
codecs that release the GIL around their C work and take it back after each step (zlib, isal,
zstd), and some native libraries take it from threads of their own (rapidgzip, to check for
signals). Python gives the GIL to a waiting thread only when the holder blocks or after the
switch interval, 5 ms by default. Alone, the library's threads block often enough; beside a
Python thread of the program that computes without pause, every hand-off waits the full
interval: on two cores (``python -m bench.gil_turns``, ``medium`` at scale 0.2), extracting
its tar.gz took 2.54 s at 5 ms against 0.16 s at 0.2 ms, its zip 3.63 s against 0.18 s, and
creating the tar.gz 2.62 s against 0.73 s; alone, the same either way.

``short_switch_interval()`` lowers the interpreter's switch interval (``sys.setswitchinterval``,
a setting of the whole process) to ``SHORT_INTERVAL`` for as long as at least one of its
scopes is open, from any thread, and puts back the interval it found when the last one ends,
unless the program changed it meanwhile. An interval already at or under ``SHORT_INTERVAL``
is left alone. Every public operation of ``ArchiveManager`` runs in one.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from collections.abc import Iterator

logger = logging.getLogger(__name__)

#: the switch interval while a scope is open, in seconds
SHORT_INTERVAL = 0.0002

_lock = threading.Lock()
_open_scopes = 0
#: the interval found when the first scope opened, to put back; None when it was left alone
_found: float | None = None
#: the interval as set, read back
_set = 0.0


@contextlib.contextmanager
def short_switch_interval() -> Iterator[None]:
    """The process's switch interval at ``SHORT_INTERVAL`` at most while the scope is open."""
    global _open_scopes, _found, _set
    with _lock:
        if _open_scopes == 0:
            current = sys.getswitchinterval()
            _found = current if current > SHORT_INTERVAL else None
            if _found is not None:
                sys.setswitchinterval(SHORT_INTERVAL)
                _set = sys.getswitchinterval()  # as the interpreter keeps it (microseconds)
                logger.debug("switch interval %.4f s -> %.4f s", current, _set)
        _open_scopes += 1
    try:
        yield
    finally:
        with _lock:
            _open_scopes -= 1
            if _open_scopes == 0 and _found is not None:
                if sys.getswitchinterval() == _set:  # else the process set its own meanwhile
                    sys.setswitchinterval(_found)
                _found = None


__all__ = ["SHORT_INTERVAL", "short_switch_interval"]
