"""Exceptions raised by archive_parallel.

Every one is a subclass of ``RuntimeError`` so that code written for the old sequential
ArchiveManager, which caught ``RuntimeError``, keeps catching them.
"""

from __future__ import annotations

import os

from .display import quoted


class ArchiveError(RuntimeError):
    """Base class of every error this package raises on purpose."""


class UnsafeArchiveError(ArchiveError):
    """An archive member would write outside the destination, or is a forbidden kind.

    ``member`` names the offending member, ``reason`` says why; the message shows the name
    escaped and cut to a sane length (``display.shown``).
    """

    def __init__(self, member: str, reason: str) -> None:
        self.member = member
        self.reason = reason
        super().__init__(f"unsafe archive member {quoted(member)}: {reason}")


class ArchiveLimitError(UnsafeArchiveError):
    """An archive exceeds an extraction limit (total size, member count, compression ratio)."""


class CorruptArchiveError(ArchiveError):
    """An archive is damaged, truncated or not an archive at all."""

    def __init__(self, message: str, member: str | None = None) -> None:
        self.member = member
        super().__init__(message if member is None else f"{message} (member {quoted(member)})")


class ChecksumMismatchError(CorruptArchiveError):
    """An extracted file does not match the SHA-256 recorded in the side file."""


class SourceChangedError(ArchiveError):
    """A source file changed (its size, mtime or ctime), vanished or was replaced while it
    was being archived."""


class UnarchivableNameError(ArchiveError):
    """A source file's name (or link target) cannot be archived so that it reads back the
    same (see ``ArchiveConfig.unarchivable_names``); ``path`` is the file."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"cannot archive {quoted(path)}: {reason}")


class UnreadableSourceError(ArchiveError):
    """Source entries the system would not let the walk read (no read permission, a folder
    that cannot be listed), with ``ArchiveConfig.unreadable_entries="error"``: raised before
    anything is written. ``entries`` holds each one's ``(member name, reason)``; the message
    gives their count and the first few paths."""

    #: paths the message names at most
    SHOWN = 3

    def __init__(self, source: str | os.PathLike[str], entries: list[tuple[str, str]]) -> None:
        self.source = os.fspath(source)
        self.entries = list(entries)
        count = len(self.entries)
        named = ", ".join(
            f"{quoted(self._path(name))} ({self._why(reason)})"
            for name, reason in self.entries[: self.SHOWN]
        )
        more = f" and {count - self.SHOWN} more" if count > self.SHOWN else ""
        noun = "entry" if count == 1 else "entries"
        super().__init__(f"cannot read {count} source {noun}: {named}{more}")

    def _path(self, name: str) -> str:
        return self.source if name == "." else os.path.join(self.source, name)

    @staticmethod
    def _why(reason: str) -> str:
        """``"unreadable folder: Permission denied"`` -> ``"folder: Permission denied"``."""
        text = reason.removeprefix("unreadable").lstrip(" :")
        return text or "unreadable"
