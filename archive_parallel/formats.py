"""Archive formats: the CompressionFormat enum, name-based and magic-byte detection."""

from __future__ import annotations

import os
from enum import Enum
from pathlib import Path


class CompressionFormat(Enum):
    """The archive formats. The first three are the old class's, in its order."""

    TAR_GZ = "tar.gz"
    TAR_BZ2 = "tar.bz2"
    ZIP = "zip"
    TAR_XZ = "tar.xz"
    TAR = "tar"
    TAR_ZST = "tar.zst"

    @classmethod
    def from_extension(cls, filename: str | os.PathLike[str]) -> CompressionFormat:
        """Format from a file name, case-insensitive; unknown names give TAR_GZ (old default)."""
        return format_from_name(filename) or cls.TAR_GZ

    @property
    def is_tar(self) -> bool:
        return self is not CompressionFormat.ZIP

    @property
    def tar_compression(self) -> str:
        """The ``tarfile`` mode suffix: ``gz``, ``bz2``, ``xz``, ``zst`` or empty."""
        return _TAR_COMPRESSION[self]


_SUFFIXES: tuple[tuple[tuple[str, ...], CompressionFormat], ...] = (
    ((".tar.gz", ".tgz"), CompressionFormat.TAR_GZ),
    ((".tar.bz2", ".tbz2", ".tbz"), CompressionFormat.TAR_BZ2),
    ((".tar.xz", ".txz"), CompressionFormat.TAR_XZ),
    ((".zip",), CompressionFormat.ZIP),
    ((".tar.zst", ".tzst", ".tar.zstd"), CompressionFormat.TAR_ZST),
    ((".tar",), CompressionFormat.TAR),
)

#: every extension a format is known by, for messages
KNOWN_EXTENSIONS = tuple(suffix for suffixes, _ in _SUFFIXES for suffix in suffixes)


def format_from_name(filename: str | os.PathLike[str]) -> CompressionFormat | None:
    """The format a file's name gives (case-insensitive), or None for a name that ends in
    no known extension (``from_extension`` takes those as TAR_GZ; the CLI refuses them)."""
    name = Path(filename).name.lower()
    for suffixes, fmt in _SUFFIXES:
        if name.endswith(suffixes):
            return fmt
    return None


_TAR_COMPRESSION = {
    CompressionFormat.TAR_GZ: "gz",
    CompressionFormat.TAR_BZ2: "bz2",
    CompressionFormat.TAR_XZ: "xz",
    CompressionFormat.TAR: "",
    CompressionFormat.TAR_ZST: "zst",
    CompressionFormat.ZIP: "",
}


def detect_format(path: str | os.PathLike[str]) -> CompressionFormat | None:
    """Format from the file's first bytes, or None when they match no known format.

    Used when a file's name lies about its content. A plain tar is recognised by the
    ``ustar`` magic at offset 257.
    """
    with open(path, "rb") as handle:
        head = handle.read(512)
    return detect_format_from_bytes(head)


def detect_format_from_bytes(head: bytes) -> CompressionFormat | None:
    if head.startswith(b"\x1f\x8b"):
        return CompressionFormat.TAR_GZ
    if head.startswith(b"BZh"):
        return CompressionFormat.TAR_BZ2
    if head.startswith(b"\xfd7zXZ\x00"):
        return CompressionFormat.TAR_XZ
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        return CompressionFormat.TAR_ZST
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return CompressionFormat.ZIP
    if len(head) >= 262 and head[257:262] == b"ustar":
        return CompressionFormat.TAR
    return None


def resolve_format(path: str | os.PathLike[str]) -> CompressionFormat:
    """The format to read ``path`` as: its magic bytes when recognised, else its name."""
    try:
        detected = detect_format(path)
    except OSError:
        detected = None
    return detected if detected is not None else CompressionFormat.from_extension(path)
