"""Names made safe to show: every message and listing line goes through ``shown``.

A member or file name comes from an archive or a file system and may hold anything: escape
sequences that rewrite the terminal line, newlines that forge a second output line, bytes
that are not UTF-8 (kept by Python as lone surrogates), or hundreds of megabytes. ``shown``
escapes every non-printable character (``\\x1b``, ``\\n``, ``\\u200e``; an undecodable byte
as ``\\xNN``) and cuts the result to ``limit`` characters, keeping both ends.
"""

from __future__ import annotations

from collections.abc import Callable

#: longest name, once escaped, that a message shows whole
NAME_LIMIT = 200

_ASCII_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r", "\\": "\\\\"}


def _escape_char(char: str) -> str:
    if char in _ASCII_ESCAPES:
        return _ASCII_ESCAPES[char]
    if char.isprintable():
        return char
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def escape(text: str) -> str:
    """``text`` with every non-printable character (and ``\\``) escaped; printable text,
    accented and non-Latin letters included, is unchanged."""
    if text.isprintable() and "\\" not in text:
        return text
    return "".join(_escape_char(char) for char in text)


def escape_to_ascii(text: str) -> str:
    """``escape(text)`` with every non-ASCII character escaped too, as ``\\uXXXX``."""
    return "".join(
        _escape_char(char) if char.isascii() or 0xDC80 <= ord(char) <= 0xDCFF else _code(char)
        for char in text
    )


def _code(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def shown(name: object, limit: int = NAME_LIMIT, escaping: Callable[[str], str] = escape) -> str:
    """``name`` escaped (by ``escaping``) and, when longer than ``limit`` characters, cut in
    the middle with a note of how much was left out."""
    text = name if isinstance(name, str) else str(name)
    if len(text) > 4 * limit:  # never escape a 200 MB name whole
        head, tail = text[: 2 * limit], text[-2 * limit :]
        left_out = len(text) - 4 * limit
    else:
        head, tail, left_out = text, "", 0
    escaped = escaping(head) + escaping(tail)
    if left_out == 0 and len(escaped) <= limit:
        return escaped
    keep = max(8, limit // 2 - 10)
    front, back = escaping(head)[:keep], escaping(tail or head)[-keep:]
    total = len(text)
    return f"{front}...[{total} characters]...{back}"


def quoted(name: object, limit: int = NAME_LIMIT) -> str:
    """``shown(name)`` in single quotes, for messages."""
    return f"'{shown(name, limit)}'"


def spelled_out(name: str, limit: int = NAME_LIMIT) -> str:
    """``quoted(name)`` with every non-ASCII character escaped too (``'cafe\\u0301'``),
    to tell apart names that look the same once shown: ``café`` composed and decomposed."""
    return f"'{shown(name, limit, escape_to_ascii)}'"


#: longest line of human output a message may make (names inside are cut already)
LINE_LIMIT = 2000


def one_line(text: str, limit: int = LINE_LIMIT) -> str:
    """``text`` as one terminal-safe line: control and other non-printable characters
    escaped (a backslash already there is left as it is), cut to ``limit`` characters."""
    if len(text) > 2 * limit:
        text = text[:limit] + text[-limit:]
    if not text.isprintable():
        text = "".join(c if c.isprintable() else _escape_char(c) for c in text)
    if len(text) > limit:
        text = text[: limit - 20] + f"...[{len(text) - limit + 20} more]"
    return text


__all__ = [
    "LINE_LIMIT",
    "NAME_LIMIT",
    "escape",
    "escape_to_ascii",
    "one_line",
    "quoted",
    "shown",
    "spelled_out",
]
