"""pytest set-up for the reliability tests: makes ``reliability_support`` importable and
provides the ``manager`` fixture (closed on teardown, with no worker thread left)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reliability_support import assert_no_workers_after_close, child_pids  # noqa: E402

from archive_parallel import ArchiveManager  # noqa: E402


@pytest.fixture
def manager():
    """A fresh manager; on teardown it is closed and no worker thread may be left."""
    m = ArchiveManager()
    try:
        yield m
    finally:
        assert_no_workers_after_close(m)


@pytest.fixture
def children_checked():
    """Fails the test when it leaves a child process behind, running or not yet reaped."""
    before = child_pids()
    yield
    left = child_pids() - before
    assert not left, f"child processes left behind: {sorted(left)}"
