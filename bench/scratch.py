"""Where the side tools (``bench.durability``, ``fixed_cost``, ``file_scaling``,
``decode_lane``, ``interleaved`` for ``codec_targets --measure``) write their outputs, and
saying so: a fresh folder under ``--dir`` when given, else under ``$ARCHIVE_BENCH_SCRATCH``
(a RAM disk keeps the storage out of the timings), else under the system's temporary folder.
The folder is removed however the tool's run ends (``fixtures_gen.scratch.private_folder``),
and each tool prints the place and its file system (``place_line``), so a RAM disk measured
by mistake shows."""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fixtures_gen.scratch import private_folder

SCRATCH_ENV = "ARCHIVE_BENCH_SCRATCH"
#: file systems held in memory: what is written there never reaches a storage device
RAM_FILESYSTEMS = ("tmpfs", "ramfs")


def scratch_base(chosen: Path | None = None) -> Path:
    """The scratch place of the side tools: ``chosen`` (``--dir``), else
    ``ARCHIVE_BENCH_SCRATCH``, else the system's temporary folder."""
    if chosen is not None:
        return Path(chosen)
    return Path(os.environ.get(SCRATCH_ENV) or tempfile.gettempdir())


@contextlib.contextmanager
def scratch_folder(tool: str, base: Path | None = None) -> Iterator[Path]:
    """A new, empty folder ``ap-<tool>-*`` in the scratch place (``scratch_base(base)``) for
    the block, removed after it on success, error, Ctrl-C and SIGTERM alike."""
    with private_folder(scratch_base(base), f"ap-{tool}-") as folder:
        yield folder


def add_dir_argument(parser: argparse.ArgumentParser) -> None:
    """``--dir FOLDER``, as every side tool takes it."""
    parser.add_argument(
        "--dir",
        type=Path,
        metavar="FOLDER",
        help="measure on the storage of this existing folder: the tool works in a new folder "
        f"inside it and removes it (default: ${SCRATCH_ENV}, else the system's temporary "
        "folder)",
    )


def measuring_place(
    parser: argparse.ArgumentParser, chosen: Path | None, *, announce: bool = True
) -> Path:
    """The scratch place of a tool's run (``scratch_base`` of its ``--dir``), or a usage error
    (exit 2) naming it when it is not an existing folder; with ``announce`` its
    ``place_line`` is printed first, before any work."""
    from bench.provenance import scratch_identity

    base = scratch_base(chosen)
    if not base.is_dir():
        given = "--dir" if chosen is not None else SCRATCH_ENV
        parser.error(f"{given} {base}: not an existing folder")
    if announce:
        print(place_line(scratch_identity(base)), flush=True)
    return base


def place_line(place: dict[str, Any]) -> str:
    """One line naming where a tool measures and on what file system, from its
    ``bench.provenance.scratch_identity`` (``place``, ``filesystem``)."""
    filesystem = place.get("filesystem")
    if filesystem in RAM_FILESYSTEMS:
        kind = f"{filesystem}, a RAM disk: no storage device is measured"
    else:
        kind = filesystem or "file system unknown"
    return f"measured in {place['place']} ({kind})"
