"""A command prefix under which file modes bind even for root: what a test needs to meet a
folder it may not write or a file it may not read for real.

Root ignores file modes through two capabilities; ``unprivileged_prefix()`` runs the child
under ``setpriv`` without them, keeping the same uid (so the child can still reach the files
the test made). Not root: no prefix is needed. Root without ``setpriv``: the test is skipped.

Imported as ``from tests.unprivileged import unprivileged_prefix``, like ``tests.cli_runner``.
"""

from __future__ import annotations

import os
import shutil

import pytest

_CAPS = "-dac_override,-dac_read_search"


def unprivileged_prefix() -> list[str]:
    """A command prefix under which file modes bind (empty when not root)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("root reads any file, and setpriv (to drop that) is not installed")
    return [setpriv, f"--inh-caps={_CAPS}", f"--bounding-set={_CAPS}"]
