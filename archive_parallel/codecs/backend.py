"""Choosing the deflate implementation: the standard ``zlib``, ``zlib-ng`` or ``isal``.

``zlib_ng.zlib_ng`` is a drop-in replacement for ``zlib`` (same functions, constants and
stream format) that compresses several times faster at the same level. ``isal.isal_zlib``
(Intel's ISA-L) compresses faster still, with only four levels (0-3) and somewhat larger
output; ``IsalDeflate`` maps the usual 0-9 scale onto them (``ISAL_LEVELS``) and keeps level
0 as stored blocks through ``zlib``, so level 0 means "no compression" whatever the backend.
The library never requires either: "auto" picks zlib-ng when it is importable (never trading
size for speed), "zlib-ng" and "isal" insist on theirs, "zlib" never uses another. Output of
any of them is standard deflate; only the exact bytes differ between them.
"""

from __future__ import annotations

import logging
import zlib
from types import ModuleType
from typing import Any

from ..errors import CodecUnavailableError

logger = logging.getLogger(__name__)

BACKENDS = ("zlib", "zlib-ng", "isal", "auto")

#: isal's level (0-3) for each level of the 0-9 scale; level 0 stays stored (through zlib)
ISAL_LEVELS = (0, 0, 0, 1, 1, 1, 2, 2, 3, 3)


def _import_zlib_ng() -> ModuleType | None:
    try:
        from zlib_ng import zlib_ng
    except ImportError:
        return None
    return zlib_ng


def _import_isal() -> ModuleType | None:
    try:
        from isal import isal_zlib
    except ImportError:
        return None
    return isal_zlib


class IsalDeflate:
    """The parts of the ``zlib`` interface the writers use, on isal with mapped levels."""

    error = zlib.error

    def __init__(self, isal_zlib: ModuleType) -> None:
        self._isal = isal_zlib
        self.crc32 = isal_zlib.crc32

    def compressobj(
        self, level: int, method: int = zlib.DEFLATED, wbits: int = -15, zdict: Any = None
    ) -> Any:
        if level == 0:
            return zlib.compressobj(0, method, wbits)
        extra = {"zdict": zdict} if zdict is not None and len(zdict) else {}
        return self._isal.compressobj(ISAL_LEVELS[level], method, wbits, **extra)

    def compress(self, data: Any, level: int = 6, wbits: int = -15) -> bytes:
        if level == 0:
            return zlib.compress(data, 0, wbits)
        return self._isal.compress(data, ISAL_LEVELS[level], wbits)


def _missing(package: str) -> CodecUnavailableError:
    return CodecUnavailableError(
        f"compression_backend {package!r} was asked for but the {package} package is not "
        f"installed (pip install {package}, or use 'zlib' or 'auto')"
    )


def deflate_module(backend: str = "zlib") -> Any:
    """What to compress with for ``backend``: ``zlib``, ``zlib_ng.zlib_ng`` or an
    ``IsalDeflate`` (each has ``compressobj``, ``compress`` and ``crc32``)."""
    if backend == "zlib":
        return zlib
    if backend == "zlib-ng":
        module = _import_zlib_ng()
        if module is None:
            raise _missing("zlib-ng")
        return module
    if backend == "isal":
        isal = _import_isal()
        if isal is None:
            raise _missing("isal")
        return IsalDeflate(isal)
    if backend == "auto":
        module = _import_zlib_ng()
        return module if module is not None else zlib
    raise ValueError(f"unknown compression backend {backend!r}; expected one of {BACKENDS}")


def available_backends() -> list[str]:
    """The concrete backends usable here (always "zlib"; others when installed)."""
    found = ["zlib"]
    if _import_zlib_ng() is not None:
        found.append("zlib-ng")
    if _import_isal() is not None:
        found.append("isal")
    return found


__all__ = ["BACKENDS", "ISAL_LEVELS", "IsalDeflate", "available_backends", "deflate_module"]
