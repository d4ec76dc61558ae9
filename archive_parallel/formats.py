"""Archive formats: the CompressionFormat enum, name-based and magic-byte detection.

``resolve_format`` tells what to read a file as: its magic bytes decide, else its name. A
file that either says is in a format no reader here reads (lz4, lzip, lzma, Unix compress,
lzop, 7z, RAR) is refused as such (``UnsupportedArchiveError``), not read as a tar.gz, the
default for an unknown name, and reported as damaged gzip data.
"""

from __future__ import annotations

import os
from enum import Enum
from pathlib import Path

from .display import shown
from .errors import UnsupportedArchiveError


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


def archive_label(path: str | os.PathLike[str], fmt: CompressionFormat) -> str:
    """How a damage message names the archive: ``"bad.tar.gz (tar.gz)"``, its file name and
    the format it is read as."""
    return f"{os.path.basename(path)} ({fmt.value})"


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


#: every format read here, for messages: ``"tar, tar.bz2, tar.gz, tar.xz, tar.zst, zip"``
READ_FORMATS = ", ".join(sorted(fmt.value for fmt in CompressionFormat))

#: formats no reader here reads: what a file in one is (for messages), the magic bytes it
#: starts with, and the extensions its name ends with (lowercase)
_UNSUPPORTED: tuple[tuple[str, tuple[bytes, ...], tuple[str, ...]], ...] = (
    ("lz4-compressed", (b"\x04\x22\x4d\x18", b"\x02\x21\x4c\x18"), (".lz4", ".tlz4")),
    ("lzip-compressed", (b"LZIP",), (".lz", ".tlz")),
    ("lzma-compressed", (b"\x5d\x00\x00",), (".lzma", ".tlzma")),
    ("compressed with Unix compress", (b"\x1f\x9d",), (".z", ".taz")),
    ("lzop-compressed", (b"\x89LZO\x00\r\n\x1a\n",), (".lzo", ".tzo")),
    ("a 7z archive", (b"7z\xbc\xaf\x27\x1c",), (".7z",)),
    ("a RAR archive", (b"Rar!\x1a\x07",), (".rar",)),
)


def detect_format(path: str | os.PathLike[str]) -> CompressionFormat | None:
    """Format from the file's first bytes, or None when they match no known format.

    Used when a file's name lies about its content. A plain tar is recognised by the
    ``ustar`` magic at offset 257.
    """
    return detect_format_from_bytes(_head(path))


def _head(path: str | os.PathLike[str]) -> bytes:
    """The first bytes of the file, as many as detection looks at."""
    with open(path, "rb") as handle:
        return handle.read(512)


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
    """The format to read ``path`` as: its magic bytes when recognised, else its name.

    ``UnsupportedArchiveError`` when its magic bytes, or else its name, say it is in a
    format no reader here reads: the message names that format and the ones that are read."""
    try:
        head = _head(path)
    except OSError:
        head = b""
    detected = detect_format_from_bytes(head)
    if detected is not None:
        return detected
    what = _unsupported_format(head, path)
    if what is not None:
        raise UnsupportedArchiveError(
            f"{shown(os.path.basename(path))} is {what}: "
            f"not a format this library reads ({READ_FORMATS})"
        )
    return CompressionFormat.from_extension(path)


def unsupported_by_name(filename: str | os.PathLike[str]) -> str | None:
    """What format ``filename``'s extension names when it is one no writer or reader here
    handles (``"lz4-compressed"``, ``"a 7z archive"``), else None."""
    return _unsupported_format(b"", filename)


def _unsupported_format(head: bytes, filename: str | os.PathLike[str]) -> str | None:
    """What a file whose first bytes ``head`` match no format read here is, when its magic
    bytes or else its name say a format no reader here reads (``"lz4-compressed"``, ``"a 7z
    archive"``); None when neither says so."""
    for what, magics, _ in _UNSUPPORTED:
        if head.startswith(magics):
            return what
    name = Path(filename).name.lower()
    for what, _, suffixes in _UNSUPPORTED:
        if name.endswith(suffixes):
            return what
    return None
