"""Deterministic, portable names: word pairs, unicode stems and very long names.

Every name is NFC-normalised and a ``NameRegistry`` refuses two paths that differ only in case
or in a file/folder clash (macOS and Windows file systems are case-insensitive), renaming the
newcomer with a numeric suffix. Names contain no characters that are illegal on Windows or that
need quoting in tar or zip (no ``\\ : * ? " < > |``), and no component exceeds 200 UTF-8 bytes.
"""

from __future__ import annotations

import posixpath
import random
import unicodedata


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


DIR_WORDS = _words(
    """
core utils models views static lib common api handlers services plugins tools internal vendor
helpers widgets assets config schemas tasks jobs io net storage cache auth admin reports locale
examples tests fixtures migrations templates scripts build dist docs data extras
"""
)

FILE_WORDS = _words(
    """
main app base client server config settings router model view form field widget parser
reader writer loader index table record entry manager worker task queue event signal hook
backend frontend session token user account profile order invoice payment product cart item
search filter sort page layout theme style image icon font color chart graph report summary
"""
)

UNICODE_STEMS = (
    "café",
    "naïve résumé",
    "Ωmega notes",
    "日本語のファイル",
    "данные отчёт",
    "Straße",
    "ελληνικά",
    "中文文档",
    "Привет мир",
    "emoji 🎉 party",
    "dépôt",
    "Ångström",
    "مرحبا",
    "한국어",
)

MAX_COMPONENT_BYTES = 200


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def word_name(rng: random.Random, extension: str) -> str:
    return f"{rng.choice(FILE_WORDS)}_{rng.choice(FILE_WORDS)}{extension}"


def unicode_name(rng: random.Random, index: int, extension: str) -> str:
    return nfc(f"{UNICODE_STEMS[index % len(UNICODE_STEMS)]} {index}{extension}")


def long_name(rng: random.Random, extension: str) -> str:
    words: list[str] = []
    while len("-".join(words)) < 150:
        words.append(rng.choice(FILE_WORDS))
    return "-".join(words)[:160] + extension


def dir_component(rng: random.Random, level: int, fanout: int) -> str:
    return DIR_WORDS[(level * 7 + rng.randrange(fanout)) % len(DIR_WORDS)]


class NameRegistry:
    """Every path planned so far, keyed case-insensitively, so new ones never clash."""

    def __init__(self) -> None:
        self._files: set[str] = set()
        self._dirs: set[str] = {""}
        self.dirs: list[str] = []

    @staticmethod
    def _key(path: str) -> str:
        return nfc(path).casefold()

    def can_be_dir(self, path: str) -> bool:
        """True when ``path`` and its parents clash with no file."""
        parts = path.split("/") if path else []
        return all(
            self._key("/".join(parts[:end])) not in self._files for end in range(1, len(parts) + 1)
        )

    def add_dir(self, path: str) -> None:
        path = nfc(path)
        parts: list[str] = []
        for part in path.split("/") if path else []:
            parts.append(part)
            prefix = "/".join(parts)
            key = self._key(prefix)
            if key not in self._dirs:
                self._dirs.add(key)
                self.dirs.append(prefix)

    def add_file(self, folder: str, name: str) -> str:
        """Register ``folder/name`` (renamed ``stem-2.ext``... on a clash); return its path."""
        name = _truncate(nfc(name))
        stem, extension = _split_extension(name)
        candidate = name
        number = 1
        while True:
            path = posixpath.join(folder, candidate) if folder else candidate
            key = self._key(path)
            if key not in self._files and key not in self._dirs:
                break
            number += 1
            candidate = f"{stem}-{number}{extension}"
        self.add_dir(folder)
        self._files.add(key)
        return path

    def has_dir(self, path: str) -> bool:
        return self._key(path) in self._dirs


def _split_extension(name: str) -> tuple[str, str]:
    if name.startswith(".") and name.count(".") == 1:
        return name, ""
    stem, dot, rest = name.partition(".")
    return (stem, dot + rest) if dot else (name, "")


def _truncate(name: str) -> str:
    while len(name.encode("utf-8")) > MAX_COMPONENT_BYTES:
        name = name[:-1]
    return name
