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
is for the handlers a program installs itself.
"""

from __future__ import annotations

import os


def open_fd(path: str | os.PathLike[str], flags: int, mode: int = 0o777) -> int:
    """``os.open(path, flags, mode)``, safe from a signal handler's exception (see the
    module docstring): the caller must hold the result before its next call."""
    opened: list[int] = []
    try:
        opened.extend(map(os.open, (path,), (flags,), (mode,)))
    except BaseException:
        for fd in opened:  # opened, then a signal handler raised: close it here
            os.close(fd)
        raise
    return opened[0]


__all__ = ["open_fd"]
