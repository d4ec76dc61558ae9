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


class CodecUnavailableError(ArchiveError):
    """An archive needs an optional package that is not installed: Zstandard support for a
    tar.zst, or a compression or decompression backend asked for by name. Not damage: the
    message says what to install."""


class CorruptArchiveError(ArchiveError):
    """An archive is damaged, truncated or not an archive at all.

    ``member`` names the member to blame, when there is one; ``archive_path`` is the damaged
    archive's path once known (extraction, verification and listing name it: ``name_archive``),
    and the message then starts with the archive's name."""

    def __init__(
        self,
        message: str,
        member: str | None = None,
        *,
        archive_path: str | os.PathLike[str] | None = None,
    ) -> None:
        self.member = member
        self.archive_path = os.fspath(archive_path) if archive_path is not None else None
        super().__init__(message if member is None else f"{message} (member {quoted(member)})")

    def name_archive(self, archive_path: str | os.PathLike[str], label: str) -> None:
        """Record which archive is damaged and start the message with ``label``
        (``formats.archive_label``), unless it already starts with the archive's path or
        file name."""
        path = os.fspath(archive_path)
        if self.archive_path is None:
            self.archive_path = path
        message = str(self)
        names = (path, os.path.basename(path))
        if not message.startswith(tuple(f"{name}{end}" for name in names for end in " :")):
            self.args = (f"{label}: {message}",)


class UnsupportedArchiveError(CorruptArchiveError):
    """An archive in a format this library does not read (lz4, lzip, lzma, 7z, RAR...), or a
    zip member compressed with a method it does not read (Deflate64, PPMd, XZ...) or
    encrypted. Not damage: the message says what it is and what to do instead. A
    ``CorruptArchiveError`` all the same, as these were refused before, so every handler of
    that still catches it (and verification still returns False). ``member`` names the zip
    member to blame, None for a whole archive; the message already names it."""

    def __init__(
        self,
        message: str,
        member: str | None = None,
        *,
        archive_path: str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__(message, archive_path=archive_path)  # the message names the member
        self.member = member


class ChecksumMismatchError(CorruptArchiveError):
    """An extracted file does not match the SHA-256 recorded in the side file."""


class SourceChangedError(ArchiveError):
    """A source file changed (its size, mtime or ctime), vanished or was replaced while it
    was being archived."""


class UnarchivableNameError(ArchiveError):
    """Source files whose names (or link targets) cannot be archived so that they read back
    the same (see ``ArchiveConfig.unarchivable_names``), found before anything is written.

    ``entries`` holds every one as ``(member name, reason)``, in walk order, member names
    relative to ``source``; ``path`` (the file's path) and ``reason`` are the first one's.
    The message names the one, or gives their count and the first few paths.
    ``unarchivable`` is ``entries`` and ``unreadable`` is empty, as in every refusal of
    source entries (``UnreadableAndUnarchivableError`` has both).
    """

    #: paths the message names at most
    SHOWN = 3

    def __init__(
        self,
        path: str,
        reason: str,
        *,
        source: str | os.PathLike[str] | None = None,
        entries: list[tuple[str, str]] | None = None,
    ) -> None:
        self.path = path
        self.reason = reason
        self.source = os.fspath(source) if source is not None else None
        self.entries = list(entries) if entries else [(path, reason)]
        self.unarchivable = list(self.entries)
        self.unreadable: list[tuple[str, str]] = []
        if len(self.entries) == 1:
            super().__init__(f"cannot archive {quoted(path)}: {reason}")
        else:
            super().__init__(self._cannot_archive(self.source, self.entries))

    @classmethod
    def _cannot_archive(cls, source: str | None, entries: list[tuple[str, str]]) -> str:
        """``"cannot archive 5 source entries: ..."``: their count and the first few."""
        named = [(_source_path(source, n), why) for n, why in entries]
        return _count_and_first("cannot archive", named, cls.SHOWN)


class UnreadableSourceError(ArchiveError):
    """Source entries the system would not let the walk read (no read permission, a folder
    that cannot be listed), with ``ArchiveConfig.unreadable_entries="error"``: raised before
    anything is written. ``entries`` holds each one's ``(member name, reason)``; the message
    gives their count and the first few paths. ``unreadable`` is ``entries`` and
    ``unarchivable`` is empty, as in every refusal of source entries
    (``UnreadableAndUnarchivableError`` has both)."""

    #: paths the message names at most
    SHOWN = 3

    def __init__(self, source: str | os.PathLike[str], entries: list[tuple[str, str]]) -> None:
        self.source = os.fspath(source)
        self.entries = list(entries)
        self.unreadable = list(self.entries)
        self.unarchivable: list[tuple[str, str]] = []
        super().__init__(self._cannot_read(self.source, self.entries))

    @classmethod
    def _cannot_read(cls, source: str, entries: list[tuple[str, str]]) -> str:
        """``"cannot read 5 source entries: ..."``: their count and the first few."""
        named = [(_source_path(source, n), cls._why(why)) for n, why in entries]
        return _count_and_first("cannot read", named, cls.SHOWN)

    @staticmethod
    def _why(reason: str) -> str:
        """``"unreadable folder: Permission denied"`` -> ``"folder: Permission denied"``."""
        text = reason.removeprefix("unreadable").lstrip(" :")
        return text or "unreadable"


class UnreadableAndUnarchivableError(UnarchivableNameError, UnreadableSourceError):
    """A creation that met both: entries it cannot read (``unreadable_entries="error"``) and
    names it cannot archive (``unarchivable_names="error"``), all refused in one error before
    anything is written. Being both, it is caught by ``except UnreadableSourceError`` and by
    ``except UnarchivableNameError``.

    ``unreadable`` and ``unarchivable`` hold each kind's ``(member name, reason)``;
    ``entries`` holds all of them, the unreadable first (their reasons start with
    ``"unreadable"``). ``path`` and ``reason`` are the first unarchivable entry's, as
    ``UnarchivableNameError`` gives them. The message names both kinds, each with its count
    and first few paths: ``"cannot read 1 source entry: ...; cannot archive 2 source
    entries: ..."``.
    """

    def __init__(
        self,
        source: str | os.PathLike[str],
        unreadable: list[tuple[str, str]],
        unarchivable: list[tuple[str, str]],
        *,
        path: str | None = None,
    ) -> None:
        if not unreadable or not unarchivable:
            raise ValueError("UnreadableAndUnarchivableError needs entries of both kinds")
        self.source = os.fspath(source)
        self.unreadable = list(unreadable)
        self.unarchivable = list(unarchivable)
        self.entries = self.unreadable + self.unarchivable
        first, self.reason = self.unarchivable[0]
        self.path = path if path is not None else _source_path(self.source, first)
        read = UnreadableSourceError._cannot_read(self.source, self.unreadable)
        archive = UnarchivableNameError._cannot_archive(self.source, self.unarchivable)
        ArchiveError.__init__(self, f"{read}; {archive}")


def _source_path(source: str | None, name: str) -> str:
    """The path of the member ``name`` under ``source`` (``"."`` is the folder itself)."""
    if source is None:
        return name
    return source if name == "." else os.path.join(source, name)


def _count_and_first(action: str, entries: list[tuple[str, str]], shown: int) -> str:
    """One line for source entries refused together, from their ``(path, why)``:
    ``"<action> 5 source entries: 'a' (why), 'b' (why), 'c' (why) and 2 more"``."""
    count = len(entries)
    named = ", ".join(f"{quoted(path)} ({why})" for path, why in entries[:shown])
    more = f" and {count - shown} more" if count > shown else ""
    noun = "entry" if count == 1 else "entries"
    return f"{action} {count} source {noun}: {named}{more}"
