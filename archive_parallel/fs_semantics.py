"""Which names a folder's file system treats as one: case and Unicode normalisation.

macOS's APFS and HFS+ are case-insensitive and normalisation-insensitive by default:
``README`` and ``readme``, or ``café`` in NFC and in NFD, are one file there (Windows and
some Linux folders fold case too). An extractor that tells members apart by their exact
spelling lets two of them land on one path: the second silently replaces the first, or slips
past a check made for the other spelling (a symlink ``Docs`` and a file ``docs/x``).

``probe_name_semantics`` asks the file system itself, once per extraction: it creates a file
whose name has a lower-case letter and an NFC ``é``, then looks it up with the letter upper
case and with the ``é`` in NFD. ``NameSemantics.key`` maps a name to what the file system
sees, so names with the same key are the same path there.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import unicodedata
from dataclasses import dataclass

from .descriptors import open_fd

PROBE_PREFIX = ".ap-fsprobe-"
_NFC_E = "\u00e9"  # é, one code point
_NFD_E = "e\u0301"  # é, e + combining acute accent


@dataclass(frozen=True, slots=True)
class NameSemantics:
    """What a folder's file system ignores when it compares two names."""

    case_insensitive: bool = False
    normalisation_insensitive: bool = False

    @property
    def folds(self) -> bool:
        return self.case_insensitive or self.normalisation_insensitive

    def key(self, name: str) -> str:
        """``name`` as this file system compares it: equal keys mean the same path."""
        if self.normalisation_insensitive:
            name = unicodedata.normalize("NFD", name)
        if self.case_insensitive:
            # casefold folds more than some file systems do (ß and ss): a stricter key only
            # refuses more, it never lets two spellings of one path through
            name = name.casefold()
            if self.normalisation_insensitive:
                name = unicodedata.normalize("NFD", name)
        return name

    def describe(self) -> str:
        ignored = [
            what
            for what, flag in (
                ("case", self.case_insensitive),
                ("Unicode normalisation", self.normalisation_insensitive),
            )
            if flag
        ]
        return "ignores " + " and ".join(ignored) if ignored else "tells every spelling apart"


CASE_SENSITIVE = NameSemantics()
#: macOS's APFS and HFS+ and Windows' NTFS as they come: case and normalisation ignored
FOLDING = NameSemantics(case_insensitive=True, normalisation_insensitive=True)


def _exists(path: str) -> bool:
    try:
        os.lstat(path)
    except OSError:
        return False
    return True


def probe_name_semantics(folder: str | os.PathLike[str]) -> NameSemantics:
    """Probe ``folder`` (which must be writable) by creating and looking up one file.

    A file system that refuses the probe's name (no Unicode names) is taken as
    case-sensitive: nothing is folded, as before."""
    token = secrets.token_hex(4)
    name = f"{PROBE_PREFIX}{token}-a{_NFC_E}"
    path = os.path.join(os.fspath(folder), name)
    try:
        # closed as soon as opened, no call in between (``open_fd``: a signal handler's
        # exception cannot leak it)
        os.close(open_fd(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except (OSError, UnicodeError):
        return CASE_SENSITIVE
    try:
        upper = os.path.join(os.fspath(folder), f"{PROBE_PREFIX}{token}-A{_NFC_E}")
        nfd = os.path.join(os.fspath(folder), f"{PROBE_PREFIX}{token}-a{_NFD_E}")
        return NameSemantics(_exists(upper), _exists(nfd))
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
