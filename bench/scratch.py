"""Where the side tools (``bench.interleaved``, ``fixed_cost``, ``file_scaling``,
``decode_lane``) write their outputs: a fresh folder under ``$ARCHIVE_BENCH_SCRATCH`` (a RAM
disk keeps the storage out of the timings) or else the system's temporary folder. Each tool
removes its folder when it is done."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def scratch_base() -> Path:
    """The scratch place of the side-by-side tools: ``ARCHIVE_BENCH_SCRATCH``, else the
    system's temporary folder."""
    return Path(os.environ.get("ARCHIVE_BENCH_SCRATCH") or tempfile.gettempdir())


def scratch_folder(tool: str) -> Path:
    """A new, empty folder ``ap-<tool>-*`` in the scratch place."""
    return Path(tempfile.mkdtemp(prefix=f"ap-{tool}-", dir=scratch_base()))
