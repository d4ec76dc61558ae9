"""archive_parallel: a parallel, API-compatible ArchiveManager.

from archive_parallel import ArchiveManager, ArchiveConfig, ArchiveMetadata, CompressionFormat

The public names are imported on first use (PEP 562 ``__getattr__``), so importing the
package alone costs next to nothing: the command line's entry point (``cli.main``) is then
running, and turns Ctrl-C into its one-line message, before the library's modules load.
``from archive_parallel import X``, ``archive_parallel.X`` and ``import *`` work as before, and
so does reaching a submodule as an attribute (``archive_parallel.errors``).
"""

from __future__ import annotations

import importlib

#: ``typing.TYPE_CHECKING`` without importing typing (type checkers take it as True)
TYPE_CHECKING = False

__version__ = "0.1.0"

#: public name -> the submodule that defines it
_EXPORTS = {
    "ArchiveConfig": "config",
    "ArchiveError": "errors",
    "ArchiveLimitError": "errors",
    "ArchiveManager": "manager",
    "ArchiveMetadata": "metadata",
    "ChecksumMismatchError": "errors",
    "CodecUnavailableError": "errors",
    "CompressionFormat": "formats",
    "CorruptArchiveError": "errors",
    "SourceChangedError": "errors",
    "UnarchivableNameError": "errors",
    "UnreadableAndUnarchivableError": "errors",
    "UnreadableSourceError": "errors",
    "UnsafeArchiveError": "errors",
    "UnsupportedArchiveError": "errors",
}

__all__ = [
    "ArchiveConfig",
    "ArchiveError",
    "ArchiveLimitError",
    "ArchiveManager",
    "ArchiveMetadata",
    "ChecksumMismatchError",
    "CodecUnavailableError",
    "CompressionFormat",
    "CorruptArchiveError",
    "SourceChangedError",
    "UnarchivableNameError",
    "UnreadableAndUnarchivableError",
    "UnreadableSourceError",
    "UnsafeArchiveError",
    "UnsupportedArchiveError",
    "__version__",
]

if TYPE_CHECKING:  # what type checkers and editors see; at run time __getattr__ imports them
    from typing import Any

    from .config import ArchiveConfig
    from .errors import (
        ArchiveError,
        ArchiveLimitError,
        ChecksumMismatchError,
        CodecUnavailableError,
        CorruptArchiveError,
        SourceChangedError,
        UnarchivableNameError,
        UnreadableAndUnarchivableError,
        UnreadableSourceError,
        UnsafeArchiveError,
        UnsupportedArchiveError,
    )
    from .formats import CompressionFormat
    from .manager import ArchiveManager
    from .metadata import ArchiveMetadata


def __getattr__(name: str) -> Any:
    """A public name, imported from its submodule on first use; or a submodule itself."""
    module = _EXPORTS.get(name)
    if module is not None:
        value = getattr(importlib.import_module(f".{module}", __name__), name)
        globals()[name] = value
        return value
    if not name.startswith("_"):
        try:
            return importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
