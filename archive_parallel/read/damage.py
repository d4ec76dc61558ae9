"""Turning low-level decoder errors into ``CorruptArchiveError`` naming the archive and member.

zlib, bz2, lzma, tarfile, zipfile and struct each report damage their own way (and zipfile
reports an encrypted member with a bare ``RuntimeError``). ``damage_guard`` catches that family
and re-raises it as one clear ``CorruptArchiveError``; errors this package raises on purpose
(``ArchiveError`` and subclasses) pass through, and a ``CorruptArchiveError`` among them is
made to name the archive (``archive_named``): every damage message of an extraction, a
verification or a listing starts with the archive's name (``formats.archive_label``), so a
program reading several archives can tell which one is damaged.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import lzma
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Iterator

from ..errors import ArchiveError, CorruptArchiveError
from ..formats import CompressionFormat, archive_label

logger = logging.getLogger(__name__)

LOW_LEVEL_ERRORS: tuple[type[BaseException], ...] = (
    zlib.error,
    lzma.LZMAError,
    tarfile.TarError,
    zipfile.BadZipFile,
    struct.error,
    UnicodeError,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    OverflowError,
    IndexError,
    KeyError,
    RuntimeError,  # zipfile: "File ... is encrypted, password required"
)


class MemberCursor:
    """Remembers which member is being read, so a damage report can name it."""

    def __init__(self) -> None:
        self.member: str | None = None


@contextlib.contextmanager
def archive_named(archive: str, fmt: CompressionFormat) -> Iterator[None]:
    """Make a ``CorruptArchiveError`` raised inside the block name ``archive`` (read as
    ``fmt``): its ``archive_path``, and its message starting with the archive's name
    (``CorruptArchiveError.name_archive``)."""
    try:
        yield
    except CorruptArchiveError as exc:
        exc.name_archive(archive, archive_label(archive, fmt))
        raise


@contextlib.contextmanager
def damage_guard(
    archive: str, fmt: CompressionFormat, cursor: MemberCursor | None = None
) -> Iterator[None]:
    """Re-raise decoder errors met inside the block as ``CorruptArchiveError`` naming
    ``archive`` (read as ``fmt``), and the member ``cursor`` is at."""
    with archive_named(archive, fmt):
        try:
            yield
        except ArchiveError:
            raise
        except LOW_LEVEL_ERRORS as exc:
            member = cursor.member if cursor is not None else None
            logger.debug("damage in %s at member %r: %r", archive, member, exc)
            raise CorruptArchiveError(
                f"{archive_label(archive, fmt)} is damaged or not a valid archive: {_detail(exc)}",
                member,
                archive_path=archive,
            ) from exc


def _detail(exc: BaseException) -> str:
    """What went wrong, in words: a seek to a negative offset (``EINVAL``) means a record of
    the archive points before the start of the file (a zip's end records, for one)."""
    if isinstance(exc, OSError) and exc.errno == errno.EINVAL:
        return "a record points outside the file"
    return f"{type(exc).__name__}: {exc}"
