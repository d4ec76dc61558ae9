"""Choosing the inflate implementation for every reader: isal, zlib-ng or the standard zlib.

Inflating deflate data has exactly one correct output, so a faster implementation changes
speed, never bytes: readers (tar.gz streams, tar.gz index segments, zip members) take their
``decompressobj`` and ``crc32`` from ``inflate_module()``, which with "auto" (the default)
prefers ``isal.isal_zlib`` (python-isal, about twice zlib's inflate speed), then
``zlib_ng.zlib_ng``, then ``zlib``. Naming one (``ArchiveConfig.decompression_backend``)
forces it, for measurement; naming one that is not installed is a clear ``CodecUnavailableError``.
Each module raises its own error class on damage; ``inflate_errors`` lists them.
"rapidgzip" (and "auto" when it is installed) also inflates whole tar.gz files of other tools
in parallel (``codecs.parallel_gzip``); for everything else it means "auto".
"""

from __future__ import annotations

import zlib
from types import ModuleType

from ..config import DECOMPRESSION_BACKENDS
from ..errors import CodecUnavailableError
from .backend import _import_isal, _import_zlib_ng

_IMPORTERS = {"isal": _import_isal, "zlib-ng": _import_zlib_ng}


def inflate_module(backend: str = "auto") -> ModuleType:
    """The module to inflate with: one with ``zlib``'s ``decompressobj``, ``crc32`` and
    ``error``, and the same ``decompress(data, max_length)``/``unconsumed_tail`` behaviour."""
    if backend == "zlib":
        return zlib
    if backend in ("auto", "rapidgzip"):  # rapidgzip reads whole gzip files, not members
        for importer in (_import_isal, _import_zlib_ng):
            module = importer()
            if module is not None:
                return module
        return zlib
    importer = _IMPORTERS.get(backend)
    if importer is None:
        raise ValueError(
            f"unknown decompression backend {backend!r}; expected one of {DECOMPRESSION_BACKENDS}"
        )
    module = importer()
    if module is None:
        raise CodecUnavailableError(
            f"decompression_backend {backend!r} was asked for but the {backend} package is not "
            f"installed (pip install {backend}, or use 'auto' or 'zlib')"
        )
    return module


def copyable(module: ModuleType) -> ModuleType:
    """``module`` when its inflaters can be copied (``decompressobj().copy()``), else the
    fastest one that can: zlib-ng, then zlib. A gzip index segment is proven to end between
    two deflate blocks by probing copies of its inflater, and isal's cannot be copied."""
    if hasattr(module.decompressobj(-zlib.MAX_WBITS), "copy"):
        return module
    fallback = _import_zlib_ng()
    return fallback if fallback is not None else zlib


def inflate_errors(module: ModuleType) -> tuple[type[BaseException], ...]:
    """The exceptions ``module`` raises for damaged data (zlib's too, for mixed callers)."""
    error = getattr(module, "error", zlib.error)
    return (zlib.error,) if error is zlib.error else (zlib.error, error)


def inflate_name(module: ModuleType) -> str:
    """ "isal", "zlib-ng" or "zlib": which implementation ``module`` is (for logs and stats)."""
    name = module.__name__
    if name.startswith("isal"):
        return "isal"
    if name.startswith("zlib_ng"):
        return "zlib-ng"
    return "zlib"


__all__ = ["DECOMPRESSION_BACKENDS", "copyable", "inflate_errors", "inflate_module", "inflate_name"]
