"""ArchiveMetadata and its ``.meta`` JSON side file."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .display import quoted
from .errors import ArchiveError
from .formats import CompressionFormat
from .side_file import DEFAULT_MAX_SIDE_FILE_SIZE, SideFileError, load_side_file

logger = logging.getLogger(__name__)

META_SUFFIX = ".meta"
CREATOR = "archive_parallel"
METADATA_VERSION = "2.0"


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class ArchiveMetadata:
    """What is known about one archive; saved beside it as ``<archive>.meta``."""

    filename: str
    format: CompressionFormat
    created_at: str
    file_count: int
    uncompressed_size: int
    compressed_size: int
    checksum_sha256: str | None = None
    checksum_md5: str | None = None
    files: list[str] = field(default_factory=list)
    creator: str = CREATOR
    version: str = METADATA_VERSION
    #: new: member name -> SHA-256 of its content (regular files only); optional in the file
    file_checksums: dict[str, str] | None = None
    #: new, tar.gz only: where the restart segments are (``codecs.gzip_index``), so
    #: extraction can inflate them in parallel; optional in the file
    gzip_index: dict[str, Any] | None = None
    #: new, never saved in the side file: what ``create_archive`` left out, as
    #: ``(member name, reason)`` (over ``max_file_size``, unreadable with
    #: ``unreadable_entries="skip"``, special files...); empty for a loaded side file
    skipped: list[tuple[str, str]] = field(default_factory=list, compare=False, repr=False)
    #: new, never saved: what ``extract_archive`` wrote (files and links, and their bytes
    #: with a hard link counted once), whatever the side file it returns says; ``None``
    #: for metadata no extraction returned
    extracted_files: int | None = field(default=None, compare=False, repr=False)
    extracted_bytes: int | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "filename": self.filename,
            "format": self.format.name,
            "created_at": self.created_at,
            "file_count": self.file_count,
            "uncompressed_size": self.uncompressed_size,
            "compressed_size": self.compressed_size,
            "checksum_sha256": self.checksum_sha256,
            "checksum_md5": self.checksum_md5,
            "files": list(self.files),
            "creator": self.creator,
            "version": self.version,
        }
        if self.file_checksums is not None:
            data["file_checksums"] = dict(self.file_checksums)
        if self.gzip_index is not None:
            data["gzip_index"] = dict(self.gzip_index)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ArchiveMetadata:
        fmt = data["format"]
        fmt = CompressionFormat[fmt] if isinstance(fmt, str) else CompressionFormat(fmt)
        checksums = data.get("file_checksums")
        index = data.get("gzip_index")
        return cls(
            filename=data["filename"],
            format=fmt,
            created_at=data["created_at"],
            file_count=int(data["file_count"]),
            uncompressed_size=int(data["uncompressed_size"]),
            compressed_size=int(data["compressed_size"]),
            checksum_sha256=_lower_hex(data.get("checksum_sha256")),
            checksum_md5=_lower_hex(data.get("checksum_md5")),
            files=list(data.get("files") or []),
            creator=data.get("creator", CREATOR),
            version=data.get("version", METADATA_VERSION),
            file_checksums=(
                {name: _lower_hex(digest) for name, digest in checksums.items()}
                if isinstance(checksums, dict)
                else None
            ),
            gzip_index=dict(index) if isinstance(index, dict) else None,
        )


def _lower_hex(digest: Any) -> Any:
    """A hex digest as hashlib writes it (lower case: other tools, PowerShell's
    ``Get-FileHash`` among them, write upper case); anything else as it is."""
    return digest.lower() if isinstance(digest, str) else digest


def meta_path_for(archive_path: str | os.PathLike[str]) -> Path:
    """``pkg.tar.gz`` -> ``pkg.tar.gz.meta``."""
    path = Path(archive_path)
    return path.with_name(path.name + META_SUFFIX)


def encode_metadata(metadata: ArchiveMetadata) -> bytes:
    """The side file's bytes (UTF-8 JSON); ``ArchiveError`` naming the first member name that
    UTF-8 cannot hold (creation refuses such names before it gets here)."""
    text = json.dumps(metadata.to_dict(), indent=2, ensure_ascii=False) + "\n"
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        bad = next((n for n in metadata.files if not _is_utf8(n)), None)
        raise ArchiveError(
            f"cannot write the side file of {metadata.filename}: member name "
            f"{quoted(bad) if bad is not None else '?'} is not valid UTF-8"
        ) from None


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def load_metadata(
    archive_path: str | os.PathLike[str], max_size: int = DEFAULT_MAX_SIDE_FILE_SIZE
) -> ArchiveMetadata | None:
    """The side file's metadata, or None when there is none or it cannot be used.

    The side file is untrusted input (``side_file``): only a regular file of at most
    ``max_size`` bytes is read, and every field is checked before it is used; a side file
    that fails is ignored with a warning naming the reason."""
    target = meta_path_for(archive_path)
    try:
        data = load_side_file(target, max_size)
        return None if data is None else ArchiveMetadata.from_dict(data)
    except (SideFileError, KeyError, TypeError, ValueError, OverflowError) as exc:
        logger.warning("ignoring the side file %s: %s", target, exc)
        return None
