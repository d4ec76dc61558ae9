"""A private scratch folder: made for one run under a folder the user names, then removed.

``private_folder(parent, prefix)`` makes a new folder ``<prefix>XXXXXXXX`` under ``parent``
(``tempfile.mkdtemp``: a name no one else holds) and removes it, with everything in it, when
the block ends: on success, on an error, on Ctrl-C and on SIGTERM (raised as an interrupt by
``sigterm_as_interrupt``). ``parent`` and its missing parents are made when they do not exist
and removed again at the end, each only while it is still empty. Nothing else is ever
removed, so whatever the user keeps under ``parent`` stays as it was.

Making and removing are ``held_interrupts`` steps: an interrupt that lands there is raised once
the step is over, so a made folder is always known, and always removed. Only a run killed
outright (SIGKILL, a power cut) leaves its folder behind, recognisable by its prefix.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from archive_parallel.interrupts import held_interrupts

from .generate import nearest_existing

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def private_folder(parent: str | os.PathLike[str], prefix: str) -> Iterator[Path]:
    """A new, empty folder ``<prefix>*`` under ``parent`` for the block, removed after it
    (see the module docstring). ``NotADirectoryError`` when ``parent`` is, or lies under, a
    file, before anything is made; the ``OSError`` of ``mkdir`` when it cannot be written,
    after the folders made so far are removed again."""
    parent = Path(parent)
    made_parents: list[Path] = []
    folder: Path | None = None
    try:
        with held_interrupts():
            _make_missing(parent, made_parents)
            folder = _make_private(parent, prefix)
        yield folder
    finally:
        with held_interrupts():
            if folder is not None:
                _remove(folder)
            for made in reversed(made_parents):
                with contextlib.suppress(OSError):  # not empty any more: someone else's now
                    made.rmdir()


def _make_missing(folder: Path, made: list[Path]) -> None:
    """Make ``folder`` and its missing parents, one at a time, outermost first, adding each to
    ``made`` as soon as it exists (so a failure halfway still leaves them known)."""
    existing = nearest_existing(folder)
    if not existing.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(folder))
    missing = [folder.absolute(), *folder.absolute().parents]
    for path in reversed(missing[: missing.index(existing)]):
        try:
            path.mkdir()
        except FileExistsError:  # a name with ``..`` in it can lead back to an existing folder
            if not path.is_dir():
                raise
        else:
            made.append(path)


def _make_private(parent: Path, prefix: str) -> Path:
    try:
        return Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    except OSError as error:  # name the folder the user gave, not the one never made
        raise type(error)(error.errno, error.strerror, str(parent)) from error


def _remove(folder: Path) -> None:
    try:
        shutil.rmtree(folder)
    except OSError as error:  # the run's outcome stands; the user learns what is left
        logger.warning("could not remove the scratch folder %s: %s", folder, error)
