"""Deterministic test data and tool checks for the codecs tests (imported via conftest's
sys.path entry; the name is unique so it cannot clash with other test folders)."""

from __future__ import annotations

import random
import shutil

import pytest

WORDS = (
    "archive",
    "parallel",
    "deflate",
    "block",
    "stream",
    "window",
    "worker",
    "thread",
    "zlib",
    "gzip",
    "bzip2",
    "xz",
    "tar",
    "zip",
    "member",
    "header",
    "crc",
    "size",
    "level",
    "backend",
    "config",
    "deploy",
    "package",
    "raspberry",
    "pi",
    "file",
    "folder",
)


def text_bytes(size: int, seed: int = 1) -> bytes:
    """Compressible, log-like text of exactly ``size`` bytes."""
    rng = random.Random(seed)
    lines = []
    total = 0
    while total < size:
        line = f"{rng.randrange(10**6):06d} " + " ".join(rng.choices(WORDS, k=12)) + "\n"
        lines.append(line)
        total += len(line)
    return "".join(lines).encode()[:size]


def random_bytes(size: int, seed: int = 2) -> bytes:
    return random.Random(seed).randbytes(size)


def mixed_bytes(size: int, seed: int = 3) -> bytes:
    """Two thirds text, one third incompressible."""
    text = size * 2 // 3
    return text_bytes(text, seed) + random_bytes(size - text, seed + 1)


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed")
    return path


def write_tar_member(fileobj, name: str, payload: bytes) -> None:
    """A one-member tar stream written through ``fileobj`` (a compressed stream writer)."""
    import io
    import tarfile

    with tarfile.open(fileobj=fileobj, mode="w|") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
