"""Exceptions raised by archive_parallel.

Every one is a subclass of ``RuntimeError`` so that code written for the old sequential
ArchiveManager, which caught ``RuntimeError``, keeps catching them.
"""

from __future__ import annotations

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
