"""archive_parallel: a parallel, API-compatible ArchiveManager.

from archive_parallel import ArchiveManager, ArchiveConfig, ArchiveMetadata, CompressionFormat
"""

from .config import ArchiveConfig
from .errors import (
    ArchiveError,
    ArchiveLimitError,
    ChecksumMismatchError,
    CorruptArchiveError,
    SourceChangedError,
    UnarchivableNameError,
    UnreadableSourceError,
    UnsafeArchiveError,
)
from .formats import CompressionFormat
from .metadata import ArchiveMetadata

__version__ = "0.1.0"

__all__ = [
    "ArchiveConfig",
    "ArchiveError",
    "ArchiveLimitError",
    "ArchiveManager",
    "ArchiveMetadata",
    "ChecksumMismatchError",
    "CompressionFormat",
    "CorruptArchiveError",
    "SourceChangedError",
    "UnarchivableNameError",
    "UnreadableSourceError",
    "UnsafeArchiveError",
    "__version__",
]


def __getattr__(name: str):  # ArchiveManager is imported lazily to keep imports light
    if name == "ArchiveManager":
        from .manager import ArchiveManager

        return ArchiveManager
    raise AttributeError(name)
