"""Reading a ``.meta`` side file as untrusted input: regular files only, bounded, validated.

Whoever can write next to an archive can write its side file, so it is read like hostile input
before a single number in it is used:

* ``read_side_file`` reads it as ``small_file.read_small_file`` reads any file put in the way:
  without blocking (opening a FIFO cannot hang), a regular file only, at most ``max_size``
  bytes.
* ``parse_side_file`` first counts JSON containers, strings and separators (outside strings)
  (each bounded per byte of input, so the parsed objects take a bounded multiple of the
  file's size), refuses ``NaN``, ``Infinity``, non-finite or overlong numbers and nesting the
  JSON parser cannot follow, then ``validate_side_file`` checks every known field's type and
  range. The ``gzip_index`` hint is only checked for its shape here; its numbers are checked
  against the archive by ``codecs.gzip_index``.

Every refusal is a ``SideFileError`` (a ``ValueError``) with a one-line reason; callers ignore
such a side file with a warning (it holds hints and checksums; the archive is still read).
"""

from __future__ import annotations

import json
import math
import os
import re
from typing import Any

from .formats import CompressionFormat
from .small_file import SmallFileError, read_small_file

MiB = 1024 * 1024
#: side files larger than this are not read (``ArchiveConfig.max_side_file_size``)
DEFAULT_MAX_SIDE_FILE_SIZE = 32 * MiB
#: no number in a side file is larger than this (a file of 4 EiB)
MAX_NUMBER = 1 << 62
_MAX_DIGITS = 19
#: allowances per byte of input, with a fixed floor for small files
_FLOOR = 1024
_BYTES_PER_CONTAINER = 16
_BYTES_PER_STRING = 8
_BYTES_PER_SEPARATOR = 4

#: a JSON string, escapes included (the unrolled form: linear time, no backtracking)
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_HEX32 = re.compile(r"[0-9a-fA-F]{32}")
_FORMAT_NAMES = frozenset(fmt.name for fmt in CompressionFormat)


class SideFileError(ValueError):
    """The side file is not a regular file, too large, or not a valid side file."""


def read_side_file(path: str | os.PathLike[str], max_size: int) -> bytes | None:
    """The side file's bytes, or None when there is none; ``SideFileError`` when it is not a
    regular file or holds more than ``max_size`` bytes (``small_file.read_small_file``)."""
    try:
        return read_small_file(path, max_size, "max_side_file_size")
    except SmallFileError as exc:
        raise SideFileError(str(exc)) from None


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_DIGITS:
        raise SideFileError(f"a number with more than {_MAX_DIGITS} digits")
    return int(text)


def _finite_float(text: str) -> float:
    if len(text) > 40:
        raise SideFileError("an overlong number")
    value = float(text)
    if not math.isfinite(value):
        raise SideFileError("a number out of range")
    return value


def _no_constant(name: str) -> Any:
    raise SideFileError(f"{name} is not a number")


def _check_shape(raw: bytes) -> None:
    """Refuse input whose JSON would take far more memory than its size (``[[],[],...]``,
    ``["","",...]``, ``[0,0,...]``): counted with ``bytes.count``, before parsing. Only when
    a count passes its bound are the strings' own characters taken out of it (a member named
    ``{{a}}/[b]/c,d`` is text, not structure), one string at a time."""
    size = len(raw)
    counts = (raw.count(b"[") + raw.count(b"{"), raw.count(b'"') // 2, raw.count(b","))
    if _over_bounds(counts, size) is None:
        return
    containers, separators, strings = counts[0], counts[2], 0
    for match in _STRING.finditer(raw):
        text = match.group()
        strings += 1
        containers -= text.count(b"[") + text.count(b"{")
        separators -= text.count(b",")
    problem = _over_bounds((containers, strings, separators), size)
    if problem is not None:
        raise SideFileError(problem)


def _over_bounds(counts: tuple[int, int, int], size: int) -> str | None:
    """Which count of (containers, strings, separators) passes its bound for ``size``."""
    for count, per, what in zip(
        counts,
        (_BYTES_PER_CONTAINER, _BYTES_PER_STRING, _BYTES_PER_SEPARATOR),
        ("arrays and objects", "strings", "values"),
    ):
        if count > _FLOOR + size // per:
            return f"too many {what} for its size ({count} in {size} bytes)"
    return None


def parse_side_file(raw: bytes) -> dict[str, Any]:
    """The side file's validated content (see ``validate_side_file``)."""
    _check_shape(raw)
    try:
        data = json.loads(
            raw,
            parse_int=_bounded_int,
            parse_float=_finite_float,
            parse_constant=_no_constant,
        )
    except SideFileError:
        raise
    except RecursionError:
        raise SideFileError("nested too deeply") from None
    except (ValueError, UnicodeError) as exc:
        raise SideFileError(f"not valid JSON: {str(exc)[:200]}") from None
    return validate_side_file(data)


def _whole(data: dict[str, Any], key: str, required: bool = True) -> None:
    value = data.get(key)
    if value is None and not required:
        return
    if type(value) is not int or not 0 <= value <= MAX_NUMBER:
        raise SideFileError(f"{key} is not a whole number from 0 to 2^62")


def _text(data: dict[str, Any], key: str, required: bool = False) -> None:
    value = data.get(key)
    if value is None and not required:
        return
    if not isinstance(value, str):
        raise SideFileError(f"{key} is not a string")


def _digest(data: dict[str, Any], key: str, pattern: re.Pattern[str]) -> None:
    value = data.get(key)
    if value is not None and not (isinstance(value, str) and pattern.fullmatch(value)):
        raise SideFileError(f"{key} is not a hexadecimal digest")


def validate_side_file(data: object) -> dict[str, Any]:
    """Check every known field's type and range; ``SideFileError`` naming the first bad one.

    Unknown keys are kept (newer writers may add some); the gzip index is only checked to be
    an object here."""
    if not isinstance(data, dict):
        raise SideFileError("not a JSON object")
    for key in ("filename", "format", "created_at"):
        _text(data, key, required=True)
    if data["format"] not in _FORMAT_NAMES:
        raise SideFileError(f"unknown format {data['format'][:40]!r}")
    for key in ("file_count", "uncompressed_size", "compressed_size"):
        _whole(data, key)
    for key in ("creator", "version"):
        _text(data, key)
    _digest(data, "checksum_sha256", _HEX64)
    _digest(data, "checksum_md5", _HEX32)
    files = data.get("files")
    if files is not None and not (
        isinstance(files, list) and all(isinstance(name, str) for name in files)
    ):
        raise SideFileError("files is not a list of names")
    checksums = data.get("file_checksums")
    if checksums is not None and not (
        isinstance(checksums, dict)
        and all(isinstance(v, str) and _HEX64.fullmatch(v) for v in checksums.values())
    ):
        raise SideFileError("file_checksums is not a map of names to SHA-256 digests")
    index = data.get("gzip_index")
    if index is not None and not isinstance(index, dict):
        raise SideFileError("gzip_index is not an object")
    return data


def load_side_file(path: str | os.PathLike[str], max_size: int) -> dict[str, Any] | None:
    """Read and validate ``path``; None when it does not exist, ``SideFileError`` when bad."""
    raw = read_side_file(path, max_size)
    return None if raw is None else parse_side_file(raw)


__all__ = [
    "DEFAULT_MAX_SIDE_FILE_SIZE",
    "SideFileError",
    "load_side_file",
    "parse_side_file",
    "read_side_file",
    "validate_side_file",
]
