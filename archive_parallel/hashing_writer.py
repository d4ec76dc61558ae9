"""The archive's SHA-256 and MD5, taken while it is written.

Every byte of a new archive passes through ``HashingWriter`` on its way to the file, so the
side file's checksums cost no second read. A zip member streamed before its CRC is known has
its header patched afterwards; for that, the writer keeps the hash state before each write
(thinned to ``MAX_HASH_STATES``), returns to the state before the patched spot on a ``seek``
back, and when the archive writer seeks to the end again hashes the bytes since then from the
file itself, so only the patched member is read twice.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import Any, BinaryIO

from .errors import ArchiveError
from .source_reader import CHUNK_SIZE

#: hash states a rewinding ``HashingWriter`` keeps at most (fewer: more is read back)
MAX_HASH_STATES = 256


class HashingWriter:
    """Passes bytes to ``out`` and hashes them on the way (SHA-256 and MD5 of the archive).

    A writer that goes back to patch what it wrote (a zip member streamed before its CRC was
    known) needs ``reread``, the path of the file ``out`` writes: a ``seek`` back returns the
    hashes to their state before the write it lands in, and when the writer seeks to the end
    again the bytes from there are read back from the file and hashed, so only the patched
    member is read twice."""

    def __init__(self, out: BinaryIO, reread: Path | None = None) -> None:
        self._out = out
        self._reread = reread
        self.sha256 = hashlib.sha256()
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.size = 0  # bytes hashed, from the start of the file
        self._position = 0
        self._end = 0
        self._hashing = True
        #: (offset, sha256, md5) before each write, to return to on a seek back
        self._states: list[tuple[int, Any, Any]] = []

    def write(self, data: bytes) -> int:
        if self._hashing:
            if self._reread is not None:
                if len(self._states) >= MAX_HASH_STATES:  # every other one: memory bounded
                    del self._states[1::2]
                self._states.append((self.size, self.sha256.copy(), self.md5.copy()))
            self.sha256.update(data)
            self.md5.update(data)
            self.size += len(data)
        written = self._out.write(data)
        self._position += len(data)
        self._end = max(self._end, self._position)
        return written

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if self._reread is None:
            raise io.UnsupportedOperation("this archive stream is written in order")
        self._position = self._out.seek(offset, whence)
        if self._hashing and self._position < self.size:
            self._hashing = False
            kept = [state for state in self._states if state[0] <= self._position]
            self.size, self.sha256, self.md5 = kept[-1] if kept else self._fresh()
            self._states = []
        elif not self._hashing and self._position == self._end:
            self._hash_back(self._end)
            self._hashing = True
        return self._position

    def flush(self) -> None:
        self._out.flush()

    def digests(self) -> tuple[str, str]:
        """Hex SHA-256 and MD5 of everything written (``out`` is flushed here)."""
        if not self._hashing:
            self._hash_back(self._end)
        return self.sha256.hexdigest(), self.md5.hexdigest()

    def _fresh(self) -> tuple[int, Any, Any]:
        return 0, hashlib.sha256(), hashlib.md5(usedforsecurity=False)

    def _hash_back(self, end: int) -> None:
        """Hash bytes ``size`` to ``end`` as they are in the file now."""
        assert self._reread is not None
        self._out.flush()
        with open(self._reread, "rb") as handle:
            handle.seek(self.size)
            while self.size < end:
                chunk = handle.read(min(CHUNK_SIZE, end - self.size))
                if not chunk:
                    raise ArchiveError(f"{self._reread} is shorter than what was written to it")
                self.sha256.update(chunk)
                self.md5.update(chunk)
                self.size += len(chunk)


__all__ = ["MAX_HASH_STATES", "HashingWriter"]
