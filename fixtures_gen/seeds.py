"""Seed derivation: every random choice starts from an integer derived by hashing named parts.

Python's ``hash()`` changes with ``PYTHONHASHSEED``; BLAKE2b of a canonical UTF-8 string does
not, so ``derive_seed(seed, "large", "group", 3, "file", 17)`` is the same integer on every
platform and Python version. ``random.Random(int)`` is itself stable across CPython versions
for the calls used here (``random``, ``randrange``, ``choice``, ``choices``, ``shuffle``).
"""

from __future__ import annotations

import hashlib
import random

_SEPARATOR = "\x1f"


def derive_seed(*parts: object) -> int:
    """A 64-bit integer seed derived from ``parts`` (ints and strings) by BLAKE2b."""
    text = _SEPARATOR.join(f"{type(part).__name__}:{part}" for part in parts)
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def rng_for(*parts: object) -> random.Random:
    """A ``random.Random`` seeded with ``derive_seed(*parts)``."""
    return random.Random(derive_seed(*parts))
