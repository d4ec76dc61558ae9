"""pytest set-up for the reliability tests: makes ``reliability_support`` importable and
provides the ``manager`` fixture (closed on teardown, with no worker thread left)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reliability_support import assert_no_workers_after_close  # noqa: E402

from archive_parallel import ArchiveManager  # noqa: E402


@pytest.fixture
def manager():
    """A fresh manager; on teardown it is closed and no worker thread may be left."""
    m = ArchiveManager()
    try:
        yield m
    finally:
        assert_no_workers_after_close(m)
