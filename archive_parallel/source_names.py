"""Which source names can be archived: exactly those that extraction reads back unchanged.

A name that extraction would refuse or change must not be archived silently: a zip reader
cannot decode a name that is not UTF-8, the side file cannot hold it, and extraction refuses
control characters, a drive prefix (``C:x``) and over-long names, and reads a backslash as a
folder separator. So before anything is written every entry is checked with the very rules
extraction applies (``safety``), plus strict UTF-8, and so is every symlink's target (it
must be relative and stay inside the archive, as extraction demands). ``"error"`` refuses the
creation with ``UnarchivableNameError`` naming the first such file; ``"skip"`` leaves each
out with a warning (a folder with everything below it).
"""

from __future__ import annotations

import logging
import os

from .display import quoted
from .entries import EntryKind, FileEntry
from .errors import UnarchivableNameError, UnsafeArchiveError
from .safety import check_link_target, is_plain_name, normalise_member_name

logger = logging.getLogger(__name__)


def _utf8_problem(text: str, what: str) -> str | None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return f"{what} is not valid UTF-8, so zip readers and the side file cannot hold it"
    return None


def unarchivable_reason(entry: FileEntry) -> str | None:
    """Why ``entry`` would not read back as it is, or None when it would."""
    name = entry.name
    if entry.kind is not EntryKind.SYMLINK and is_plain_name(name):
        return None  # extraction reads it back unchanged for certain
    problem = _utf8_problem(name, "its name")
    if problem:
        return problem
    try:
        normalised = normalise_member_name(name)
    except UnsafeArchiveError as exc:
        return f"extraction would refuse its name ({exc.reason})"
    if normalised != name:
        return (
            f"extraction would read its name as {quoted(normalised)} "
            "(a backslash separates folders in archives)"
        )
    if entry.kind is EntryKind.SYMLINK:
        problem = _utf8_problem(entry.linkname, "its link target")
        if problem:
            return problem
        try:
            check_link_target(name, entry.linkname, EntryKind.SYMLINK)
        except UnsafeArchiveError as exc:
            return f"extraction would refuse this symlink ({exc.reason})"
    return None


def screen_names(
    entries: list[FileEntry], policy: str, skipped: list[tuple[str, str]] | None = None
) -> list[FileEntry]:
    """``entries`` whose names read back unchanged; the others raise
    ``UnarchivableNameError`` (``policy="error"``) or are left out with a warning
    (``"skip"``, a folder with all it holds), each appended to ``skipped`` with why."""
    kept: list[FileEntry] = []
    skipped_dirs: list[str] = []
    for entry in entries:
        if skipped_dirs and any(entry.name.startswith(d + "/") for d in skipped_dirs):
            continue
        reason = unarchivable_reason(entry)
        if reason is None:
            kept.append(entry)
            continue
        if policy != "skip":
            raise UnarchivableNameError(os.fsdecode(entry.path), reason)
        logger.warning("skipping %s: %s", quoted(entry.path), reason)
        if skipped is not None:
            skipped.append((entry.name, reason))
        if entry.kind is EntryKind.DIR:
            skipped_dirs.append(entry.name)
    return kept


__all__ = ["screen_names", "unarchivable_reason"]
