"""``umask(0o077)``: the process's umask set for a block, as a test needs it, and put back.

Imported as ``from tests.umask import umask`` (pytest makes ``tests`` a package rooted at the
repository, see ``tests/cli_runner.py``)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator


@contextlib.contextmanager
def umask(value: int) -> Iterator[None]:
    previous = os.umask(value)
    try:
        yield
    finally:
        os.umask(previous)
