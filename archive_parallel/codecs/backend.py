"""Choosing the deflate implementation: the standard ``zlib`` or the optional ``zlib-ng``.

``zlib_ng.zlib_ng`` is a drop-in replacement for ``zlib`` (same functions, constants and
stream format) that compresses several times faster at the same level. The library never
requires it: "auto" picks it when it is importable, "zlib-ng" insists on it, "zlib" never
uses it. Output of either is standard deflate; only the exact bytes differ between them.
"""

from __future__ import annotations

import logging
import zlib
from types import ModuleType

from ..errors import ArchiveError

logger = logging.getLogger(__name__)

BACKENDS = ("zlib", "zlib-ng", "auto")


def _import_zlib_ng() -> ModuleType | None:
    try:
        from zlib_ng import zlib_ng
    except ImportError:
        return None
    return zlib_ng


def deflate_module(backend: str = "zlib") -> ModuleType:
    """The module (``zlib`` or ``zlib_ng.zlib_ng``) to compress with for ``backend``."""
    if backend == "zlib":
        return zlib
    if backend == "zlib-ng":
        module = _import_zlib_ng()
        if module is None:
            raise ArchiveError(
                "compression_backend 'zlib-ng' was asked for but the zlib-ng package is not "
                "installed (pip install zlib-ng, or use 'zlib' or 'auto')"
            )
        return module
    if backend == "auto":
        module = _import_zlib_ng()
        return module if module is not None else zlib
    raise ValueError(f"unknown compression backend {backend!r}; expected one of {BACKENDS}")


def available_backends() -> list[str]:
    """The concrete backends usable here (always "zlib"; "zlib-ng" when installed)."""
    return ["zlib", "zlib-ng"] if _import_zlib_ng() is not None else ["zlib"]


__all__ = ["BACKENDS", "available_backends", "deflate_module"]
