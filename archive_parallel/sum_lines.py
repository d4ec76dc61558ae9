"""Lines as ``sha256sum`` and ``md5sum`` print them, so that their ``-c`` checks them:
``<hex>  <name>``, one per file.

A name holding a backslash, a newline or a carriage return is escaped as GNU coreutils
escapes it (``\\\\``, ``\\n``, ``\\r``) and its line starts with a backslash; every other byte
of the name is written as it is, bytes that are not UTF-8 included (the line is bytes, from
``os.fsencode``). On a terminal the lines are for eyes, not for ``-c``: whatever else would act
on the terminal (escape sequences and other control characters, bytes that are not UTF-8) is
shown escaped (``display``), as ``ls`` does there.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from .display import escape

#: what coreutils escapes in a name, and how
_ESCAPES = ((b"\\", b"\\\\"), (b"\n", b"\\n"), (b"\r", b"\\r"))


def sum_line(digest: str, name: str) -> bytes:
    """``<digest>  <name>`` exactly as ``sha256sum`` (or ``md5sum``) prints it."""
    raw = os.fsencode(name)
    if not any(char in raw for char, _ in _ESCAPES):
        return digest.encode("ascii") + b"  " + raw
    for char, escaped in _ESCAPES:
        raw = raw.replace(char, escaped)
    return b"\\" + digest.encode("ascii") + b"  " + raw


def _for_terminal(line: bytes) -> bytes:
    text = line.decode("utf-8", "surrogateescape")
    if text.isprintable():
        return line
    return "".join(c if c.isprintable() else escape(c) for c in text).encode("utf-8")


def sum_lines(sums: Iterable[tuple[str, str]], terminal: bool = False) -> bytes:
    """The lines of ``(digest, name)`` pairs, in order, joined by newlines (none after the
    last); with ``terminal``, what would act on a terminal escaped."""
    lines = (sum_line(digest, name) for digest, name in sums)
    return b"\n".join(_for_terminal(line) if terminal else line for line in lines)


__all__ = ["sum_line", "sum_lines"]
